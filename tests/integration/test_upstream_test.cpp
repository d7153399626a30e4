// The test upstream's behaviours, observed over real sockets the way proxy tests observe them.
#include "tests/support/test_upstream.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/http_client.h"

extern char** environ;

namespace hermes::test {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Pair;
using ::testing::StartsWith;

constexpr milliseconds kTimeout(5000);

class TestUpstreamTest : public ::testing::Test {
 protected:
  // Requests end with Connection: close so the exchange ends when the upstream closes.
  std::string Exchange(const std::string& request) {
    return RawExchange("127.0.0.1", upstream_.port(), request, kTimeout);
  }

  std::string Get(const std::string& target) {
    return Exchange("GET " + target + " HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
  }

  TestUpstream upstream_{{.name = "alpha"}};
};

TEST_F(TestUpstreamTest, RootAnswersHelloWithItsName) {
  const auto responses = ParseResponses(Get("/"));

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].body, "hello from upstream alpha\n");
  EXPECT_EQ(responses[0].Header("Content-Length"), "26");
  EXPECT_EQ(responses[0].Header("Content-Type"), "text/plain");
  EXPECT_EQ(responses[0].Header("X-Upstream"), "alpha");
}

TEST_F(TestUpstreamTest, UnknownPathAnswersHello) {
  const auto responses = ParseResponses(Get("/some/where?x=1"));

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].body, "hello from upstream alpha\n");
}

TEST_F(TestUpstreamTest, AddressIsLoopbackAndTheBoundPort) {
  EXPECT_NE(upstream_.port(), 0);
  EXPECT_EQ(upstream_.address(), "127.0.0.1:" + std::to_string(upstream_.port()));
}

TEST_F(TestUpstreamTest, CountsRequestsAndConnections) {
  Exchange(
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
      "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  Get("/health");

  EXPECT_EQ(upstream_.requests_seen(), 3u);
  EXPECT_EQ(upstream_.connections_accepted(), 2u);
}

TEST_F(TestUpstreamTest, LastRequestRecordsHeadHeadersInOrderAndBodySize) {
  Exchange(
      "POST /echo?x=1 HTTP/1.1\r\nHost: a\r\nX-B: 2\r\nX-A: 1\r\nContent-Length: 4\r\n"
      "Connection: close\r\n\r\nbody");

  const auto recorded = upstream_.last_request();
  ASSERT_TRUE(recorded.has_value());
  EXPECT_EQ(recorded->method, "POST");
  EXPECT_EQ(recorded->target, "/echo?x=1");
  EXPECT_EQ(recorded->version, 11);
  EXPECT_THAT(recorded->headers,
              ElementsAre(Pair("Host", "a"), Pair("X-B", "2"), Pair("X-A", "1"),
                          Pair("Content-Length", "4"), Pair("Connection", "close")));
  EXPECT_EQ(recorded->body_bytes, 4u);
}

TEST_F(TestUpstreamTest, NoLastRequestBeforeAnyRequest) {
  EXPECT_FALSE(upstream_.last_request().has_value());
}

TEST_F(TestUpstreamTest, EchoReportsMethodTargetVersionHeadersAndBodySize) {
  const auto responses = ParseResponses(
      Exchange("PUT /echo?q=\"v\" HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1\r\n"
               "Content-Length: 3\r\nConnection: close\r\n\r\nabc"));

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].Header("Content-Type"), "application/json");
  EXPECT_EQ(responses[0].Header("X-Upstream"), "alpha");
  EXPECT_EQ(responses[0].body,
            R"({"method":"PUT","target":"/echo?q=\"v\"","version":"HTTP/1.1","headers":)"
            R"([["Host","a"],["X-Forwarded-For","10.0.0.1"],["Content-Length","3"],)"
            R"(["Connection","close"]],"body_bytes":3})"
            "\n");
}

TEST_F(TestUpstreamTest, StatusAnswersTheRequestedCodeWithAShortBody) {
  const auto responses = ParseResponses(Get("/status/503"));

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 503);
  EXPECT_EQ(responses[0].body, "status 503\n");
}

TEST_F(TestUpstreamTest, Status204HasNoBodyAndNoContentLength) {
  const std::string response = Get("/status/204");

  EXPECT_EQ(ParseStatus(response), 204);
  EXPECT_THAT(response, Not(HasSubstr("Content-Length")));
  EXPECT_TRUE(response.ends_with("\r\n\r\n"));
}

TEST_F(TestUpstreamTest, Status304HasNoBody) {
  const std::string response = Get("/status/304");

  EXPECT_EQ(ParseStatus(response), 304);
  EXPECT_TRUE(response.ends_with("\r\n\r\n"));
}

TEST_F(TestUpstreamTest, StatusOutsideFinalRangeIsBadRequest) {
  EXPECT_EQ(ParseStatus(Get("/status/101")), 400);
  EXPECT_EQ(ParseStatus(Get("/status/abc")), 400);
}

TEST_F(TestUpstreamTest, DelayWaitsBeforeAnswering) {
  const auto start = std::chrono::steady_clock::now();
  const std::string response = Get("/delay/200");
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_EQ(ParseStatus(response), 200);
  EXPECT_GE(elapsed, milliseconds(200));
}

TEST_F(TestUpstreamTest, BytesSendsExactlyNBytesWithContentLength) {
  const auto responses = ParseResponses(Get("/bytes/200000"));

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].Header("Content-Length"), "200000");
  EXPECT_FALSE(responses[0].HasHeader("Transfer-Encoding"));
  EXPECT_EQ(responses[0].body.size(), 200000u);
}

TEST_F(TestUpstreamTest, ChunkedSendsNBytesInChunksOfAtMost16KiB) {
  const std::string response = Get("/chunked/40000");
  const auto responses = ParseResponses(response);

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].Header("Transfer-Encoding"), "chunked");
  EXPECT_FALSE(responses[0].HasHeader("Content-Length"));
  EXPECT_EQ(responses[0].body.size(), 40000u);
  // 40000 = 16384 + 16384 + 7232
  EXPECT_THAT(response, HasSubstr("\r\n4000\r\n"));
  EXPECT_THAT(response, HasSubstr("\r\n1c40\r\n"));
  EXPECT_TRUE(response.ends_with("\r\n0\r\n\r\n"));
}

TEST_F(TestUpstreamTest, ChunkedToHttp10IsDelimitedByClose) {
  const auto responses = ParseResponses(Exchange("GET /chunked/1000 HTTP/1.0\r\n\r\n"));

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_FALSE(responses[0].HasHeader("Transfer-Encoding"));
  EXPECT_EQ(responses[0].Header("Connection"), "close");
  EXPECT_EQ(responses[0].body.size(), 1000u);
}

TEST_F(TestUpstreamTest, UploadCountsAContentLengthBody) {
  const std::string body(8 * 1024 * 1024, 'u');
  const auto responses = ParseResponses(Exchange(
      "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body));

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].body, "{\"bytes\":8388608}\n");
  EXPECT_EQ(upstream_.last_request()->body_bytes, 8388608u);
}

TEST_F(TestUpstreamTest, UploadCountsAChunkedBody) {
  const auto responses = ParseResponses(Exchange(
      "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].body, "{\"bytes\":11}\n");
}

TEST_F(TestUpstreamTest, CloseDropsTheConnectionWithoutResponding) {
  const std::string response = Get("/close");

  EXPECT_EQ(response, "");
  EXPECT_EQ(upstream_.requests_seen(), 1u);
}

TEST_F(TestUpstreamTest, CloseAfterResponseAnswersWithConnectionCloseThenCloses) {
  RawConnection connection("127.0.0.1", upstream_.port());
  ASSERT_TRUE(connection.Send("GET /close-after-response HTTP/1.1\r\nHost: a\r\n\r\n"));
  const auto responses = ParseResponses(connection.ReadToEnd(kTimeout));

  EXPECT_TRUE(connection.peer_closed());
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].Header("Connection"), "close");
}

TEST_F(TestUpstreamTest, BadFramingSendsBothContentLengthAndTransferEncoding) {
  const std::string response = Get("/bad-framing");

  EXPECT_EQ(ParseStatus(response), 200);
  EXPECT_THAT(response, HasSubstr("\r\nContent-Length: 5\r\n"));
  EXPECT_THAT(response, HasSubstr("\r\nTransfer-Encoding: chunked\r\n"));
}

TEST_F(TestUpstreamTest, BadChunkSendsAMalformedChunkSize) {
  const std::string response = Get("/bad-chunk");

  EXPECT_EQ(ParseStatus(response), 200);
  EXPECT_THAT(response, HasSubstr("Transfer-Encoding: chunked\r\n"));
  EXPECT_THAT(response, HasSubstr("\r\n\r\nzz\r\n"));
  EXPECT_TRUE(ParseResponses(response).empty());
}

TEST_F(TestUpstreamTest, EarlyHintsSends103WithLinkBeforeThe200) {
  const auto responses = ParseResponses(Get("/early-hints"));

  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].status, 103);
  EXPECT_THAT(responses[0].Header("Link"), HasSubstr("rel=preload"));
  EXPECT_EQ(responses[1].status, 200);
}

TEST_F(TestUpstreamTest, WebSocketEchoesTextAndBinaryMessages) {
  namespace websocket = boost::beast::websocket;
  boost::asio::io_context context;
  websocket::stream<boost::asio::ip::tcp::socket> ws(context);
  ws.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), upstream_.port()});
  websocket::response_type handshake;
  ws.handshake(handshake, "127.0.0.1", "/ws");
  boost::beast::flat_buffer buffer;

  ws.text(true);
  ws.write(boost::asio::buffer(std::string("ping")));
  ws.read(buffer);
  const bool text_echoed_as_text = ws.got_text();
  const std::string text = boost::beast::buffers_to_string(buffer.data());
  buffer.clear();
  ws.binary(true);
  ws.write(boost::asio::buffer(std::string("\x01\x02\x00", 3)));
  ws.read(buffer);
  const bool binary_echoed_as_binary = ws.got_binary();
  const std::string binary = boost::beast::buffers_to_string(buffer.data());
  ws.close(websocket::close_code::normal);

  EXPECT_EQ(handshake.result_int(), 101u);
  EXPECT_EQ(handshake["X-Upstream"], "alpha");
  EXPECT_EQ(text, "ping");
  EXPECT_TRUE(text_echoed_as_text);
  EXPECT_EQ(binary, std::string("\x01\x02\x00", 3));
  EXPECT_TRUE(binary_echoed_as_binary);
}

TEST_F(TestUpstreamTest, WebSocketPathWithoutUpgradeIs426) {
  EXPECT_EQ(ParseStatus(Get("/ws")), 426);
}

TEST_F(TestUpstreamTest, HealthAnswersOk) {
  const auto responses = ParseResponses(Get("/health"));

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].body, "ok");
}

TEST_F(TestUpstreamTest, HeadersSetsResponseHeadersFromTheQuery) {
  const auto responses = ParseResponses(Get("/headers?X-Custom=one&Cache-Control=max-age%3D60"));

  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].Header("X-Custom"), "one");
  EXPECT_EQ(responses[0].Header("Cache-Control"), "max-age=60");
}

TEST_F(TestUpstreamTest, HeadersRefusesAValueWithALineBreak) {
  EXPECT_EQ(ParseStatus(Get("/headers?X-Evil=a%0D%0AInjected:%201")), 400);
}

TEST_F(TestUpstreamTest, HeadSendsTheSameHeadersWithoutBody) {
  const std::string response =
      Exchange("HEAD /bytes/1000 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");

  EXPECT_EQ(ParseStatus(response), 200);
  EXPECT_THAT(response, HasSubstr("\r\nContent-Length: 1000\r\n"));
  EXPECT_THAT(response, HasSubstr("\r\nX-Upstream: alpha\r\n"));
  EXPECT_TRUE(response.ends_with("\r\n\r\n"));
}

TEST_F(TestUpstreamTest, ExpectContinueGets100BeforeTheBodyIsSent) {
  RawConnection connection("127.0.0.1", upstream_.port());
  ASSERT_TRUE(connection.Send(
      "POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  const std::string interim = connection.ReadUntil("\r\n\r\n", kTimeout);
  ASSERT_TRUE(connection.Send("hello"));
  const auto final_responses = ParseResponses(connection.ReadUntil("}\n", kTimeout));

  EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_EQ(final_responses.size(), 1u);
  EXPECT_EQ(final_responses[0].body, "{\"bytes\":5}\n");
}

TEST_F(TestUpstreamTest, Http10GetsAnHttp11ResponseAndTheConnectionClosed) {
  RawConnection connection("127.0.0.1", upstream_.port());
  ASSERT_TRUE(connection.Send("GET / HTTP/1.0\r\n\r\n"));
  const std::string response = connection.ReadToEnd(kTimeout);

  EXPECT_TRUE(connection.peer_closed());
  EXPECT_THAT(response, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(response, HasSubstr("\r\nConnection: close\r\n"));
}

TEST_F(TestUpstreamTest, Http10KeepAliveKeepsTheConnectionOpen) {
  const auto responses =
      ParseResponses(Exchange("GET /status/201 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET "
                              "/status/202 HTTP/1.0\r\n\r\n"));

  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].Header("Connection"), "keep-alive");
  EXPECT_EQ(responses[1].status, 202);
  EXPECT_EQ(responses[1].Header("Connection"), "close");
}

TEST_F(TestUpstreamTest, PipelinedRequestsAreAnsweredInOrder) {
  const auto responses =
      ParseResponses(Exchange("GET /status/201 HTTP/1.1\r\nHost: a\r\n\r\n"
                              "POST /status/202 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc"
                              "GET /status/203 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));

  ASSERT_EQ(responses.size(), 3u);
  EXPECT_EQ(responses[0].status, 201);
  EXPECT_EQ(responses[1].status, 202);
  EXPECT_EQ(responses[2].status, 203);
}

TEST_F(TestUpstreamTest, MalformedRequestGets400AndClose) {
  const std::string response = Exchange("NOT HTTP AT ALL\r\n\r\n");

  EXPECT_EQ(ParseStatus(response), 400);
  EXPECT_THAT(response, HasSubstr("\r\nConnection: close\r\n"));
}

TEST_F(TestUpstreamTest, StopClosesOpenConnectionsAndTheListener) {
  RawConnection connection("127.0.0.1", upstream_.port());
  ASSERT_TRUE(connection.Send("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  connection.ReadUntil("\n", kTimeout);

  upstream_.stop();
  upstream_.stop();

  connection.ReadToEnd(kTimeout);
  EXPECT_TRUE(connection.peer_closed());
  EXPECT_FALSE(RawConnection("127.0.0.1", upstream_.port()).connected());
}

TEST(TestUpstreamThreadsTest, WorkersShareOnePortAndCountEveryConnection) {
  TestUpstream upstream({.threads = 4});
  int ok = 0;
  for (int i = 0; i < 40; ++i) {
    ok += ParseStatus(RawExchange("127.0.0.1", upstream.port(),
                                  "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                                  kTimeout)) == 200;
  }

  EXPECT_EQ(ok, 40);
  EXPECT_EQ(upstream.connections_accepted(), 40u);
  EXPECT_EQ(upstream.requests_seen(), 40u);
}

TEST(TestUpstreamOptionsTest, BindFailureThrows) {
  EXPECT_ANY_THROW(TestUpstream({.address = "192.0.2.1"}));
}

// The binary prints where it listens, serves, and exits cleanly on SIGTERM.
TEST(TestUpstreamBinaryTest, PrintsListeningLineServesAndExitsOnSigterm) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  std::vector<std::string> args{HERMES_TEST_UPSTREAM_BINARY, "--listen", "127.0.0.1:0", "--name",
                                "beta"};
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  FILE* stdout_of_child = fdopen(out[0], "r");
  char line[128] = {};
  const bool got_line = fgets(line, sizeof(line), stdout_of_child) != nullptr;
  unsigned port = 0;
  const bool parsed = std::sscanf(line, "listening on 127.0.0.1:%u", &port) == 1;
  const auto responses = ParseResponses(
      RawExchange("127.0.0.1", static_cast<uint16_t>(port),
                  "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", kTimeout));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  fclose(stdout_of_child);

  ASSERT_TRUE(got_line);
  ASSERT_TRUE(parsed) << line;
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].body, "hello from upstream beta\n");
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace hermes::test
