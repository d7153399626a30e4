#include "dataplane/admin/admin_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "dataplane/listener_socket.h"
#include "dataplane/server.h"
#include "hermes/common/address.h"

namespace hermes::dataplane {

namespace bhttp = boost::beast::http;

AdminServer::AdminServer(asio::io_context& io, Server& server)
    : io_(io), server_(server), acceptor_(io.get_executor()) {}

std::string AdminServer::Listen(const std::string& address) {
  auto hp = ParseHostPort(address);
  if (!hp) return "admin.address: invalid address \"" + address + "\"";
  ListenerSockets sockets;
  if (auto err = OpenListenerSockets(*hp, 1, 128, sockets); !err.empty()) return "admin.address: " + err;
  boost::system::error_code ec;
  acceptor_.assign(sockets.protocol, sockets.fds[0], ec);
  if (ec) return "admin.address: " + ec.message();
  port_ = sockets.port;
  asio::co_spawn(io_, AcceptLoop(), asio::detached);
  return {};
}

void AdminServer::Close() {
  boost::system::error_code ec;
  acceptor_.close(ec);
}

Task<void> AdminServer::AcceptLoop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      continue;
    }
    asio::co_spawn(io_, Serve(std::move(socket)), asio::detached);
  }
}

Task<void> AdminServer::Serve(Socket socket) {
  boost::beast::flat_buffer buffer;
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(16384);
    parser.body_limit(65536);
    auto [ec, n] = co_await bhttp::async_read(socket, buffer, parser, kNoThrow);
    if (ec) break;
    auto& req = parser.get();
    std::string_view target = req.target();
    AdminResponse r = RenderAdmin(server_, req.method_string(), target.substr(0, target.find('?')));
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), req.version()};
    res.set(bhttp::field::server, "hermes");
    res.set(bhttp::field::content_type, r.content_type);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(r.body);
    res.prepare_payload();
    auto [wec, wn] = co_await bhttp::async_write(socket, res, kNoThrow);
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace hermes::dataplane
