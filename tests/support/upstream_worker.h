// One serving thread of a TestUpstream: its own io_context and its own SO_REUSEPORT acceptor, so
// workers share nothing on the request path.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

#include "tests/support/request_log.h"
#include "tests/support/upstream_connection.h"

namespace hermes::test {

class UpstreamWorker {
 public:
  // Binds and listens; throws boost::system::system_error when it cannot.
  UpstreamWorker(int index, const boost::asio::ip::tcp::endpoint& endpoint, const std::string& name,
                 RequestLog& log);
  UpstreamWorker(const UpstreamWorker&) = delete;
  UpstreamWorker& operator=(const UpstreamWorker&) = delete;

  uint16_t port() const;
  void Run();   // the thread body; returns once stopped and every connection has ended
  void Stop();  // from any thread

  // For connections, on this worker's thread.
  void Register(UpstreamConnection& connection);
  void Unregister(UpstreamConnection& connection);
  int index() const { return index_; }
  const std::string& name() const { return name_; }
  std::string_view hello() const { return hello_; }
  RequestLog& log() { return log_; }

 private:
  void Accept();
  void OnAccept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  void CloseEverything();

  const int index_;
  const std::string name_;
  const std::string hello_;
  RequestLog& log_;
  bool stopping_ = false;
  std::unordered_set<UpstreamConnection*> connections_;
  // Declared after connections_: sessions destroyed with the context still unregister.
  boost::asio::io_context context_{1};
  boost::asio::ip::tcp::acceptor acceptor_{context_};
};

}  // namespace hermes::test
