#include "controlplane/web/http_listener.h"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include "hermes/common/address.h"

namespace hermes::controlplane {

namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;

HttpListener::~HttpListener() {
  // shutdown(2) wakes the thread blocked in accept(2) (it then fails), unlike close from here.
  if (acceptor_.is_open()) ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
}

std::string HttpListener::Start(const std::string& address) {
  std::optional<HostPort> hp = ParseHostPort(address.front() == ':' ? "0.0.0.0" + address : address);
  if (!hp) return "--http-listen \"" + address + "\" is not host:port";
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address(hp->host == "" ? "0.0.0.0" : hp->host, ec);
  if (ec) return "--http-listen \"" + address + "\": " + ec.message();
  tcp::endpoint endpoint(ip, hp->port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(64, ec);
  if (ec) return "--http-listen " + address + ": " + ec.message();
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread([this] { Serve(); });
  return "";
}

void HttpListener::Serve() {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket socket(io_);
    acceptor_.accept(socket, ec);
    if (ec) return;  // shut down (or the listening socket failed)
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    http::read(socket, buffer, request, ec);
    if (ec) continue;
    http::response<http::string_body> response;
    response.version(11);
    response.keep_alive(false);
    response.set(http::field::server, "hermes-controlplane");
    std::string_view target = request.target();
    if (target == "/healthz") {
      response.result(http::status::ok);
      response.set(http::field::content_type, "text/plain");
      response.body() = "ok\n";
    } else if (target == "/metrics") {
      response.result(http::status::ok);
      response.set(http::field::content_type, "text/plain; version=0.0.4");
      response.body() = metrics_();
    } else {
      response.result(http::status::not_found);
      response.set(http::field::content_type, "text/plain");
      response.body() = "not found (try /healthz or /metrics)\n";
    }
    response.prepare_payload();
    http::write(socket, response, ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }
}

}  // namespace hermes::controlplane
