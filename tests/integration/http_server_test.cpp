// The daemons' admin HTTP server (hermes/common/http_server.h) as clients meet it on loopback:
// idle and half-sent connections never hold up the others, deadlines answer 408 or close, the
// head and body limits, the connection cap, and a Stop() that returns whatever the clients do.
#include "hermes/common/http_server.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/proxy_harness.h"
#include "tests/support/eventually.h"

namespace hermes::integration {
namespace {

// Answers every request with what it saw: "METHOD PATH TARGET X-Echo BODY".
HttpResponse Echo(const HttpRequestView& request) {
  HttpResponse r;
  r.body = std::string(request.method) + " " + std::string(request.path) + " " +
           std::string(request.target) + " " + std::string(request.Header("x-echo")) + " " +
           std::string(request.body);
  r.headers.emplace_back("X-Seen", request.HasHeader("X-Echo") ? "yes" : "no");
  return r;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>(std::move(options), Echo);
    Result<uint16_t> started = server_->Start(HostPort{"127.0.0.1", 0});
    ASSERT_TRUE(started.ok()) << started.error();
    ASSERT_EQ(started.value(), server_->port());
  }
  unsigned StatusOf(std::string_view request) {
    HttpConnection client(server_->port());
    auto response = client.Request(request);
    return response ? response->result_int() : 0;
  }

  std::unique_ptr<HttpServer> server_;
};

constexpr std::string_view kHealthz = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n";

TEST_F(HttpServerTest, TheHandlerSeesMethodPathQueryHeadersAndBody) {
  Start();
  HttpConnection client(server_->port());
  auto response = client.Request(
      "POST /reload?x=1 HTTP/1.1\r\nHost: t\r\nX-Echo: hi\r\nContent-Length: 4\r\n\r\nbody");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result_int(), 200u);
  EXPECT_EQ(response->body(), "POST /reload /reload?x=1 hi body");
  EXPECT_EQ((*response)["X-Seen"], "yes");
  EXPECT_EQ((*response)[bhttp::field::server], "hermes");
}

TEST_F(HttpServerTest, AnIdleConnectionDoesNotStopOtherRequests) {
  Start();
  HttpConnection idle(server_->port());
  ASSERT_TRUE(idle.connected());
  ASSERT_TRUE(test::Eventually([&] { return server_->active_connections() == 1; }, 5s));
  EXPECT_EQ(StatusOf(kHealthz), 200u);
  HttpConnection half(server_->port());
  ASSERT_TRUE(half.Send("GET /healthz HTTP/1.1\r\nHost"));
  EXPECT_EQ(StatusOf(kHealthz), 200u);
}

TEST_F(HttpServerTest, AHalfSentRequestIsAnswered408AndClosedAfterTheReadTimeout) {
  Start({.read = 300ms});
  HttpConnection client(server_->port());
  ASSERT_TRUE(client.Send("GET /healthz HTTP/1.1\r\nHost: t\r\n"));  // no blank line
  const auto start = std::chrono::steady_clock::now();
  const std::string received = client.ReadUntilClosed(5s);
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_EQ(test::ParseStatus(received), 408) << received;
  EXPECT_GE(std::chrono::steady_clock::now() - start, 250ms) << "answered before the read timeout";
}

TEST_F(HttpServerTest, ABodyThatStopsHalfWayIsAnswered408) {
  Start({.read = 300ms});
  HttpConnection client(server_->port());
  ASSERT_TRUE(client.Send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc"));
  const std::string received = client.ReadUntilClosed(5s);
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_EQ(test::ParseStatus(received), 408) << received;
}

TEST_F(HttpServerTest, AConnectionThatSendsNothingIsClosedWithoutAnAnswer) {
  Start({.read = 300ms});
  HttpConnection client(server_->port());
  ASSERT_TRUE(client.connected());
  EXPECT_TRUE(client.ClosedByPeer(5s)) << client.last_error().message();
}

TEST_F(HttpServerTest, AnIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  Start({.read = 10s, .idle = 300ms});
  HttpConnection client(server_->port());
  auto first = client.Request(kHealthz);
  ASSERT_TRUE(first);
  auto second = client.Request(kHealthz);  // kept alive
  ASSERT_TRUE(second);
  EXPECT_EQ(second->result_int(), 200u);
  EXPECT_TRUE(client.ClosedByPeer(5s)) << client.last_error().message();
}

TEST_F(HttpServerTest, AHeadOverTheLimitIs431AndABodyOverTheLimitIs413) {
  Start({.max_head_bytes = 1024, .max_body_bytes = 16});
  EXPECT_EQ(StatusOf("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(2048, 'a') + "\r\n\r\n"),
            431u);
  EXPECT_EQ(
      StatusOf("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 17\r\n\r\n" + std::string(17, 'b')),
      413u);
  EXPECT_EQ(
      StatusOf("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 16\r\n\r\n" + std::string(16, 'b')),
      200u);
}

TEST_F(HttpServerTest, AMalformedRequestIs400) {
  Start();
  EXPECT_EQ(StatusOf("GET / HTTP/1.1\r\nBad Header\r\n\r\n"), 400u);
}

TEST_F(HttpServerTest, OverTheCapANewConnectionIsClosedAtOnceAndCounted) {
  Start({.max_connections = [] { return size_t{2}; }});
  std::vector<std::unique_ptr<HttpConnection>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<HttpConnection>(server_->port()));
    auto response = held.back()->Request(kHealthz);
    ASSERT_TRUE(response);
  }
  HttpConnection over(server_->port());
  ASSERT_TRUE(over.connected());
  EXPECT_TRUE(over.ClosedByPeer(5s)) << over.last_error().message();
  EXPECT_EQ(server_->refused_connections(), 1u);
  EXPECT_EQ(server_->active_connections(), 2u);

  held.pop_back();
  EXPECT_TRUE(test::Eventually([&] { return StatusOf(kHealthz) == 200u; }, 5s));
  auto response = held.front()->Request(kHealthz);
  ASSERT_TRUE(response) << "a held connection was dropped";
}

TEST_F(HttpServerTest, StopReturnsPromptlyWithIdleAndHalfSentClients) {
  Start({.read = 60s, .idle = 60s});
  HttpConnection idle(server_->port());
  HttpConnection half(server_->port());
  ASSERT_TRUE(half.Send("GET /healthz HTTP/1.1\r\nHost"));
  HttpConnection kept(server_->port());
  ASSERT_TRUE(kept.Request(kHealthz));
  // Positive signal first: all three are being served.
  ASSERT_TRUE(test::Eventually([&] { return server_->active_connections() == 3; }, 5s));

  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(server_->active_connections(), 0u);
  EXPECT_TRUE(idle.ClosedByPeer(5s));
  EXPECT_TRUE(kept.ClosedByPeer(5s));
  server_->Stop();  // idempotent
}

TEST_F(HttpServerTest, ABusyPortIsAnErrorNamingTheAddress) {
  Start();
  HttpServer second({}, Echo);
  Result<uint16_t> started = second.Start(HostPort{"127.0.0.1", server_->port()});
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error(), "cannot listen on 127.0.0.1:" + std::to_string(server_->port()) +
                                 ": Address already in use");
}

}  // namespace
}  // namespace hermes::integration
