// WebSocket echo for the test upstream.
#include "tests/support/websocket_session.h"

#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <string>

#include "tests/support/upstream_worker.h"

namespace hermes::test {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

}  // namespace

WebSocketSession::WebSocketSession(boost::asio::ip::tcp::socket socket, UpstreamWorker& worker)
    : UpstreamConnection(worker), stream_(std::move(socket)) {}

// Bytes the client sent after the upgrade request, before our 101, are not replayed: clients
// wait for the handshake response before sending frames.
void WebSocketSession::Accept(http::request<CountingBody> upgrade) {
  upgrade_ = std::move(upgrade);
  stream_.set_option(websocket::stream_base::decorator(
      [name = worker_.name()](websocket::response_type& response) {
        response.set("X-Upstream", name);
      }));
  stream_.async_accept(upgrade_,
                       beast::bind_front_handler(&WebSocketSession::OnAccept, shared_from_this()));
}

void WebSocketSession::Close() {
  error_code ignored;
  beast::get_lowest_layer(stream_).close(ignored);
}

void WebSocketSession::OnAccept(error_code ec) {
  if (ec) return Close();
  Read();
}

void WebSocketSession::Read() {
  stream_.async_read(buffer_,
                     beast::bind_front_handler(&WebSocketSession::OnRead, shared_from_this()));
}

void WebSocketSession::OnRead(error_code ec, std::size_t) {
  if (ec) return Close();
  stream_.text(stream_.got_text());
  stream_.async_write(buffer_.data(),
                      beast::bind_front_handler(&WebSocketSession::OnWrite, shared_from_this()));
}

void WebSocketSession::OnWrite(error_code ec, std::size_t) {
  if (ec) return Close();
  buffer_.consume(buffer_.size());
  Read();
}

}  // namespace hermes::test
