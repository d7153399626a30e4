// Requests Hermes must refuse itself, and upstream failures it must turn into errors: each
// case checks the status the client gets, that the upstream never saw the refused request, and
// that the client connection is closed afterwards.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "tests/integration/proxy_harness.h"
#include "tests/support/http_client.h"
#include "tests/support/test_upstream.h"

namespace hermes::integration {
namespace {

using Clock = std::chrono::steady_clock;

class ProxyBadInputTest : public ::testing::Test {
 protected:
  void StartProxy(std::string_view routes = kDefaultRoute) {
    proxy_ = std::make_unique<Proxy>(ProxyYaml({upstream_.port()}, routes));
  }

  Answer Send(std::string_view bytes, std::chrono::milliseconds wait = 3s) {
    return SendAndCollect(proxy_->port(), bytes, wait);
  }

  // Asserts the proxy answered `status` itself: the upstream saw no request, the connection
  // was closed.
  void ExpectRefused(std::string_view request, int status) {
    StartProxy();
    const uint64_t seen_before = upstream_.requests_seen();
    const Answer answer = Send(request);
    EXPECT_EQ(answer.status, status) << answer.bytes;
    EXPECT_EQ(upstream_.requests_seen(), seen_before) << "the upstream received the request";
    EXPECT_TRUE(answer.closed) << "the connection stayed open";
  }

  test::TestUpstream upstream_;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(ProxyBadInputTest, BothContentLengthAndTransferEncodingIs400) {
  ExpectRefused(
      "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n"
      "\r\n5\r\nhello\r\n0\r\n\r\n",
      400);
}

TEST_F(ProxyBadInputTest, DifferingDuplicateContentLengthIs400) {
  ExpectRefused(
      "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
      400);
}

TEST_F(ProxyBadInputTest, TransferEncodingOtherThanChunkedIs400) {
  ExpectRefused(
      "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\nhello", 400);
}

TEST_F(ProxyBadInputTest, MalformedChunkSizeIs400) {
  ExpectRefused(
      "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "zz\r\nhello\r\n0\r\n\r\n",
      400);
}

TEST_F(ProxyBadInputTest, ObsoleteLineFoldingIs400) {
  ExpectRefused("GET / HTTP/1.1\r\nHost: h\r\nX-Folded: first\r\n second\r\n\r\n", 400);
}

TEST_F(ProxyBadInputTest, WhitespaceBeforeColonIs400) {
  ExpectRefused("GET / HTTP/1.1\r\nHost: h\r\nX-Spaced : value\r\n\r\n", 400);
}

TEST_F(ProxyBadInputTest, NulInHeaderValueIs400) {
  static constexpr char kRequest[] = "GET / HTTP/1.1\r\nHost: h\r\nX-Nul: a\0b\r\n\r\n";
  ExpectRefused(std::string_view(kRequest, sizeof(kRequest) - 1), 400);
}

TEST_F(ProxyBadInputTest, BareLfLineEndingIs400) {
  ExpectRefused("GET / HTTP/1.1\r\nHost: h\nX-A: b\r\n\r\n", 400);
}

TEST_F(ProxyBadInputTest, MissingHostOnHttp11Is400) { ExpectRefused("GET / HTTP/1.1\r\n\r\n", 400); }

TEST_F(ProxyBadInputTest, DuplicateHostIs400) {
  ExpectRefused("GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", 400);
}

TEST_F(ProxyBadInputTest, HeadersOverMaxHeaderBytesIs431) {
  ExpectRefused("GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + std::string(5000, 'a') + "\r\n\r\n", 431);
}

TEST_F(ProxyBadInputTest, RequestLineOverMaxRequestLineBytesIs414) {
  ExpectRefused("GET /" + std::string(1100, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n", 414);
}

TEST_F(ProxyBadInputTest, ContentLengthOverMaxRequestBodyIs413) {
  ExpectRefused("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n", 413);
}

// A chunked body's size is known only as it arrives, and Hermes streams it: the upstream may
// have seen the head, but it must never receive the whole over-limit body (its /upload would
// then answer and record the byte count).
TEST_F(ProxyBadInputTest, ChunkedBodyGrowingOverMaxRequestBodyIs413) {
  StartProxy();
  std::string request = "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 17; ++i) request += "10000\r\n" + chunk + "\r\n";  // 1088 KiB > 1 MiB
  request += "0\r\n\r\n";
  const Answer answer = Send(request);
  EXPECT_EQ(answer.status, 413) << answer.bytes.substr(0, 200);
  EXPECT_TRUE(answer.closed);
  const auto last = upstream_.last_request();
  if (last) {
    EXPECT_EQ(last->body_bytes, 0u) << "the upstream received the over-limit body";
  }
}

TEST_F(ProxyBadInputTest, IncompleteHeadIs408WithinTheHeaderTimeout) {
  StartProxy();
  HttpConnection connection(proxy_->port());
  const auto start = Clock::now();
  ASSERT_TRUE(connection.Send("GET / HTTP/1.1\r\nHost: h\r\nX-Slow: "));
  const std::string bytes = connection.ReadUntilClosed(5s);
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(test::ParseStatus(bytes), 408) << bytes;
  EXPECT_TRUE(connection.closed_by_peer());
  EXPECT_LT(elapsed, 1500ms) << "header_timeout is 500ms";
  EXPECT_EQ(upstream_.requests_seen(), 0u);
}

// The request asks for the connection to close: the point is the status and that nothing
// reached the upstream.
TEST_F(ProxyBadInputTest, NoMatchingRouteIs404) {
  StartProxy("  - { name: only, match: { host: only.example.com }, cluster: up }\n");
  const Answer answer =
      Send("GET / HTTP/1.1\r\nHost: other.example.com\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(answer.status, 404) << answer.bytes;
  EXPECT_EQ(upstream_.requests_seen(), 0u);
  EXPECT_TRUE(answer.closed);
}

TEST_F(ProxyBadInputTest, UpstreamRefusingConnectionsIs502) {
  proxy_ = std::make_unique<Proxy>(ProxyYaml({UnusedPort()}));
  const Answer answer = Send("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(answer.status, 502) << answer.bytes;
  EXPECT_TRUE(answer.closed);
}

TEST_F(ProxyBadInputTest, UpstreamSlowerThanRouteTimeoutIs504) {
  StartProxy("  - { name: all, cluster: up, timeout: 300ms }\n");
  const auto start = Clock::now();
  const Answer answer = Send("GET /delay/2000 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  const auto elapsed = Clock::now() - start;
  EXPECT_EQ(answer.status, 504) << answer.bytes;
  EXPECT_TRUE(answer.closed);
  EXPECT_LT(elapsed, 1500ms) << "the route timeout is 300ms, the upstream answers after 2000ms";
}

TEST_F(ProxyBadInputTest, UpstreamResponseWithAmbiguousFramingIs502WithoutItsBody) {
  StartProxy();
  const Answer answer = Send("GET /bad-framing HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(answer.status, 502) << answer.bytes;
  EXPECT_EQ(answer.bytes.find("hello"), std::string::npos) << answer.bytes;
  EXPECT_TRUE(answer.closed);
}

TEST_F(ProxyBadInputTest, UpstreamMalformedChunkNeverReachesTheClientAsACompleteResponse) {
  StartProxy();
  const Answer answer = Send("GET /bad-chunk HTTP/1.1\r\nHost: h\r\n\r\n");
  for (const auto& response : test::ParseResponses(answer.bytes)) {
    EXPECT_NE(response.status, 200) << "a complete 200 response reached the client: "
                                    << answer.bytes;
  }
  EXPECT_EQ(answer.bytes.find("hello"), std::string::npos) << answer.bytes;
  EXPECT_TRUE(answer.closed);
}

}  // namespace
}  // namespace hermes::integration
