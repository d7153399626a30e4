// A WebSocket connection to the test upstream (/ws): accepts the upgrade, then echoes every text
// and binary message until the client closes.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <memory>

#include "tests/support/counting_body.h"
#include "tests/support/upstream_connection.h"

namespace hermes::test {

class WebSocketSession : public UpstreamConnection,
                         public std::enable_shared_from_this<WebSocketSession> {
 public:
  WebSocketSession(boost::asio::ip::tcp::socket socket, UpstreamWorker& worker);
  void Accept(boost::beast::http::request<CountingBody> upgrade);
  void Close() override;

 private:
  using error_code = boost::system::error_code;

  void OnAccept(error_code ec);
  void Read();
  void OnRead(error_code ec, std::size_t);
  void OnWrite(error_code ec, std::size_t);

  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> stream_;
  boost::beast::http::request<CountingBody> upgrade_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace hermes::test
