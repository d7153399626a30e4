// The control plane's HTTP listener (--http-listen): /healthz and /metrics (Prometheus text) for
// the fleet as the control plane sees it. One thread, one request per connection: it serves
// operators and scrapers, not traffic.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <string>
#include <thread>

namespace hermes::controlplane {

class HttpListener {
 public:
  // Renders the body of /metrics.
  using MetricsFn = std::function<std::string()>;

  HttpListener(MetricsFn metrics) : metrics_(std::move(metrics)) {}
  ~HttpListener();

  // Binds `address` ("host:port", ":port"); returns what went wrong, or "".
  std::string Start(const std::string& address);
  uint16_t port() const { return port_; }

 private:
  void Serve();

  MetricsFn metrics_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_{io_};
  std::thread thread_;
  uint16_t port_ = 0;
};

}  // namespace hermes::controlplane
