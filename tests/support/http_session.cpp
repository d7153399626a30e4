// The test upstream's HTTP/1.1 behaviours, one request at a time per connection.
#include "tests/support/http_session.h"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <charconv>
#include <limits>

#include "tests/support/upstream_response.h"
#include "tests/support/upstream_worker.h"
#include "tests/support/websocket_session.h"

namespace hermes::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr std::size_t kBufferReserve = 16 * 1024;
constexpr std::size_t kHeaderLimit = 64 * 1024;
constexpr uint64_t kBytesPiece = 64 * 1024;
constexpr uint64_t kChunkPiece = 16 * 1024;
// Long enough for a client to read a final response before our close turns into a reset.
constexpr auto kDrainTimeout = std::chrono::seconds(2);

const std::string& Filler() {
  static const std::string filler(kBytesPiece, 'x');
  return filler;
}

// Errors that mean the client sent something that is not HTTP/1.1, as opposed to going away.
bool IsMalformedRequest(boost::system::error_code ec) {
  return ec.category() == make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

}  // namespace

HttpSession::HttpSession(asio::ip::tcp::socket socket, UpstreamWorker& worker)
    : UpstreamConnection(worker), socket_(std::move(socket)), timer_(socket_.get_executor()) {
  buffer_.reserve(kBufferReserve);
  out_.reserve(1024);
}

void HttpSession::Start() { ReadHead(); }

void HttpSession::Close() {
  error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
}

void HttpSession::ReadHead() {
  parser_.emplace();
  parser_->header_limit(kHeaderLimit);
  parser_->body_limit(std::numeric_limits<uint64_t>::max());
  http::async_read_header(socket_, buffer_, *parser_,
                          beast::bind_front_handler(&HttpSession::OnHead, shared_from_this()));
}

void HttpSession::OnHead(error_code ec, std::size_t) {
  if (ec) return IsMalformedRequest(ec) ? RejectBadRequest() : Close();
  const auto& request = parser_->get();
  worker_.log().RecordHead(worker_.index(), request);
  route_ = MatchRoute(request.target());
  if (unsigned forced = worker_.log().forced_status.load(); forced != 0 && route_.kind != RouteKind::kHealth)
    route_ = Route{RouteKind::kStatus, forced};
  version_ = request.version();
  keep_alive_ = request.keep_alive();
  head_only_ = request.method() == http::verb::head;
  if (route_.kind == RouteKind::kClose) return Close();
  // Beast never sends 100 Continue itself; the client may be waiting for it before the body.
  const bool expects_continue =
      version_ == 11 && beast::iequals(request[http::field::expect], "100-continue");
  if (expects_continue && !parser_->is_done()) {
    return asio::async_write(
        socket_, asio::buffer(kContinue),
        beast::bind_front_handler(&HttpSession::OnContinueSent, shared_from_this()));
  }
  ReadBody();
}

void HttpSession::OnContinueSent(error_code ec, std::size_t) {
  if (ec) return Close();
  ReadBody();
}

void HttpSession::ReadBody() {
  if (parser_->is_done()) return OnBody({}, 0);
  http::async_read(socket_, buffer_, *parser_,
                   beast::bind_front_handler(&HttpSession::OnBody, shared_from_this()));
}

void HttpSession::OnBody(error_code ec, std::size_t) {
  if (ec) return IsMalformedRequest(ec) ? RejectBadRequest() : Close();
  worker_.log().RecordBodyBytes(worker_.index(), parser_->get().body());
  Respond();
}

void HttpSession::RejectBadRequest() {
  version_ = 11;
  keep_alive_ = false;
  head_only_ = false;
  RespondFixed(400, "bad request\n");
}

void HttpSession::Respond() {
  switch (route_.kind) {
    case RouteKind::kHello:
      return RespondFixed(200, worker_.hello());
    case RouteKind::kEcho:
      return RespondEcho();
    case RouteKind::kStatus:
      return RespondFixed(static_cast<unsigned>(route_.number),
                          "status " + std::to_string(route_.number) + "\n");
    case RouteKind::kDelay:
      return RespondAfterDelay(std::chrono::milliseconds(route_.number));
    case RouteKind::kBytes:
      return RespondStream(route_.number, false);
    case RouteKind::kChunked:
      return RespondStream(route_.number, true);
    case RouteKind::kUpload:
      return RespondFixed(200, "{\"bytes\":" + std::to_string(parser_->get().body()) + "}\n",
                          "application/json");
    case RouteKind::kClose:
      return Close();
    case RouteKind::kCloseAfterResponse:
      keep_alive_ = false;
      return RespondFixed(200, "closing\n");
    case RouteKind::kBadFraming:
      return RespondRaw(kBadFramingHead, kBadFramingBody);
    case RouteKind::kBadChunk:
      return RespondRaw(kBadChunkHead, kBadChunkBody);
    case RouteKind::kEarlyHints:
      // RFC 9110 section 15.2: no 1xx to an HTTP/1.0 client.
      out_.assign(version_ == 11 ? kEarlyHints : "");
      AppendFixed(200, "early hints sent\n");
      return WriteOut();
    case RouteKind::kWebSocket:
      return UpgradeToWebSocket();
    case RouteKind::kHealth:
      return RespondFixed(200, "ok");
    case RouteKind::kHeaders:
      if (const auto lines = HeaderLinesFromQuery(route_.query)) {
        return RespondFixed(200, "headers set\n", "text/plain", *lines);
      }
      return RespondFixed(400, "bad header in query\n");
    case RouteKind::kInvalid:
      return RespondFixed(400, "bad number in path\n");
  }
}

void HttpSession::RespondFixed(unsigned status, std::string_view body,
                               std::string_view content_type, std::string_view extra_lines) {
  out_.clear();
  AppendFixed(status, body, content_type, extra_lines);
  WriteOut();
}

void HttpSession::AppendFixed(unsigned status, std::string_view body, std::string_view content_type,
                              std::string_view extra_lines) {
  // RFC 9110 sections 15.3.5 and 15.4.5: 204 and 304 carry no body and 204 no Content-Length.
  const bool bodiless = status == 204 || status == 304;
  AppendHead(out_,
             {.status = status,
              .content_type = bodiless ? "" : content_type,
              .content_length = bodiless ? std::nullopt : std::optional<uint64_t>(body.size()),
              .connection = ConnectionValue(version_, keep_alive_),
              .upstream_name = worker_.name(),
              .extra_lines = extra_lines});
  if (!head_only_ && !bodiless) out_.append(body);
}

void HttpSession::RespondEcho() {
  std::string body;
  AppendEchoJson(body, parser_->get(), parser_->get().body());
  RespondFixed(200, body, "application/json");
}

// The raw responses announce Connection: close; after bad framing the stream cannot be reused.
void HttpSession::RespondRaw(std::string_view head, std::string_view body) {
  keep_alive_ = false;
  out_.assign(head);
  if (!head_only_) out_.append(body);
  WriteOut();
}

void HttpSession::RespondAfterDelay(std::chrono::milliseconds delay) {
  if (!socket_.is_open()) return;
  timer_.expires_after(delay);
  timer_.async_wait(beast::bind_front_handler(&HttpSession::OnDelayElapsed, shared_from_this()));
}

void HttpSession::OnDelayElapsed(error_code ec) {
  if (ec) return Close();
  RespondFixed(200, "delayed\n");
}

void HttpSession::RespondStream(uint64_t bytes, bool chunked) {
  out_.clear();
  // RFC 9112 section 7: an HTTP/1.0 client cannot read chunked; delimit the body by closing.
  const bool close_delimited = chunked && version_ == 10;
  if (close_delimited) keep_alive_ = false;
  stream_chunked_ = chunked && !close_delimited;
  stream_remaining_ = head_only_ ? 0 : bytes;
  stream_finished_ = head_only_;
  AppendHead(out_, {.content_type = "application/octet-stream",
                    .content_length = chunked ? std::nullopt : std::optional<uint64_t>(bytes),
                    .chunked = stream_chunked_,
                    .connection = ConnectionValue(version_, keep_alive_),
                    .upstream_name = worker_.name()});
  asio::async_write(socket_, asio::buffer(out_),
                    beast::bind_front_handler(&HttpSession::WriteNextPiece, shared_from_this()));
}

// Writes the body a piece at a time from one shared filler buffer: nothing is held per byte.
void HttpSession::WriteNextPiece(error_code ec, std::size_t) {
  if (ec) return Close();
  if (stream_finished_) return OnResponseWritten({}, 0);
  auto next = beast::bind_front_handler(&HttpSession::WriteNextPiece, shared_from_this());
  if (stream_remaining_ == 0) {
    stream_finished_ = true;
    if (!stream_chunked_) return OnResponseWritten({}, 0);
    return asio::async_write(socket_, asio::buffer(std::string_view("0\r\n\r\n")), std::move(next));
  }
  const uint64_t piece = std::min(stream_remaining_, stream_chunked_ ? kChunkPiece : kBytesPiece);
  stream_remaining_ -= piece;
  const asio::const_buffer data = asio::buffer(Filler().data(), piece);
  if (!stream_chunked_) return asio::async_write(socket_, data, std::move(next));

  char* end = std::to_chars(chunk_size_line_.data(), chunk_size_line_.data() + 16, piece, 16).ptr;
  *end++ = '\r';
  *end++ = '\n';
  const std::array<asio::const_buffer, 3> chunk{
      asio::buffer(chunk_size_line_.data(), end - chunk_size_line_.data()), data,
      asio::buffer(std::string_view("\r\n"))};
  asio::async_write(socket_, chunk, std::move(next));
}

void HttpSession::UpgradeToWebSocket() {
  if (!beast::websocket::is_upgrade(parser_->get())) {
    return RespondFixed(426, "websocket upgrade required\n", "text/plain",
                        "Upgrade: websocket\r\n");
  }
  std::make_shared<WebSocketSession>(std::move(socket_), worker_)->Accept(parser_->release());
}

void HttpSession::WriteOut() {
  asio::async_write(socket_, asio::buffer(out_),
                    beast::bind_front_handler(&HttpSession::OnResponseWritten, shared_from_this()));
}

void HttpSession::OnResponseWritten(error_code ec, std::size_t) {
  if (ec) return Close();
  if (!keep_alive_) return DrainThenClose();
  ReadHead();
}

// Closing with unread input makes the kernel send a reset, which can destroy the response
// before the client reads it; so half-close and read until the client closes too.
void HttpSession::DrainThenClose() {
  if (!socket_.is_open()) return;
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  timer_.expires_after(kDrainTimeout);
  timer_.async_wait(beast::bind_front_handler(&HttpSession::OnDrainDeadline, shared_from_this()));
  buffer_.clear();
  socket_.async_read_some(buffer_.prepare(kBufferReserve),
                          beast::bind_front_handler(&HttpSession::OnDrained, shared_from_this()));
}

void HttpSession::OnDrainDeadline(error_code) { Close(); }

void HttpSession::OnDrained(error_code ec, std::size_t) {
  if (ec) return Close();
  socket_.async_read_some(buffer_.prepare(kBufferReserve),
                          beast::bind_front_handler(&HttpSession::OnDrained, shared_from_this()));
}

}  // namespace hermes::test
