// The holes an attacker's review found in the request path (issue 12), each reproduced against a
// real Hermes server over loopback: a pooled connection carrying another client's response,
// unbounded chunk framing, dot-segment route bypass, upgrades past routing, slow bodies pinning
// upstream connections, endless 1xx, and forwarded headers believed from anyone.
#include <gtest/gtest.h>

#include <boost/beast/core/string.hpp>
#include <chrono>
#include <future>
#include <thread>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/integration/proxy_harness.h"
#include "tests/support/eventually.h"
#include "tests/support/http_client.h"
#include "tests/support/scripted_upstream.h"
#include "tests/support/test_upstream.h"

namespace hermes::integration {
namespace {

using Clock = std::chrono::steady_clock;
using test::ScriptedConnection;
using test::ScriptedUpstream;

// A config with one listener whose extra settings are `listener_extra` (YAML flow-map entries,
// each starting with ", "), cluster "up" over `ports`, and `routes`.
std::string EdgeYaml(const std::vector<uint16_t>& ports, std::string_view listener_extra = "",
                     std::string_view routes = kDefaultRoute, std::string_view cluster_extra = "") {
  std::string yaml = "listeners:\n  - { name: main, address: \"127.0.0.1:0\", header_timeout: 2s, "
                     "idle_timeout: 10s, max_header_bytes: 4096, max_request_line_bytes: 1024";
  yaml += listener_extra;
  yaml += " }\nadmin: { address: off }\nclusters:\n  - name: up\n    connect_timeout: 500ms\n"
          "    health_check: { enabled: false }\n";
  yaml += cluster_extra;
  yaml += "    endpoints:\n";
  for (uint16_t port : ports) yaml += "      - { address: \"127.0.0.1:" + std::to_string(port) + "\" }\n";
  yaml += "routes:\n";
  yaml += routes;
  return yaml;
}

// ---- 1. A pooled connection is reused only when the upstream sent nothing while it was idle ----

TEST(ProxyEdgePoolTest, BytesAnUpstreamSendsAfterAResponseNeverReachTheNextClient) {
  std::promise<void> inject;
  std::promise<void> injected;
  std::shared_future<void> inject_now = inject.get_future().share();
  ScriptedUpstream upstream([&](ScriptedConnection& c) {
    for (int request = 0; !c.ReadHead().empty(); ++request) {
      if (!c.Write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst")) return;
      if (c.index() == 0 && request == 0) {
        inject_now.wait();
        // A second response nobody asked for, on the idle keep-alive connection.
        c.Write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret");
        injected.set_value();
      }
    }
  });
  Proxy proxy(EdgeYaml({upstream.port()}));
  HttpConnection alice(proxy.port());
  auto first = alice.Request(Get("/"));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->body(), "first");
  inject.set_value();
  injected.get_future().wait();

  HttpConnection bob(proxy.port());
  auto second = bob.Request(Get("/"));
  ASSERT_TRUE(second) << bob.last_error().message();
  EXPECT_EQ(second->body(), "first") << "another client's bytes were delivered";
  EXPECT_EQ(upstream.connections(), 2) << "the dirty connection was reused";
}

TEST(ProxyEdgePoolTest, ABodyAfterAResponseToHeadDiscardsTheConnection) {
  std::promise<void> inject;
  std::promise<void> injected;
  std::shared_future<void> inject_now = inject.get_future().share();
  ScriptedUpstream upstream([&](ScriptedConnection& c) {
    for (int request = 0; !c.ReadHead().empty(); ++request) {
      if (c.index() == 0 && request == 0) {
        if (!c.Write("HTTP/1.1 200 OK\r\nContent-Length: 22\r\n\r\n")) return;
        inject_now.wait();
        // A body after the response to HEAD, shaped like a response.
        c.Write("HTTP/1.1 200 OK\r\n\r\nx");
        injected.set_value();
        continue;
      }
      if (!c.Write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nclean")) return;
    }
  });
  Proxy proxy(EdgeYaml({upstream.port()}));
  HttpConnection alice(proxy.port());
  auto head = alice.Request(Get("/", "", "HEAD"), /*head_request=*/true);
  ASSERT_TRUE(head);
  inject.set_value();
  injected.get_future().wait();

  HttpConnection bob(proxy.port());
  auto next = bob.Request(Get("/"));
  ASSERT_TRUE(next) << bob.last_error().message();
  EXPECT_EQ(next->result_int(), 200u);
  EXPECT_EQ(next->body(), "clean");
}

// ---- 2. Chunk size lines and trailer sections are bounded by the header limits ----

class ProxyEdgeChunkTest : public ::testing::TestWithParam<std::string_view> {};

TEST_P(ProxyEdgeChunkTest, EndlessChunkExtensionIs400) {
  test::TestUpstream upstream;
  Proxy proxy(EdgeYaml({upstream.port()}, GetParam()));
  std::string request = "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=";
  request.append(256 * 1024, 'a');
  const Answer answer = SendAndCollect(proxy.port(), request, 5s);
  EXPECT_EQ(answer.status, 400) << answer.bytes.substr(0, 200);
  EXPECT_TRUE(answer.closed);
}

TEST_P(ProxyEdgeChunkTest, EndlessTrailerSectionIs400) {
  test::TestUpstream upstream;
  Proxy proxy(EdgeYaml({upstream.port()}, GetParam()));
  std::string request =
      "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n";
  for (int i = 0; i < 8192; ++i) request += "X-Trailer-" + std::to_string(i) + ": v\r\n";
  const Answer answer = SendAndCollect(proxy.port(), request, 5s);
  EXPECT_EQ(answer.status, 400) << answer.bytes.substr(0, 200);
  EXPECT_TRUE(answer.closed);
}

// Buffered before an upstream is picked (the default), and streamed to it.
INSTANTIATE_TEST_SUITE_P(BufferedAndStreamed, ProxyEdgeChunkTest,
                         ::testing::Values(std::string_view(""),
                                           std::string_view(", request_buffer_bytes: 0")));

// The response head is forwarded as soon as it arrives (streaming), so an endless chunk size line
// after it can only end the response: the connection closes at once, before the upstream does.
TEST(ProxyEdgeChunkResponseTest, EndlessChunkExtensionFromTheUpstreamEndsTheResponse) {
  ScriptedUpstream upstream([](ScriptedConnection& c) {
    if (c.ReadHead().empty()) return;
    std::string response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=";
    response.append(512 * 1024, 'a');
    c.Write(response);
    c.ReadHead();  // holds the connection open until the proxy closes it
  });
  Proxy proxy(EdgeYaml({upstream.port()}));
  HttpConnection client(proxy.port());
  ASSERT_TRUE(client.Send(Get("/")));
  const std::string received = client.ReadUntilClosed(5s);
  EXPECT_TRUE(client.closed_by_peer()) << "the proxy kept reading the chunk size line";
  EXPECT_TRUE(received.starts_with("HTTP/1.1 200")) << received.substr(0, 100);
  EXPECT_EQ(received.find("ext="), std::string::npos);
}

TEST(ProxyEdgeChunkResponseTest, EndlessTrailerSectionFromTheUpstreamEndsTheResponse) {
  ScriptedUpstream upstream([](ScriptedConnection& c) {
    if (c.ReadHead().empty()) return;
    std::string response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n";
    for (int i = 0; i < 20000; ++i) response += "X-Trailer-" + std::to_string(i) + ": v\r\n";
    c.Write(response);
    c.ReadHead();
  });
  Proxy proxy(EdgeYaml({upstream.port()}));
  HttpConnection client(proxy.port());
  ASSERT_TRUE(client.Send(Get("/")));
  const std::string received = client.ReadUntilClosed(5s);
  EXPECT_TRUE(client.closed_by_peer()) << "the proxy kept reading the trailer section";
  EXPECT_EQ(received.find("X-Trailer-"), std::string::npos);
}

// ---- 3. The normalized path is what is matched, rewritten and forwarded ----

class ProxyEdgePathTest : public ::testing::Test {
 protected:
  void Start(std::string_view listener_extra = "") {
    proxy_ = std::make_unique<Proxy>(EdgeYaml(
        {upstream_.port()}, listener_extra,
        "  - { name: public, match: { prefix: /public }, cluster: up }\n"
        "  - { name: api, match: { prefix: /api }, cluster: up, prefix_rewrite: /v1 }\n"));
  }
  // The status the client got and the target the upstream received ("" if none).
  std::pair<int, std::string> Send(std::string_view target) {
    const uint64_t before = upstream_.requests_seen();
    HttpConnection client(proxy_->port());
    auto response = client.Request(Get(target));
    if (!response) return {0, ""};
    std::string forwarded;
    if (upstream_.requests_seen() > before) forwarded = upstream_.last_request()->target;
    return {static_cast<int>(response->result_int()), forwarded};
  }
  test::TestUpstream upstream_;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(ProxyEdgePathTest, DotSegmentsCannotLeaveTheMatchedPrefix) {
  Start();
  EXPECT_EQ(Send("/public/../admin/x"), std::make_pair(404, std::string()));
  EXPECT_EQ(Send("/public/%2e%2e/admin/x"), std::make_pair(404, std::string()));
  EXPECT_EQ(Send("/public/%2E%2E/%2e/admin/x"), std::make_pair(404, std::string()));
  EXPECT_EQ(Send("/public/x/../../admin"), std::make_pair(404, std::string()));
}

TEST_F(ProxyEdgePathTest, EscapedSlashesAndBackslashesAreRefusedByDefault) {
  Start();
  for (const char* target : {"/public/%2E%2E%2Fadmin", "/public/..%2fadmin", "/public/a%5Cb",
                             "/public\\..\\admin", "/public/%zz", "/public/%4", "/public/..;/admin",
                             "/public/%2e%2e;x/admin"}) {
    const Answer answer = SendAndCollect(proxy_->port(), Get(target));
    EXPECT_EQ(answer.status, 400) << target;
  }
  EXPECT_EQ(upstream_.requests_seen(), 0u);
}

TEST_F(ProxyEdgePathTest, TheNormalizedPathIsForwardedWithTheQueryAsSent) {
  Start();
  EXPECT_EQ(Send("/public/./a//b/%7Euser?q=%2F..%2F"),
            std::make_pair(200, std::string("/public/a/b/~user?q=%2F..%2F")));
  EXPECT_EQ(Send("/public/a/%c3%a9"), std::make_pair(200, std::string("/public/a/%C3%A9")));
  EXPECT_EQ(Send("/api/./x/../y?z=1"), std::make_pair(200, std::string("/v1/y?z=1")));
}

TEST_F(ProxyEdgePathTest, UnescapeTurnsEscapedSlashesIntoSeparators) {
  Start(", escaped_slashes: unescape");
  EXPECT_EQ(Send("/public/x%2F..%2F..%2Fadmin"), std::make_pair(404, std::string()));
  EXPECT_EQ(Send("/public/a%2Fb"), std::make_pair(200, std::string("/public/a/b")));
}

TEST_F(ProxyEdgePathTest, KeepForwardsEscapedSlashesAsData) {
  Start(", escaped_slashes: keep");
  EXPECT_EQ(Send("/public/a%2fb"), std::make_pair(200, std::string("/public/a%2Fb")));
}

TEST_F(ProxyEdgePathTest, NormalizationOffForwardsThePathAsSent) {
  Start(", normalize_path: false, merge_slashes: false");
  EXPECT_EQ(Send("/public//a/./b"), std::make_pair(200, std::string("/public//a/./b")));
}

TEST_F(ProxyEdgePathTest, TheAsteriskFormIsForOptionsOnly) {
  Start();
  EXPECT_EQ(SendAndCollect(proxy_->port(), "GET * HTTP/1.1\r\nHost: h\r\n\r\n").status, 400);
  EXPECT_EQ(upstream_.requests_seen(), 0u);
}

// ---- 4. Only the upgrades a route enables open a tunnel ----

class ProxyEdgeUpgradeTest : public ::testing::Test {
 protected:
  test::RecordedRequest Forwarded(std::string_view request, int* status = nullptr) {
    HttpConnection client(proxy_->port());
    auto response = client.Request(request);
    EXPECT_TRUE(response) << client.last_error().message();
    if (status && response) *status = static_cast<int>(response->result_int());
    auto last = upstream_.last_request();
    EXPECT_TRUE(last);
    return last.value_or(test::RecordedRequest{});
  }
  test::TestUpstream upstream_;
  std::unique_ptr<Proxy> proxy_;
};

TEST_F(ProxyEdgeUpgradeTest, H2cUpgradeIsAnOrdinaryRequest) {
  proxy_ = std::make_unique<Proxy>(EdgeYaml({upstream_.port()}));
  int status = 0;
  const auto request = Forwarded(
      Get("/echo", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n"),
      &status);
  EXPECT_EQ(status, 200);
  EXPECT_FALSE(ReceivedHeader(request, "Upgrade"));
  EXPECT_FALSE(ReceivedHeader(request, "HTTP2-Settings"));
  EXPECT_FALSE(ReceivedHeader(request, "Connection"));
}

TEST_F(ProxyEdgeUpgradeTest, ConnectionUpgradeWithoutUpgradeSendsNoUpgradeField) {
  proxy_ = std::make_unique<Proxy>(EdgeYaml({upstream_.port()}));
  int status = 0;
  const auto request = Forwarded(Get("/echo", "Connection: upgrade\r\n"), &status);
  EXPECT_EQ(status, 200);
  EXPECT_FALSE(ReceivedHeader(request, "Upgrade"));
}

TEST_F(ProxyEdgeUpgradeTest, WebSocketDisabledOnTheRouteIsNotTunnelled) {
  proxy_ = std::make_unique<Proxy>(EdgeYaml(
      {upstream_.port()}, "",
      "  - { name: all, cluster: up, upgrade_configs: [ { upgrade_type: websocket, enabled: false } ] }\n"));
  int status = 0;
  const auto request = Forwarded(
      Get("/ws", "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"),
      &status);
  EXPECT_NE(status, 101);
  EXPECT_FALSE(ReceivedHeader(request, "Upgrade"));
}

TEST_F(ProxyEdgeUpgradeTest, AProtocolTheRouteDoesNotListIsNotTunnelled) {
  proxy_ = std::make_unique<Proxy>(EdgeYaml({upstream_.port()}));
  const auto request = Forwarded(Get("/echo", "Connection: upgrade\r\nUpgrade: tls/1.3\r\n"));
  EXPECT_FALSE(ReceivedHeader(request, "Upgrade"));
}

TEST_F(ProxyEdgeUpgradeTest, AnHttp10UpgradeIsIgnored) {
  proxy_ = std::make_unique<Proxy>(EdgeYaml({upstream_.port()}));
  const auto request = Forwarded(
      "GET /ws HTTP/1.0\r\nHost: proxy.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  EXPECT_FALSE(ReceivedHeader(request, "Upgrade"));
}

TEST(ProxyEdgeUpgradeUnaskedTest, A101ToAnOrdinaryRequestIs502) {
  ScriptedUpstream upstream([](ScriptedConnection& c) {
    if (c.ReadHead().empty()) return;
    c.Write("HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n");
  });
  Proxy proxy(EdgeYaml({upstream.port()}));
  const Answer answer =
      SendAndCollect(proxy.port(), Get("/", "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"));
  EXPECT_EQ(answer.status, 502);
}

// ---- 5. Slow request bodies ----

// A small body is read whole before an upstream is picked: a client that stalls mid-body holds no
// upstream connection, so the next client is served even with one connection allowed.
TEST(ProxyEdgeSlowBodyTest, AStalledSmallBodyHoldsNoUpstreamConnection) {
  test::TestUpstream upstream;
  Proxy proxy(EdgeYaml({upstream.port()}, "", kDefaultRoute, "    limits: { max_connections: 1 }\n"));
  HttpConnection slow(proxy.port());
  ASSERT_TRUE(slow.Send(
      "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n"));
  auto go_on = slow.Read();  // the proxy reads the body now
  ASSERT_TRUE(go_on);
  ASSERT_EQ(go_on->result_int(), 100u);
  ASSERT_TRUE(slow.Send("0123456789"));

  HttpConnection other(proxy.port());
  auto response = other.Request(Get("/"));
  ASSERT_TRUE(response) << other.last_error().message();
  EXPECT_EQ(response->result_int(), 200u);

  ASSERT_TRUE(slow.Send(std::string(90, 'x')));
  auto uploaded = slow.Read();
  ASSERT_TRUE(uploaded);
  EXPECT_EQ(uploaded->body(), "{\"bytes\":100}\n");
}

// A big body has its first request_buffer_bytes read before an upstream is taken: a client that
// stalls within them holds no upstream connection either.
TEST(ProxyEdgeSlowBodyTest, AStalledStartOfABigBodyHoldsNoUpstreamConnection) {
  test::TestUpstream upstream;
  Proxy proxy(EdgeYaml({upstream.port()}, "", kDefaultRoute, "    limits: { max_connections: 1 }\n"));
  HttpConnection slow(proxy.port());
  ASSERT_TRUE(slow.Send(
      "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 200000\r\nExpect: 100-continue\r\n\r\n"));
  auto go_on = slow.Read();
  ASSERT_TRUE(go_on);
  ASSERT_EQ(go_on->result_int(), 100u);
  ASSERT_TRUE(slow.Send(std::string(10000, 'x')));

  HttpConnection other(proxy.port());
  auto response = other.Request(Get("/"));
  ASSERT_TRUE(response) << other.last_error().message();
  EXPECT_EQ(response->result_int(), 200u);

  ASSERT_TRUE(slow.Send(std::string(190000, 'y')));
  auto uploaded = slow.Read();
  ASSERT_TRUE(uploaded);
  EXPECT_EQ(uploaded->body(), "{\"bytes\":200000}\n");
}

// Trailer fields are dropped: Beast adds them to the request's fields, and a small chunked body is
// read before the head is written, so a trailer "Host" would pass every check made on the head.
TEST(ProxyEdgeTrailerTest, RequestTrailersNeverJoinTheForwardedHead) {
  test::TestUpstream upstream;
  Proxy proxy(EdgeYaml({upstream.port()}));
  HttpConnection client(proxy.port());
  auto response = client.Request(
      "POST /upload HTTP/1.1\r\nHost: good.example\r\nTransfer-Encoding: chunked\r\n\r\n"
      "1\r\nA\r\n0\r\nHost: evil.example\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n");
  ASSERT_TRUE(response) << client.last_error().message();
  EXPECT_EQ(response->result_int(), 200u);
  const auto request = upstream.last_request().value();
  EXPECT_EQ(ReceivedHeader(request, "Host"), "good.example");
  EXPECT_EQ(ReceivedHeader(request, "X-Forwarded-Host"), "good.example");
  EXPECT_EQ(ReceivedHeader(request, "X-Forwarded-For"), "127.0.0.1");
  int hosts = 0;
  for (const auto& [name, value] : request.headers) hosts += beast::iequals(name, "host");
  EXPECT_EQ(hosts, 1);
}

// The whole request must arrive within request_timeout, however steadily its bytes come; the
// idle timeout (10 s here) would not end it before the test's wait.
TEST(ProxyEdgeSlowBodyTest, RequestTimeoutEndsABodyThatNeverCompletes) {
  test::TestUpstream upstream;
  for (const char* length : {"100", "1048576"}) {  // buffered, and streamed to the upstream
    Proxy proxy(EdgeYaml({upstream.port()}, ", request_timeout: 1s"));
    HttpConnection slow(proxy.port());
    ASSERT_TRUE(slow.Send(std::string("POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: ") + length +
                          "\r\n\r\n" + std::string(10, 'x')));
    const auto start = Clock::now();
    const std::string answer = slow.ReadUntilClosed(5s);
    EXPECT_EQ(test::ParseStatus(answer), 408) << length << ": " << answer;
    EXPECT_TRUE(slow.closed_by_peer()) << length;
    EXPECT_LT(Clock::now() - start, 5s) << length;
  }
}

// ---- 6. Interim responses ----

TEST(ProxyEdgeInterimTest, TheRouteTimeoutRunsOnAcrossInterimResponses) {
  ScriptedUpstream upstream([](ScriptedConnection& c) {
    if (c.ReadHead().empty()) return;
    for (int i = 0; i < 100; ++i) {  // 10 s of 103s, one every 100 ms
      if (!c.Write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n")) return;
      std::this_thread::sleep_for(100ms);
    }
  });
  Proxy proxy(EdgeYaml({upstream.port()}, "", "  - { name: all, cluster: up, timeout: 1s }\n"));
  HttpConnection client(proxy.port(), 10s);
  ASSERT_TRUE(client.Send(Get("/")));
  std::optional<Response> response;
  for (int i = 0; i < 100; ++i) {
    response = client.Read();
    if (!response || response->result_int() >= 200) break;
  }
  ASSERT_TRUE(response) << client.last_error().message();
  EXPECT_EQ(response->result_int(), 504u);
}

TEST(ProxyEdgeInterimTest, TooManyInterimResponsesAre502) {
  ScriptedUpstream upstream([](ScriptedConnection& c) {
    if (c.ReadHead().empty()) return;
    std::string hints;
    for (int i = 0; i < 40; ++i) hints += "HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n";
    c.Write(hints + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  Proxy proxy(EdgeYaml({upstream.port()}));
  HttpConnection client(proxy.port());
  ASSERT_TRUE(client.Send(Get("/")));
  int interim = 0;
  std::optional<Response> response;
  for (int i = 0; i < 50; ++i) {
    response = client.Read();
    if (!response || response->result_int() >= 200) break;
    ++interim;
  }
  ASSERT_TRUE(response) << client.last_error().message();
  EXPECT_EQ(response->result_int(), 502u);
  EXPECT_LE(interim, 16);
}

TEST(ProxyEdgeInterimTest, StatusCodesOutside100To599Are502) {
  for (const char* line : {"HTTP/1.1 099 Low\r\n", "HTTP/1.1 600 High\r\n", "HTTP/1.1 999 Nope\r\n"}) {
    ScriptedUpstream upstream([line](ScriptedConnection& c) {
      if (c.ReadHead().empty()) return;
      c.Write(std::string(line) + "Content-Length: 0\r\n\r\n");
    });
    Proxy proxy(EdgeYaml({upstream.port()}));
    HttpConnection client(proxy.port());
    auto response = client.Request(Get("/"));
    ASSERT_TRUE(response) << line;
    EXPECT_EQ(response->result_int(), 502u) << line;
  }
}

// ---- 7. Forwarded headers are believed only from trusted proxies ----

class ProxyEdgeForwardedTest : public ::testing::Test {
 protected:
  test::RecordedRequest Forwarded(std::string_view extra_lines) {
    HttpConnection client(proxy_->port());
    auto response = client.Request(Get("/echo", extra_lines));
    EXPECT_TRUE(response) << client.last_error().message();
    return upstream_.last_request().value_or(test::RecordedRequest{});
  }
  test::TestUpstream upstream_;
  std::unique_ptr<Proxy> proxy_;
};

constexpr std::string_view kClaims =
    "X-Forwarded-For: 6.6.6.6\r\nX-Real-IP: 6.6.6.6\r\nForwarded: for=6.6.6.6;proto=https\r\n"
    "X-Forwarded-Proto: https\r\nX-Forwarded-Port: 443\r\nX-Forwarded-Host: evil.example\r\n";

TEST_F(ProxyEdgeForwardedTest, AnUntrustedPeersClaimsAreReplaced) {
  proxy_ = std::make_unique<Proxy>(EdgeYaml({upstream_.port()}));
  const auto request = Forwarded(kClaims);
  EXPECT_EQ(ReceivedHeader(request, "X-Forwarded-For"), "127.0.0.1");
  EXPECT_EQ(ReceivedHeader(request, "X-Forwarded-Proto"), "http");
  EXPECT_EQ(ReceivedHeader(request, "X-Forwarded-Host"), "proxy.test");
  EXPECT_FALSE(ReceivedHeader(request, "X-Real-IP"));
  EXPECT_FALSE(ReceivedHeader(request, "Forwarded"));
  EXPECT_FALSE(ReceivedHeader(request, "X-Forwarded-Port"));
}

TEST_F(ProxyEdgeForwardedTest, ATrustedPeersForwardedHeadersPassOn) {
  proxy_ = std::make_unique<Proxy>(
      EdgeYaml({upstream_.port()}, ", trusted_proxies: [ \"127.0.0.1/32\", \"10.0.0.0/8\" ]"));
  const auto request = Forwarded(
      "X-Forwarded-For: 203.0.113.7\r\nX-Forwarded-For: 10.1.2.3\r\nX-Forwarded-Proto: https\r\n");
  EXPECT_EQ(ReceivedHeader(request, "X-Forwarded-For"), "203.0.113.7, 10.1.2.3, 127.0.0.1");
  EXPECT_EQ(ReceivedHeader(request, "X-Forwarded-Proto"), "https");
}

// The client address Hermes hashes on is the trusted one: forged X-Forwarded-For values from an
// untrusted peer all hash alike (the peer's address); from a trusted peer they name the clients.
TEST(ProxyEdgeClientAddressTest, SourceIpHashingUsesOnlyTrustedHops) {
  for (bool trusted : {false, true}) {
    test::TestUpstream a, b;
    Proxy proxy(EdgeYaml({a.port(), b.port()},
                         trusted ? ", trusted_proxies: [ \"127.0.0.0/8\" ]" : "", kDefaultRoute,
                         "    lb_policy: ring_hash\n    hash_policy: [ { source_ip: true } ]\n"));
    for (int i = 0; i < 40; ++i) {
      HttpConnection client(proxy.port());
      auto response =
          client.Request(Get("/", "X-Forwarded-For: 198.51.100." + std::to_string(i) + "\r\n"));
      ASSERT_TRUE(response);
    }
    if (trusted) {
      EXPECT_GT(a.requests_seen(), 0u);
      EXPECT_GT(b.requests_seen(), 0u);
    } else {
      EXPECT_TRUE(a.requests_seen() == 0 || b.requests_seen() == 0)
          << a.requests_seen() << " and " << b.requests_seen() << ": a forged address moved the hash";
    }
  }
}

TEST(ProxyEdgeClientAddressTest, Ipv4ClientsOfADualStackListenerAppearAsIpv4) {
  {
    asio::io_context context;
    tcp::acceptor probe(context);
    error_code ec;
    probe.open(tcp::v6(), ec);
    if (!ec) probe.bind(tcp::endpoint(tcp::v6(), 0), ec);
    if (ec) GTEST_SKIP() << "no IPv6 on this machine: " << ec.message();
  }
  test::TestUpstream upstream;
  std::string yaml = EdgeYaml({upstream.port()});
  yaml.replace(yaml.find("127.0.0.1:0"), 11, "[::]:0");
  Proxy proxy(yaml);
  HttpConnection client(proxy.port());  // connects to 127.0.0.1
  auto response = client.Request(Get("/echo"));
  ASSERT_TRUE(response) << client.last_error().message();
  EXPECT_EQ(ReceivedHeader(upstream.last_request().value(), "X-Forwarded-For"), "127.0.0.1");
}

}  // namespace
}  // namespace hermes::integration
