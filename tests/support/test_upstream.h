// In-process HTTP/1.1 test upstream: the backend that proxy tests, the demo and benchmarks talk to.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hermes::test {

struct TestUpstreamOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  int threads = 1;
  std::string name = "upstream";
};

struct RecordedRequest {
  std::string method;
  std::string target;
  int version = 11;  // 10 or 11
  std::vector<std::pair<std::string, std::string>> headers;
  uint64_t body_bytes = 0;
};

// Serves from the constructor on its own threads until stop() or destruction.
class TestUpstream {
 public:
  explicit TestUpstream(TestUpstreamOptions options = {});
  ~TestUpstream();
  TestUpstream(const TestUpstream&) = delete;
  TestUpstream& operator=(const TestUpstream&) = delete;

  uint16_t port() const;
  std::string address() const;
  uint64_t requests_seen() const;
  uint64_t connections_accepted() const;
  std::optional<RecordedRequest> last_request() const;
  // Non-zero: answer every request (but /health) with this status; 0: behave normally again.
  void set_forced_status(unsigned status);
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace hermes::test
