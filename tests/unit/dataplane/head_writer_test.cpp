// The heads Hermes writes (hop-by-hop removal, forwarding headers, route header edits) and the
// input checks that decide which requests and responses are refused.
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/codec/http1/checks.h"
#include "dataplane/codec/http1/head_writer.h"
#include "dataplane/codec/http1/message.h"

namespace hermes::dataplane::http1 {
namespace {

using boost::system::error_code;

// A request head parsed the way the proxy parses it (Beast parser, arena-backed fields).
class ParsedRequest {
 public:
  explicit ParsedRequest(std::string_view raw)
      : parser_(std::piecewise_construct, std::make_tuple(),
                std::make_tuple(FieldsAllocator(arena_))) {
    error_code ec;
    parser_.put(boost::asio::buffer(raw.data(), raw.size()), ec);
    EXPECT_TRUE(parser_.is_header_done()) << "not a complete head: " << ec.message();
  }
  const RequestHeader& header() const { return parser_.get().base(); }

 private:
  http::Arena arena_{4096};
  RequestParser parser_;
};

class ParsedResponse {
 public:
  explicit ParsedResponse(std::string_view raw)
      : parser_(std::piecewise_construct, std::make_tuple(),
                std::make_tuple(FieldsAllocator(arena_))) {
    error_code ec;
    parser_.put(boost::asio::buffer(raw.data(), raw.size()), ec);
    EXPECT_TRUE(parser_.is_header_done()) << "not a complete head: " << ec.message();
  }
  const ResponseHeader& header() const { return parser_.get().base(); }

 private:
  http::Arena arena_{4096};
  ResponseParser parser_;
};

// Every value of header `name` (case-insensitive) in a written head, in order.
std::vector<std::string> Values(std::string_view head, std::string_view name) {
  std::vector<std::string> values;
  std::size_t start = head.find("\r\n");
  while (start != std::string_view::npos) {
    start += 2;
    const std::size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos || end == start) break;
    const std::string_view line = head.substr(start, end - start);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && IEquals(line.substr(0, colon), name)) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      values.emplace_back(value);
    }
    start = end;
  }
  return values;
}

std::string Value(std::string_view head, std::string_view name) {
  auto values = Values(head, name);
  return values.empty() ? "<absent>" : values.front();
}

std::string_view StartLine(std::string_view head) { return head.substr(0, head.find("\r\n")); }

ForwardedRequest Forward(std::string_view target = "/", std::string_view host = "example.com") {
  ForwardedRequest fwd;
  fwd.target = target;
  fwd.host = host;
  fwd.peer_ip = "10.0.0.9";
  fwd.request_id = "generated-id";
  return fwd;
}

std::string WriteRequest(std::string_view raw, const Route& route, const ForwardedRequest& fwd) {
  ParsedRequest req(raw);
  std::string out;
  WriteRequestHead(out, req.header(), route, fwd);
  return out;
}

std::string WriteResponse(std::string_view raw, const Route& route, const ForwardedResponse& fwd) {
  ParsedResponse res(raw);
  std::string out;
  WriteResponseHead(out, res.header(), route, fwd);
  return out;
}

// ---- WriteRequestHead ----

TEST(WriteRequestHeadTest, WritesRewrittenTargetHostAndHttp11) {
  const std::string out = WriteRequest("GET /api/x?q=1 HTTP/1.0\r\nHost: a.example\r\n\r\n", Route{},
                                       Forward("/echo/x?q=1", "internal.example"));
  EXPECT_EQ(StartLine(out), "GET /echo/x?q=1 HTTP/1.1");
  EXPECT_EQ(Values(out, "Host"), std::vector<std::string>{"internal.example"});
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
}

TEST(WriteRequestHeadTest, RemovesConnectionAndTheFieldsItLists) {
  const std::string out = WriteRequest(
      "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Hop\r\nX-Hop: secret\r\n"
      "X-Kept: 1\r\n\r\n",
      Route{}, Forward());
  EXPECT_TRUE(Values(out, "Connection").empty());
  EXPECT_TRUE(Values(out, "X-Hop").empty());
  EXPECT_EQ(Value(out, "X-Kept"), "1");
}

TEST(WriteRequestHeadTest, RemovesStandardHopByHopFields) {
  const std::string out = WriteRequest(
      "GET / HTTP/1.1\r\nHost: h\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n"
      "Proxy-Authorization: Basic eA==\r\nProxy-Custom: 1\r\nTE: trailers\r\nTrailer: X-T\r\n"
      "Upgrade: websocket\r\nX-Kept: 1\r\n\r\n",
      Route{}, Forward());
  for (const char* name : {"Keep-Alive", "Proxy-Connection", "Proxy-Authorization",
                           "Proxy-Custom", "TE", "Trailer", "Upgrade"}) {
    EXPECT_TRUE(Values(out, name).empty()) << name << " was forwarded";
  }
  EXPECT_EQ(Value(out, "X-Kept"), "1");
}

TEST(WriteRequestHeadTest, KeepsUpgradeWhenTunneling) {
  ForwardedRequest fwd = Forward();
  fwd.upgrade = true;
  const std::string out = WriteRequest(
      "GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
      Route{}, fwd);
  EXPECT_EQ(Values(out, "Upgrade"), std::vector<std::string>{"websocket"});
  EXPECT_EQ(Values(out, "Connection"), std::vector<std::string>{"upgrade"});
  EXPECT_EQ(Value(out, "Sec-WebSocket-Key"), "dGhlIHNhbXBsZSBub25jZQ==");
}

TEST(WriteRequestHeadTest, SetsXForwardedForToTheClientAddress) {
  const std::string out = WriteRequest("GET / HTTP/1.1\r\nHost: h\r\n\r\n", Route{}, Forward());
  EXPECT_EQ(Values(out, "X-Forwarded-For"), std::vector<std::string>{"10.0.0.9"});
}

TEST(WriteRequestHeadTest, AppendsPeerAddressToATrustedPeersXForwardedFor) {
  ForwardedRequest fwd = Forward();
  fwd.trusted_peer = true;
  const std::string out = WriteRequest(
      "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-For: 10.1.1.1, 10.2.2.2\r\n\r\n",
      Route{}, fwd);
  EXPECT_EQ(Values(out, "X-Forwarded-For"),
            std::vector<std::string>{"1.2.3.4, 10.1.1.1, 10.2.2.2, 10.0.0.9"});
}

TEST(WriteRequestHeadTest, DropsAnUntrustedPeersClientIdentityClaims) {
  const std::string out = WriteRequest(
      "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\nX-Real-IP: 1.2.3.4\r\n"
      "Forwarded: for=1.2.3.4\r\nX-Forwarded-Port: 443\r\nX-Forwarded-Ssl: on\r\n\r\n",
      Route{}, Forward());
  EXPECT_EQ(Values(out, "X-Forwarded-For"), std::vector<std::string>{"10.0.0.9"});
  for (const char* name : {"X-Real-IP", "Forwarded", "X-Forwarded-Port", "X-Forwarded-Ssl"}) {
    EXPECT_TRUE(Values(out, name).empty()) << name << " was forwarded";
  }
}

TEST(WriteRequestHeadTest, DropsUnderscoreSpellingsAndOtherClientAddressClaims) {
  const std::string out = WriteRequest(
      "GET / HTTP/1.1\r\nHost: h\r\nX_Forwarded_For: 1.2.3.4\r\nX_Real_IP: 1.2.3.4\r\n"
      "True-Client-IP: 1.2.3.4\r\nCF-Connecting-IP: 1.2.3.4\r\nX-Client-IP: 1.2.3.4\r\n\r\n",
      Route{}, Forward());
  for (const char* name : {"X_Forwarded_For", "X_Real_IP", "True-Client-IP", "CF-Connecting-IP",
                           "X-Client-IP"}) {
    EXPECT_TRUE(Values(out, name).empty()) << name << " was forwarded";
  }
}

TEST(WriteRequestHeadTest, KeepsATrustedPeersProtoAndHost) {
  ForwardedRequest fwd = Forward("/", "internal");
  fwd.trusted_peer = true;
  const std::string out = WriteRequest(
      "GET / HTTP/1.1\r\nHost: public.example\r\nX-Forwarded-Proto: https\r\n"
      "X-Forwarded-Host: edge.example\r\nX-Real-IP: 1.2.3.4\r\n\r\n",
      Route{}, fwd);
  EXPECT_EQ(Values(out, "X-Forwarded-Proto"), std::vector<std::string>{"https"});
  EXPECT_EQ(Values(out, "X-Forwarded-Host"), std::vector<std::string>{"edge.example"});
  EXPECT_EQ(Value(out, "X-Real-IP"), "1.2.3.4");
}

TEST(WriteRequestHeadTest, SetsXForwardedProtoAndHostReplacingTheClients) {
  const std::string out = WriteRequest(
      "GET / HTTP/1.1\r\nHost: public.example:8080\r\nX-Forwarded-Proto: https\r\n"
      "X-Forwarded-Host: spoofed\r\n\r\n",
      Route{}, Forward("/", "internal"));
  EXPECT_EQ(Values(out, "X-Forwarded-Proto"), std::vector<std::string>{"http"});
  EXPECT_EQ(Values(out, "X-Forwarded-Host"), std::vector<std::string>{"public.example:8080"});
}

TEST(WriteRequestHeadTest, AddsViaWithTheClientsProtocolVersion) {
  EXPECT_EQ(Values(WriteRequest("GET / HTTP/1.1\r\nHost: h\r\n\r\n", Route{}, Forward()), "Via"),
            std::vector<std::string>{"1.1 hermes"});
  EXPECT_EQ(Values(WriteRequest("GET / HTTP/1.0\r\n\r\n", Route{}, Forward()), "Via"),
            std::vector<std::string>{"1.0 hermes"});
}

TEST(WriteRequestHeadTest, AppendsToExistingVia) {
  const std::string out =
      WriteRequest("GET / HTTP/1.1\r\nHost: h\r\nVia: 1.0 edge\r\n\r\n", Route{}, Forward());
  EXPECT_EQ(Values(out, "Via"), std::vector<std::string>{"1.0 edge, 1.1 hermes"});
}

TEST(WriteRequestHeadTest, KeepsTheClientsRequestId) {
  ParsedRequest req("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: client-id-1\r\n\r\n");
  ASSERT_EQ(ClientRequestId(req.header()), "client-id-1");
  ForwardedRequest fwd = Forward();
  fwd.request_id = "";  // what the session passes when the client sent a usable id
  std::string out;
  WriteRequestHead(out, req.header(), Route{}, fwd);
  EXPECT_EQ(Values(out, "X-Request-Id"), std::vector<std::string>{"client-id-1"});
}

TEST(WriteRequestHeadTest, AddsGeneratedRequestIdWhenTheClientSentNone) {
  const std::string out = WriteRequest("GET / HTTP/1.1\r\nHost: h\r\n\r\n", Route{}, Forward());
  EXPECT_EQ(Values(out, "X-Request-Id"), std::vector<std::string>{"generated-id"});
}

TEST(WriteRequestHeadTest, ReplacesAnUnusableClientRequestId) {
  ParsedRequest req("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: has space\r\n\r\n");
  EXPECT_EQ(ClientRequestId(req.header()), "");
  std::string out;
  WriteRequestHead(out, req.header(), Route{}, Forward());
  EXPECT_EQ(Values(out, "X-Request-Id"), std::vector<std::string>{"generated-id"});
}

TEST(WriteRequestHeadTest, ClientRequestIdOver200BytesIsUnusable) {
  ParsedRequest req("GET / HTTP/1.1\r\nHost: h\r\nX-Request-Id: " + std::string(201, 'a') +
                    "\r\n\r\n");
  EXPECT_EQ(ClientRequestId(req.header()), "");
}

TEST(WriteRequestHeadTest, RemovesConfiguredRequestHeadersCaseInsensitively) {
  Route route;
  route.request_headers_to_remove = {"x-secret"};
  const std::string out = WriteRequest(
      "GET / HTTP/1.1\r\nHost: h\r\nX-SECRET: s\r\nX-Kept: 1\r\n\r\n", route, Forward());
  EXPECT_TRUE(Values(out, "X-Secret").empty());
  EXPECT_EQ(Value(out, "X-Kept"), "1");
}

TEST(WriteRequestHeadTest, AddedRequestHeaderReplacesTheClientsValue) {
  Route route;
  route.request_headers_to_add = {{"X-Added", "yes", false}};
  const std::string out =
      WriteRequest("GET / HTTP/1.1\r\nHost: h\r\nX-Added: client\r\n\r\n", route, Forward());
  EXPECT_EQ(Values(out, "X-Added"), std::vector<std::string>{"yes"});
}

TEST(WriteRequestHeadTest, AppendedRequestHeaderKeepsTheClientsValue) {
  Route route;
  route.request_headers_to_add = {{"X-Added", "yes", true}};
  const std::string out =
      WriteRequest("GET / HTTP/1.1\r\nHost: h\r\nX-Added: client\r\n\r\n", route, Forward());
  EXPECT_EQ(Values(out, "X-Added"), (std::vector<std::string>{"client", "yes"}));
}

TEST(WriteRequestHeadTest, WritesContentLengthFromTheFraming) {
  ForwardedRequest fwd = Forward();
  fwd.framing = {Framing::Kind::kLength, 5};
  const std::string out = WriteRequest(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", Route{},
      fwd);
  EXPECT_EQ(Values(out, "Content-Length"), std::vector<std::string>{"5"});
  EXPECT_TRUE(Values(out, "Transfer-Encoding").empty());
  EXPECT_TRUE(Values(out, "Expect").empty());
}

TEST(WriteRequestHeadTest, WritesChunkedFramingOnce) {
  ForwardedRequest fwd = Forward();
  fwd.framing = {Framing::Kind::kChunked, 0};
  const std::string out = WriteRequest(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", Route{}, fwd);
  EXPECT_EQ(Values(out, "Transfer-Encoding"), std::vector<std::string>{"chunked"});
  EXPECT_TRUE(Values(out, "Content-Length").empty());
}

// ---- WriteResponseHead ----

TEST(WriteResponseHeadTest, RemovesHopByHopFieldsAndThoseConnectionLists) {
  ForwardedResponse fwd;
  fwd.framing = {Framing::Kind::kLength, 2};
  const std::string out = WriteResponse(
      "HTTP/1.1 200 OK\r\nConnection: X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
      "Proxy-Authenticate: Basic\r\nTrailer: X-T\r\nUpgrade: h2c\r\nX-Kept: 1\r\n"
      "Content-Length: 2\r\n\r\n",
      Route{}, fwd);
  for (const char* name :
       {"Connection", "X-Hop", "Keep-Alive", "Proxy-Authenticate", "Trailer", "Upgrade"}) {
    EXPECT_TRUE(Values(out, name).empty()) << name << " was forwarded";
  }
  EXPECT_EQ(Value(out, "X-Kept"), "1");
  EXPECT_EQ(Values(out, "Content-Length"), std::vector<std::string>{"2"});
}

TEST(WriteResponseHeadTest, KeepsStatusAndReason) {
  const std::string out =
      WriteResponse("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", Route{}, {});
  EXPECT_EQ(StartLine(out), "HTTP/1.1 404 Not Found");
}

TEST(WriteResponseHeadTest, SaysConnectionCloseWhenClosing) {
  ForwardedResponse fwd;
  fwd.close = true;
  const std::string out =
      WriteResponse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Route{}, fwd);
  EXPECT_EQ(Values(out, "Connection"), std::vector<std::string>{"close"});
}

TEST(WriteResponseHeadTest, SaysKeepAliveToAnHttp10ClientThatAskedForIt) {
  ForwardedResponse fwd;
  fwd.keep_alive_10 = true;
  const std::string out =
      WriteResponse("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", Route{}, fwd);
  EXPECT_EQ(Values(out, "Connection"), std::vector<std::string>{"keep-alive"});
}

TEST(WriteResponseHeadTest, AsIsFramingCopiesTheUpstreamsContentLength) {
  ForwardedResponse fwd;
  fwd.framing.kind = Framing::Kind::kAsIs;
  const std::string out =
      WriteResponse("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", Route{}, fwd);
  EXPECT_EQ(Values(out, "Content-Length"), std::vector<std::string>{"1234"});
}

TEST(WriteResponseHeadTest, ChunkedFramingReplacesTheUpstreamsFraming) {
  ForwardedResponse fwd;
  fwd.framing.kind = Framing::Kind::kChunked;
  const std::string out =
      WriteResponse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", Route{}, fwd);
  EXPECT_EQ(Values(out, "Transfer-Encoding"), std::vector<std::string>{"chunked"});
}

TEST(WriteResponseHeadTest, KeepsUpgradeOnSwitchingProtocols) {
  ForwardedResponse fwd;
  fwd.upgrade = true;
  const std::string out = WriteResponse(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
      Route{}, fwd);
  EXPECT_EQ(Values(out, "Upgrade"), std::vector<std::string>{"websocket"});
  EXPECT_EQ(Values(out, "Connection"), std::vector<std::string>{"upgrade"});
  EXPECT_EQ(Value(out, "Sec-WebSocket-Accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(WriteResponseHeadTest, AppliesResponseHeaderAddAndRemove) {
  Route route;
  route.response_headers_to_add = {{"X-Resp", "added", false}};
  route.response_headers_to_remove = {"x-upstream"};
  const std::string out = WriteResponse(
      "HTTP/1.1 200 OK\r\nX-Upstream: u1\r\nX-Resp: old\r\nContent-Length: 0\r\n\r\n", route, {});
  EXPECT_TRUE(Values(out, "X-Upstream").empty());
  EXPECT_EQ(Values(out, "X-Resp"), std::vector<std::string>{"added"});
}

// ---- WriteLocalResponse ----

TEST(WriteLocalResponseTest, WritesStatusBodyAndLength) {
  std::string out;
  WriteLocalResponse(out, 404, "no route", /*close=*/false, /*head_request=*/false);
  EXPECT_EQ(StartLine(out), "HTTP/1.1 404 Not Found");
  EXPECT_EQ(Value(out, "Content-Length"), "9");
  EXPECT_TRUE(out.ends_with("\r\n\r\nno route\n"));
  EXPECT_TRUE(Values(out, "Connection").empty());
}

TEST(WriteLocalResponseTest, SaysConnectionCloseWhenClosing) {
  std::string out;
  WriteLocalResponse(out, 400, "bad", /*close=*/true, /*head_request=*/false);
  EXPECT_EQ(Values(out, "Connection"), std::vector<std::string>{"close"});
}

TEST(WriteLocalResponseTest, AnswersHeadWithoutBody) {
  std::string out;
  WriteLocalResponse(out, 502, "upstream failed", /*close=*/false, /*head_request=*/true);
  EXPECT_TRUE(out.ends_with("\r\n\r\n"));
  EXPECT_EQ(Value(out, "Content-Length"), "16");
}

// ---- CheckRawHead ----

TEST(CheckRawHeadTest, AcceptsAWellFormedHead) {
  EXPECT_TRUE(CheckRawHead("GET / HTTP/1.1\r\nHost: h\r\nX-A: b c\r\n\r\n").ok());
}

TEST(CheckRawHeadTest, RejectsNul) {
  static constexpr char kHead[] = "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n";
  EXPECT_EQ(CheckRawHead(std::string_view(kHead, sizeof(kHead) - 1)).status, 400u);
}

TEST(CheckRawHeadTest, RejectsBareLf) {
  EXPECT_EQ(CheckRawHead("GET / HTTP/1.1\nHost: h\r\n\r\n").status, 400u);
  EXPECT_EQ(CheckRawHead("GET / HTTP/1.1\r\nHost: h\n\r\n").status, 400u);
}

TEST(CheckRawHeadTest, RejectsBareCr) {
  EXPECT_EQ(CheckRawHead("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n").status, 400u);
}

TEST(CheckRawHeadTest, RejectsObsFoldWithSpace) {
  EXPECT_EQ(CheckRawHead("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n").status, 400u);
}

TEST(CheckRawHeadTest, RejectsObsFoldWithTab) {
  EXPECT_EQ(CheckRawHead("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n").status, 400u);
}

// ---- CheckRequest / CheckResponse on heads built field by field ----

class CheckTest : public ::testing::Test {
 protected:
  RequestHeader Request(unsigned version = 11) {
    RequestHeader req{FieldsAllocator(arena_)};
    req.method(beast_http::verb::get);
    req.target("/");
    req.version(version);
    return req;
  }
  ResponseHeader Response() {
    ResponseHeader res{FieldsAllocator(arena_)};
    res.result(200);
    res.version(11);
    return res;
  }
  http::Arena arena_{8192};
};

TEST_F(CheckTest, AcceptsAnOrdinaryRequest) {
  auto req = Request();
  req.insert(beast_http::field::host, "h");
  EXPECT_TRUE(CheckRequest(req).ok());
}

TEST_F(CheckTest, RejectsHttp11RequestWithoutHost) {
  EXPECT_EQ(CheckRequest(Request(11)).status, 400u);
}

TEST_F(CheckTest, AcceptsHttp10RequestWithoutHost) { EXPECT_TRUE(CheckRequest(Request(10)).ok()); }

TEST_F(CheckTest, RejectsDuplicateHost) {
  auto req = Request();
  req.insert(beast_http::field::host, "a");
  req.insert(beast_http::field::host, "b");
  EXPECT_EQ(CheckRequest(req).status, 400u);
}

TEST_F(CheckTest, RejectsBothContentLengthAndTransferEncoding) {
  auto req = Request();
  req.insert(beast_http::field::host, "h");
  req.insert(beast_http::field::content_length, "5");
  req.insert(beast_http::field::transfer_encoding, "chunked");
  EXPECT_EQ(CheckRequest(req).status, 400u);
}

TEST_F(CheckTest, RejectsTransferCodingOtherThanChunked) {
  auto req = Request();
  req.insert(beast_http::field::host, "h");
  req.insert(beast_http::field::transfer_encoding, "gzip");
  EXPECT_EQ(CheckRequest(req).status, 400u);
}

TEST_F(CheckTest, RejectsChunkedAfterAnotherCoding) {
  auto req = Request();
  req.insert(beast_http::field::host, "h");
  req.insert(beast_http::field::transfer_encoding, "gzip, chunked");
  EXPECT_EQ(CheckRequest(req).status, 400u);
}

TEST_F(CheckTest, RejectsTwoTransferEncodingFields) {
  auto req = Request();
  req.insert(beast_http::field::host, "h");
  req.insert(beast_http::field::transfer_encoding, "chunked");
  req.insert(beast_http::field::transfer_encoding, "chunked");
  EXPECT_EQ(CheckRequest(req).status, 400u);
}

TEST_F(CheckTest, RejectsTransferEncodingInHttp10) {
  auto req = Request(10);
  req.insert(beast_http::field::transfer_encoding, "chunked");
  EXPECT_EQ(CheckRequest(req).status, 400u);
}

TEST_F(CheckTest, AcceptsChunkedTransferEncoding) {
  auto req = Request();
  req.insert(beast_http::field::host, "h");
  req.insert(beast_http::field::transfer_encoding, "chunked");
  EXPECT_TRUE(CheckRequest(req).ok());
}

TEST_F(CheckTest, RejectsDifferingContentLengths) {
  auto req = Request();
  req.insert(beast_http::field::host, "h");
  req.insert(beast_http::field::content_length, "5");
  req.insert(beast_http::field::content_length, "6");
  EXPECT_EQ(CheckRequest(req).status, 400u);
}

TEST_F(CheckTest, AcceptsRepeatedEqualContentLengths) {
  auto req = Request();
  req.insert(beast_http::field::host, "h");
  req.insert(beast_http::field::content_length, "5");
  req.insert(beast_http::field::content_length, "5");
  EXPECT_TRUE(CheckRequest(req).ok());
}

TEST_F(CheckTest, RejectsNonNumericContentLength) {
  auto req = Request();
  req.insert(beast_http::field::host, "h");
  req.insert(beast_http::field::content_length, "5x");
  EXPECT_EQ(CheckRequest(req).status, 400u);
}

TEST_F(CheckTest, RejectsConnect) {
  auto req = Request();
  req.method(beast_http::verb::connect);
  req.insert(beast_http::field::host, "h:443");
  EXPECT_EQ(CheckRequest(req).status, 405u);
}

TEST_F(CheckTest, ResponseWithBothContentLengthAndTransferEncodingIsBadGateway) {
  auto res = Response();
  res.insert(beast_http::field::content_length, "5");
  res.insert(beast_http::field::transfer_encoding, "chunked");
  EXPECT_EQ(CheckResponse(res).status, 502u);
}

TEST_F(CheckTest, ResponseWithDifferingContentLengthsIsBadGateway) {
  auto res = Response();
  res.insert(beast_http::field::content_length, "5");
  res.insert(beast_http::field::content_length, "7");
  EXPECT_EQ(CheckResponse(res).status, 502u);
}

TEST_F(CheckTest, AcceptsAnOrdinaryResponse) {
  auto res = Response();
  res.insert(beast_http::field::content_length, "5");
  EXPECT_TRUE(CheckResponse(res).ok());
}

}  // namespace
}  // namespace hermes::dataplane::http1
