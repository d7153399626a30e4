#include "hermes/common/http_server.h"

#include <netdb.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstring>
#include <optional>
#include <unordered_set>

namespace hermes {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Executor = asio::io_context::executor_type;
using Socket = asio::basic_stream_socket<tcp, Executor>;
using Acceptor = asio::basic_socket_acceptor<tcp, Executor>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Executor>;
template <class T = void>
using Task = asio::awaitable<T, Executor>;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable_t<Executor>{});

// Out of descriptors (or socket memory) the kernel keeps the connection in the backlog; accepting
// again at once would spin.
constexpr std::chrono::milliseconds kAcceptBackoff{100};

bool OutOfResources(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec == boost::system::errc::too_many_files_open_in_system;
}

std::vector<tcp::endpoint> Candidates(const HostPort& address, std::string& error) {
  if (address.host.empty()) {
    return {tcp::endpoint(tcp::v6(), address.port), tcp::endpoint(tcp::v4(), address.port)};
  }
  boost::system::error_code ec;
  if (auto ip = asio::ip::make_address(address.host, ec); !ec)
    return {tcp::endpoint(ip, address.port)};
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(address.host.c_str(), nullptr, &hints, &res); rc != 0) {
    error = "cannot resolve listener host \"" + address.host + "\": " + gai_strerror(rc);
    return {};
  }
  std::vector<tcp::endpoint> candidates;
  for (auto* ai = res; ai; ai = ai->ai_next) {
    tcp::endpoint ep;
    std::memcpy(ep.data(), ai->ai_addr, ai->ai_addrlen);
    ep.port(address.port);
    candidates.push_back(ep);
  }
  ::freeaddrinfo(res);
  return candidates;
}

// Opens `acceptor` on the first of `address`'s candidates that binds; returns the bound port.
Result<uint16_t> Bind(Acceptor& acceptor, const HostPort& address, int backlog) {
  std::string error;
  const std::vector<tcp::endpoint> candidates = Candidates(address, error);
  if (!error.empty()) return Failure(std::move(error));
  for (const tcp::endpoint& ep : candidates) {
    boost::system::error_code ec;
    acceptor.open(ep.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && ep.protocol() == tcp::v6()) acceptor.set_option(asio::ip::v6_only(false), ec);
    if (!ec) acceptor.bind(ep, ec);
    if (!ec) acceptor.listen(backlog, ec);
    if (!ec) return acceptor.local_endpoint().port();
    error = ec.message();
    boost::system::error_code ignored;
    acceptor.close(ignored);
  }
  const std::string shown = address.host.empty() ? "*" : address.host;
  return Failure("cannot listen on " + shown + ":" + std::to_string(address.port) + ": " + error);
}

HttpResponse Refusal(unsigned status, std::string_view reason) {
  return HttpResponse{status, "text/plain", std::string(reason) + "\n"};
}

}  // namespace

std::string_view HttpRequestView::Header(std::string_view name) const {
  auto it = fields.find(name);
  return it == fields.end() ? std::string_view() : std::string_view(it->value());
}

bool HttpRequestView::HasHeader(std::string_view name) const {
  return fields.find(name) != fields.end();
}

struct HttpServer::Loop {
  Task<void> Accept(HttpServer& server);

  asio::io_context io{1};
  Acceptor acceptor{io.get_executor()};
  Timer backoff{io.get_executor()};
  std::unordered_set<Connection*> connections;  // being served; the server's thread only
};

class HttpServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer& server, Socket socket)
      : server_(server), socket_(std::move(socket)), deadline_(socket_.get_executor()) {}

  // Answers requests until the client closes, a deadline passes, an error or Stop().
  static Task<void> Serve(std::shared_ptr<Connection> self);

  void Close() {
    boost::system::error_code ec;
    socket_.close(ec);
    deadline_.cancel();
  }

 private:
  Task<bool> AwaitNextRequest();
  HttpResponse Answer(const bhttp::request<bhttp::string_body>& request);
  Task<bool> Write(HttpResponse response, unsigned version, bool keep_alive, bool head);
  std::optional<HttpResponse> RefusalFor(
      const boost::system::error_code& ec,
      const bhttp::request_parser<bhttp::string_body>& parser) const;

  // Cancels the connection's pending operation once `limit` passes; each step arms its own.
  void Arm(std::chrono::milliseconds limit) {
    expired_ = false;
    deadline_.expires_after(limit);
    deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      // A wait that completed just before a re-arm still runs: only a deadline really passed
      // cancels.
      if (ec || self->deadline_.expiry() > std::chrono::steady_clock::now()) return;
      self->expired_ = true;
      boost::system::error_code ignored;
      self->socket_.cancel(ignored);
    });
  }

  HttpServer& server_;
  Socket socket_;
  Timer deadline_;
  bool expired_ = false;
  beast::flat_buffer buffer_;  // bytes past one request belong to the next
};

Task<void> HttpServer::Loop::Accept(HttpServer& server) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kNoThrow);
    if (server.stopped_ || !acceptor.is_open()) co_return;
    if (ec) {
      if (OutOfResources(ec)) {
        backoff.expires_after(kAcceptBackoff);
        co_await backoff.async_wait(kNoThrow);
      }
      continue;
    }
    if (server.active_.load() >= server.options_.max_connections()) {
      server.refused_.fetch_add(1);
      boost::system::error_code close_ec;
      socket.close(close_ec);
      continue;
    }
    server.active_.fetch_add(1);
    asio::co_spawn(io, Connection::Serve(std::make_shared<Connection>(server, std::move(socket))),
                   [&server](std::exception_ptr) { server.active_.fetch_sub(1); });
  }
}

Task<void> HttpServer::Connection::Serve(std::shared_ptr<Connection> self) {
  HttpServer& server = self->server_;
  // Stop() closes the connections it finds; one spawned just before it must not start.
  if (server.stopped_) co_return;
  server.loop_->connections.insert(self.get());
  for (bool first = true; !server.stopped_; first = false) {
    if (!first && !co_await self->AwaitNextRequest()) break;
    self->Arm(server.options_.read);
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(server.options_.max_head_bytes);
    parser.body_limit(server.options_.max_body_bytes);
    auto [ec, n] = co_await bhttp::async_read(self->socket_, self->buffer_, parser, kNoThrow);
    if (ec) {
      std::optional<HttpResponse> refusal = self->RefusalFor(ec, parser);
      if (refusal)
        co_await self->Write(std::move(*refusal), 11, /*keep_alive=*/false, /*head=*/false);
      break;
    }
    const auto& request = parser.get();
    const bool keep_alive = request.keep_alive() && !server.stopped_;
    if (!co_await self->Write(self->Answer(request), request.version(), keep_alive,
                              request.method() == bhttp::verb::head) ||
        !keep_alive)
      break;
  }
  boost::system::error_code ec;
  self->socket_.shutdown(tcp::socket::shutdown_both, ec);
  self->Close();
  server.loop_->connections.erase(self.get());
}

// A kept-alive connection waits for its next request's first byte without a read buffer of
// its own, up to the idle timeout.
Task<bool> HttpServer::Connection::AwaitNextRequest() {
  if (buffer_.size() > 0) co_return true;
  Arm(server_.options_.idle);
  auto [ec] = co_await socket_.async_wait(Socket::wait_read, kNoThrow);
  co_return !ec;
}

std::optional<HttpResponse> HttpServer::Connection::RefusalFor(
    const boost::system::error_code& ec,
    const bhttp::request_parser<bhttp::string_body>& parser) const {
  const bool partial = parser.got_some() || buffer_.size() > 0;
  if (expired_) {
    if (partial) return Refusal(408, "request timeout");
    return std::nullopt;  // silent since the accept or the last response
  }
  if (ec == bhttp::error::header_limit) return Refusal(431, "request header fields too large");
  if (ec == bhttp::error::body_limit) return Refusal(413, "request body too large");
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return std::nullopt;
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category())
    return Refusal(400, "bad request");
  return std::nullopt;  // reset, aborted by Stop()
}

HttpResponse HttpServer::Connection::Answer(const bhttp::request<bhttp::string_body>& request) {
  const std::string_view target = request.target();
  const HttpRequestView view{request.method_string(), target, target.substr(0, target.find('?')),
                             request.body(), request.base()};
  try {
    return server_.handler_(view);
  } catch (const std::exception&) {
    return Refusal(500, "internal error");
  }
}

Task<bool> HttpServer::Connection::Write(HttpResponse response, unsigned version, bool keep_alive,
                                         bool head) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(response.status), version};
  res.set(bhttp::field::server, server_.options_.server_name);
  res.set(bhttp::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) res.set(name, value);
  res.keep_alive(keep_alive);
  res.body() = std::move(response.body);
  res.prepare_payload();
  if (head) res.body().clear();  // Content-Length stays (RFC 9110 §9.3.2)
  Arm(server_.options_.write);
  auto [ec, n] = co_await bhttp::async_write(socket_, res, kNoThrow);
  co_return !ec && !expired_;
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)), loop_(std::make_unique<Loop>()) {}

HttpServer::~HttpServer() { Stop(); }

Result<uint16_t> HttpServer::Start(const HostPort& address) {
  Result<uint16_t> bound = Bind(loop_->acceptor, address, options_.backlog);
  if (!bound) return bound;
  port_ = bound.value();
  asio::co_spawn(loop_->io, loop_->Accept(*this), asio::detached);
  thread_ = std::thread([this] { loop_->io.run(); });
  return bound;
}

void HttpServer::Stop() {
  if (stopped_.exchange(true) || !thread_.joinable()) return;
  asio::post(loop_->io, [this] {
    boost::system::error_code ec;
    loop_->acceptor.close(ec);
    loop_->backoff.cancel();
    for (Connection* connection : loop_->connections) connection->Close();
  });
  // Every coroutine ends once its socket is closed; the loop then runs out of work.
  thread_.join();
}

}  // namespace hermes
