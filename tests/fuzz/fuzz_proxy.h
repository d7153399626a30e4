// What the two HTTP/1 fuzz targets drive: an in-process Hermes (dataplane::Server, one worker, as
// tests/integration/proxy_harness.h starts it) in front of a tiny in-process upstream on
// 127.0.0.1, both started once per process, and one client exchange per input.
#pragma once

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <spdlog/spdlog.h>

#include "dataplane/server/server.h"
#include "hermes/common/config.h"

namespace hermes::fuzz {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// The longest any exchange may take once the client has sent everything and half-closed: every
// timeout of ProxyYaml is 1 s or less (2 s for the whole request), so a connection still open
// after this is held by the proxy for no reason, which is reported as a failure.
inline constexpr auto kExchangeLimit = 5s;

// A tiny HTTP/1.1 upstream: reads each request the proxy sends (Beast's parser, bodies up to
// 1 MiB) and answers it. kFixed: "200 ok" on a kept-alive connection (no body to HEAD).
// kFuzzInput: the bytes set by SetFuzzInput, as they are, and then closes the connection.
class FuzzUpstream {
 public:
  enum class Answer { kFixed, kFuzzInput };

  explicit FuzzUpstream(Answer answer)
      : answer_(answer), acceptor_(context_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    port_ = acceptor_.local_endpoint().port();
    std::thread([this] { AcceptLoop(); }).detach();
  }

  uint16_t port() const { return port_; }

  void SetFuzzInput(std::string_view bytes) {
    std::lock_guard lock(mu_);
    input_.assign(bytes);
  }

 private:
  void AcceptLoop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket(context_);
      acceptor_.accept(socket, ec);
      if (ec) continue;
      // One thread per connection: the proxy keeps idle pooled connections open meanwhile.
      std::thread([this, s = std::move(socket)]() mutable { Serve(std::move(s)); }).detach();
    }
  }

  void Serve(tcp::socket socket) {
    boost::system::error_code ec;
    beast::flat_buffer buffer;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(1 << 20);
      bhttp::read(socket, buffer, parser, ec);
      if (ec) break;
      std::string answer;
      if (answer_ == Answer::kFixed) {
        answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\n";
        if (parser.get().method() != bhttp::verb::head) answer += "ok";
      } else {
        std::lock_guard lock(mu_);
        answer = input_;
      }
      asio::write(socket, asio::buffer(answer), ec);
      if (ec || answer_ == Answer::kFuzzInput || !parser.get().keep_alive()) break;
    }
    // Half-close and wait for the proxy to close its end, so that nothing is reset under it.
    socket.shutdown(tcp::socket::shutdown_send, ec);
    std::array<char, 4096> drain;
    while (!ec) socket.read_some(asio::buffer(drain), ec);
  }

  Answer answer_;
  asio::io_context context_;
  tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::mutex mu_;
  std::string input_;
};

// Listener limits small enough to reach with a fuzz input of a few KiB, every timeout short;
// routes that take each path of the session (prefix and host rewrite, retries with a buffered
// body, a host match, an exact path, sticky sessions on a hashing balancer).
inline std::string ProxyYaml(uint16_t upstream_port) {
  const std::string endpoint = "[{ address: \"127.0.0.1:" + std::to_string(upstream_port) + "\" }]";
  return "listeners:\n"
         "  - { name: main, address: \"127.0.0.1:0\", header_timeout: 1s, idle_timeout: 1s,\n"
         "      request_timeout: 2s, max_header_bytes: 2048, max_request_line_bytes: 512,\n"
         "      max_request_body: 8192, drain_timeout: 1s }\n"
         "admin: { address: \"off\" }\n"
         "clusters:\n"
         "  - { name: up, connect_timeout: 500ms, health_check: { enabled: false },\n"
         "      circuit_breaker: { enabled: false }, endpoints: " + endpoint + " }\n"
         "  - { name: sticky, lb_policy: ring_hash, hash_policy: [{ header: x-user }, { source_ip: true }],\n"
         "      sticky_session: { cookie: { name: hermes_fuzz, ttl: 1h } }, connect_timeout: 500ms,\n"
         "      health_check: { enabled: false }, circuit_breaker: { enabled: false },\n"
         "      endpoints: " + endpoint + " }\n"
         "routes:\n"
         "  - { name: retried, match: { prefix: /retry }, cluster: up, timeout: 1s,\n"
         "      retry_policy: { retry_on: [reset, gateway-error], num_retries: 1, per_try_timeout: 500ms,\n"
         "                      retry_buffer_limit: 4096 } }\n"
         "  - { name: rewritten, match: { prefix: /api }, cluster: up, prefix_rewrite: /v1/,\n"
         "      host_rewrite: upstream.fuzz, request_headers_to_add: [{ name: x-fuzz, value: \"1\" }],\n"
         "      request_headers_to_remove: [cookie], response_headers_to_add: [{ name: x-proxy, value: hermes }],\n"
         "      response_headers_to_remove: [server], timeout: 1s }\n"
         "  - { name: exact, match: { path: /exact }, cluster: up, prefix_rewrite: /other, timeout: 1s }\n"
         "  - { name: sticky, match: { host: \"*.sticky.fuzz\" }, cluster: sticky, timeout: 1s }\n"
         "  - { name: all, cluster: up, timeout: 1s }\n";
}

// The proxy of this process, started on first use and never stopped (libFuzzer ends the process).
inline dataplane::Server& StartProxy(uint16_t upstream_port) {
  spdlog::set_level(spdlog::level::off);  // an access or warning line per input would dominate
  std::signal(SIGPIPE, SIG_IGN);
  auto loaded = config::LoadConfigString(ProxyYaml(upstream_port), "fuzz_proxy.h");
  for (const auto& e : loaded.errors) std::fprintf(stderr, "fuzz config: %s\n", e.ToString().c_str());
  if (!loaded.ok()) std::abort();
  auto* server = new dataplane::Server(dataplane::ServerOptions{"", 1, false});
  for (const auto& e : server->Start(loaded.config)) {
    std::fprintf(stderr, "fuzz proxy: %s\n", e.c_str());
    std::abort();
  }
  return *server;
}

// One client connection: sends `bytes`, half-closes, and reads until the proxy closes the
// connection (true) or kExchangeLimit passes (false).
inline bool Exchange(uint16_t port, std::string_view bytes) {
  // Non-blocking throughout: libFuzzer's SIGALRM (its -timeout check) interrupts blocking calls.
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) std::abort();
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    std::perror("fuzz client: connect to the proxy");
    std::abort();
  }
  const auto deadline = std::chrono::steady_clock::now() + kExchangeLimit;
  bool connected = false;
  size_t sent = 0;
  bool half_closed = false;
  bool closed = false;
  char buf[16384];
  while (!connected) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    int error = 0;
    socklen_t len = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      std::fprintf(stderr, "fuzz client: connect to the proxy: %s\n", std::strerror(error));
      std::abort();
    }
    connected = true;
  }
  while (!closed) {
    if (!half_closed && sent == bytes.size()) {
      ::shutdown(fd, SHUT_WR);
      half_closed = true;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, static_cast<short>(POLLIN | (half_closed ? 0 : POLLOUT)), 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    if (!half_closed && (p.revents & POLLOUT)) {
      ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n > 0) sent += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN) sent = bytes.size();  // the proxy closed early: nothing more to send
    }
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      closed = n == 0 || (n < 0 && errno != EAGAIN);
    }
  }
  ::close(fd);
  return closed;
}

// Aborts (a libFuzzer crash, the input saved) when the proxy held a connection past the limit.
inline void ExpectClosed(bool closed) {
  if (closed) return;
  std::fprintf(stderr, "the proxy kept the connection open %lld s after the client's EOF\n",
               static_cast<long long>(kExchangeLimit.count()));
  std::abort();
}

}  // namespace hermes::fuzz

// The upstream's connection threads are detached and still blocked in a read when libFuzzer
// exits; LeakSanitizer's exit check then reports their buffers. Only those (allocated under
// FuzzUpstream::Serve, test code) are suppressed; the proxy's allocations are all checked. One
// translation unit per fuzz binary includes this header.
extern "C" const char* __lsan_default_suppressions() { return "leak:hermes::fuzz::FuzzUpstream::Serve\n"; }
