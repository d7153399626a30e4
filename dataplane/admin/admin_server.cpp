#include "dataplane/admin/admin_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "dataplane/server/listener_socket.h"
#include "dataplane/server/server.h"
#include "hermes/common/address.h"

namespace hermes::dataplane {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;

// Closes the socket when a deadline passes; every step below sets one.
using AdminStream = beast::basic_stream<tcp, Executor>;

constexpr int kBacklog = 128;
constexpr uint32_t kMaxHeaderBytes = 16384;
constexpr uint64_t kMaxBodyBytes = 65536;

bool CrossSite(const bhttp::request<bhttp::string_body>& req) {
  if (req.find(bhttp::field::origin) != req.end()) return true;
  auto site = req.find("Sec-Fetch-Site");
  return site != req.end() && site->value() != "same-origin" && site->value() != "none";
}

}  // namespace

AdminServer::AdminServer(asio::io_context& io, Server& server, AdminTimeouts timeouts)
    : io_(io), server_(server), timeouts_(timeouts), acceptor_(io.get_executor()) {}

std::string AdminServer::Listen(const std::string& address) {
  auto hp = ParseHostPort(address);
  if (!hp) return "admin.address: invalid address \"" + address + "\"";
  ListenerSockets sockets;
  if (auto err = OpenListenerSockets(*hp, 1, kBacklog, sockets); !err.empty()) return "admin.address: " + err;
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
    SnapshotPtr snap = server_.snapshot();
    const size_t cap = snap ? snap->config.admin().max_connections() : 1;
    if (connections_ >= cap) {
      // Over admin.max_connections: closed at once rather than left in the backlog (see the
      // header), so a client that holds connections open cannot queue the operator behind it.
      boost::system::error_code close_ec;
      socket.close(close_ec);
      continue;
    }
    ++connections_;
    asio::co_spawn(io_, Serve(std::move(socket)), [this](std::exception_ptr) { --connections_; });
  }
}

Task<void> AdminServer::Serve(Socket socket) {
  AdminStream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (bool first = true;; first = false) {
    // The first request must be whole within the read timeout of the accept; later ones may
    // wait idle, then must be whole within the read timeout of their first byte.
    stream.expires_after(timeouts_.read);
    if (!first && buffer.size() == 0) {
      stream.expires_after(timeouts_.idle);
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
      if (ec) break;
      buffer.commit(n);
      stream.expires_after(timeouts_.read);
    }
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kMaxHeaderBytes);
    parser.body_limit(kMaxBodyBytes);
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
    if (ec) break;
    auto& req = parser.get();
    std::string_view target = req.target();
    AdminRequest request{req.method_string(), target.substr(0, target.find('?')),
                         req[bhttp::field::authorization], CrossSite(req)};
    AdminResponse r = RenderAdmin(server_, request);
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), req.version()};
    res.set(bhttp::field::server, "hermes");
    res.set(bhttp::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) res.set(name, value);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(r.body);
    res.prepare_payload();
    if (req.method() == bhttp::verb::head) res.body().clear();  // Content-Length stays
    stream.expires_after(timeouts_.write);
    auto [wec, wn] = co_await bhttp::async_write(stream, res, kNoThrow);
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
}

}  // namespace hermes::dataplane
