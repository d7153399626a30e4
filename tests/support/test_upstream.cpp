// TestUpstream: binds one SO_REUSEPORT acceptor per worker thread on the same port and serves
// until stopped.
#include "tests/support/test_upstream.h"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <mutex>
#include <thread>

#include "tests/support/request_log.h"
#include "tests/support/upstream_worker.h"

namespace hermes::test {

struct TestUpstream::State {
  explicit State(int threads) : log(threads) {}

  RequestLog log;
  boost::asio::ip::address address;
  uint16_t port = 0;
  std::vector<std::unique_ptr<UpstreamWorker>> workers;
  std::vector<std::thread> threads;
  std::once_flag stopped;
};

TestUpstream::TestUpstream(TestUpstreamOptions options)
    : state_(std::make_unique<State>(std::max(1, options.threads))) {
  state_->address = boost::asio::ip::make_address(options.address);
  state_->port = options.port;
  const int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) {
    // The first worker resolves port 0; the others join the port it got.
    state_->workers.push_back(std::make_unique<UpstreamWorker>(
        i, boost::asio::ip::tcp::endpoint(state_->address, state_->port), options.name,
        state_->log));
    state_->port = state_->workers.front()->port();
  }
  for (auto& worker : state_->workers) {
    state_->threads.emplace_back([&worker = *worker] { worker.Run(); });
  }
}

TestUpstream::~TestUpstream() { stop(); }

uint16_t TestUpstream::port() const { return state_->port; }

std::string TestUpstream::address() const {
  const std::string host = state_->address.is_v6() ? "[" + state_->address.to_string() + "]"
                                                   : state_->address.to_string();
  return host + ":" + std::to_string(state_->port);
}

uint64_t TestUpstream::requests_seen() const { return state_->log.requests_seen(); }

void TestUpstream::set_forced_status(unsigned status) { state_->log.forced_status.store(status); }

uint64_t TestUpstream::connections_accepted() const { return state_->log.connections_accepted(); }

std::optional<RecordedRequest> TestUpstream::last_request() const {
  return state_->log.last_request();
}

void TestUpstream::stop() {
  std::call_once(state_->stopped, [this] {
    for (auto& worker : state_->workers) worker->Stop();
    for (auto& thread : state_->threads) thread.join();
  });
}

}  // namespace hermes::test
