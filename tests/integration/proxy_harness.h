// What the proxy integration tests share: an in-process Hermes server started from YAML, a
// keep-alive HTTP client with a timeout on every operation, and a port nobody listens on.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <array>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/server/server.h"
#include "hermes/common/config.h"
#include "tests/support/http_client.h"
#include "tests/support/test_upstream.h"

namespace hermes::integration {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

using Response = bhttp::response<bhttp::string_body>;

// The listener limits every test config uses: small enough to hit quickly, all timeouts short.
inline constexpr std::string_view kListener =
    "  - { name: main, address: \"127.0.0.1:0\", header_timeout: 500ms, idle_timeout: 2s,\n"
    "      max_header_bytes: 4096, max_request_line_bytes: 1024, max_request_body: 1048576,\n"
    "      drain_timeout: 5s }\n";

inline constexpr std::string_view kDefaultRoute = "  - { name: all, cluster: up }\n";

// A config with one listener "main", an admin listener, cluster "up" over `upstream_ports`
// and the given route list (YAML items of `routes:`).
inline std::string ProxyYaml(const std::vector<uint16_t>& upstream_ports,
                             std::string_view routes = kDefaultRoute) {
  std::string yaml = "listeners:\n";
  yaml += kListener;
  yaml += "admin: { address: \"127.0.0.1:0\" }\n";
  // Health checks off: the tests count what the upstream receives (health_check_test covers them).
  yaml += "clusters:\n  - name: up\n    connect_timeout: 500ms\n    health_check: { enabled: false }\n"
          "    endpoints:\n";
  for (const uint16_t port : upstream_ports) {
    yaml += "      - { address: \"127.0.0.1:" + std::to_string(port) + "\" }\n";
  }
  yaml += "routes:\n";
  yaml += routes;
  return yaml;
}

inline hermes::v1::Config LoadOrFail(std::string_view yaml) {
  auto loaded = hermes::config::LoadConfigString(yaml);
  for (const auto& error : loaded.errors) ADD_FAILURE() << "config: " << error.ToString();
  return loaded.config;
}

// A Hermes server in this process, on one worker, stopped gracefully on destruction.
class Proxy {
 public:
  explicit Proxy(std::string_view yaml, std::string config_path = "")
      : server_(std::make_unique<dataplane::Server>(
            dataplane::ServerOptions{std::move(config_path), 1, false})) {
    const auto errors = server_->Start(LoadOrFail(yaml));
    for (const auto& error : errors) ADD_FAILURE() << "start: " << error;
    started_ = errors.empty();
  }
  ~Proxy() { Stop(); }
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  void Stop() {
    if (!started_ || stopped_) return;
    stopped_ = true;
    server_->Shutdown();
    server_->Wait();
  }

  uint16_t port() const { return server_->ListenerPort("main"); }
  uint16_t admin_port() const { return server_->AdminPort(); }
  dataplane::Server& server() { return *server_; }

 private:
  std::unique_ptr<dataplane::Server> server_;
  bool started_ = false;
  bool stopped_ = false;
};

// A port on 127.0.0.1 that refuses connections: bound by us, then released.
inline uint16_t UnusedPort() {
  asio::io_context context;
  tcp::acceptor acceptor(context, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

// One client connection with a timeout on every step; responses are read exactly (Beast
// parser), so several can follow each other on the connection.
class HttpConnection {
 public:
  explicit HttpConnection(uint16_t port, std::chrono::milliseconds timeout = 5s)
      : timeout_(timeout) {
    stream_.expires_after(timeout_);
    error_ = asio::error::timed_out;
    stream_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [this](error_code ec) { error_ = ec; });
    Run();
    connect_failed_ = static_cast<bool>(error_);
  }

  bool connected() const { return !connect_failed_; }

  bool Send(std::string_view bytes) {
    error_ = asio::error::timed_out;
    stream_.expires_after(timeout_);
    asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()),
                      [this](error_code ec, std::size_t) { error_ = ec; });
    Run();
    return !error_;
  }

  // The next response on the connection (an interim 1xx counts as one), or nullopt if no
  // complete response arrives in time. `head_request`: the response to a HEAD has no body.
  std::optional<Response> Read(bool head_request = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    parser.skip(head_request);
    error_ = asio::error::timed_out;
    stream_.expires_after(timeout_);
    bhttp::async_read(stream_, buffer_, parser,
                      [this](error_code ec, std::size_t) { error_ = ec; });
    Run();
    if (error_) return std::nullopt;
    return parser.release();
  }

  std::optional<Response> Request(std::string_view bytes, bool head_request = false) {
    if (!Send(bytes)) return std::nullopt;
    return Read(head_request);
  }

  // True if the server closes the connection within `wait` without sending anything more.
  bool ClosedByPeer(std::chrono::milliseconds wait = 2s) {
    if (buffer_.size() > 0) return false;
    error_ = asio::error::timed_out;
    std::size_t received = 0;
    stream_.expires_after(wait);
    stream_.async_read_some(buffer_.prepare(4096), [this, &received](error_code ec, std::size_t n) {
      error_ = ec;
      received = n;
    });
    Run();
    buffer_.commit(received);
    return received == 0 && (error_ == asio::error::eof || error_ == asio::error::connection_reset);
  }

  // Everything the server sends from now until it closes the connection or `wait` passes
  // (counted from the call). closed_by_peer() then tells which of the two happened.
  std::string ReadUntilClosed(std::chrono::milliseconds wait) {
    std::string received(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.consume(buffer_.size());
    closed_by_peer_ = false;
    stream_.expires_after(wait);
    ReadMore(received);
    Run();
    return received;
  }
  bool closed_by_peer() const { return closed_by_peer_; }

  error_code last_error() const { return error_; }

 private:
  void ReadMore(std::string& received) {
    stream_.async_read_some(asio::buffer(chunk_), [this, &received](error_code ec, std::size_t n) {
      received.append(chunk_.data(), n);
      if (!ec) return ReadMore(received);
      error_ = ec;
      closed_by_peer_ = ec == asio::error::eof || ec == asio::error::connection_reset;
    });
  }

  void Run() {
    context_.restart();
    context_.run();
  }

  std::chrono::milliseconds timeout_;
  asio::io_context context_;
  beast::tcp_stream stream_{context_};
  beast::flat_buffer buffer_;
  error_code error_;
  bool connect_failed_ = false;
  bool closed_by_peer_ = false;
  std::array<char, 16 * 1024> chunk_;
};

// "GET <target> HTTP/1.1" with Host and any extra header lines (each ending in CRLF).
inline std::string Get(std::string_view target, std::string_view extra_lines = "",
                       std::string_view method = "GET") {
  std::string request;
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: proxy.test\r\n");
  request.append(extra_lines).append("\r\n");
  return request;
}

// What the proxy sent on one connection until it closed it (or a wait passed).
struct Answer {
  int status = 0;
  bool closed = false;  // the proxy closed the connection after answering
  std::string bytes;
};

// Sends `bytes` on a new connection to `port` and collects everything until the proxy closes it
// (or `wait` passes).
inline Answer SendAndCollect(uint16_t port, std::string_view bytes,
                             std::chrono::milliseconds wait = 3s) {
  HttpConnection connection(port);
  EXPECT_TRUE(connection.connected());
  connection.Send(bytes);
  Answer answer;
  answer.bytes = connection.ReadUntilClosed(wait);
  answer.status = test::ParseStatus(answer.bytes);
  answer.closed = connection.closed_by_peer();
  return answer;
}

// The first value of `name` the upstream received, or nullopt.
inline std::optional<std::string> ReceivedHeader(const test::RecordedRequest& request,
                                                 std::string_view name) {
  for (const auto& [field, value] : request.headers) {
    if (beast::iequals(field, name)) return value;
  }
  return std::nullopt;
}

}  // namespace hermes::integration
