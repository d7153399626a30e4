// What one TestUpstream has seen: counters and the most recent request, recorded from every
// worker thread. Each worker writes its own slot so recording does not contend across threads.
#pragma once

#include <atomic>
#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "tests/support/test_upstream.h"

namespace hermes::test {

class RequestLog {
 public:
  explicit RequestLog(int workers);

  void CountConnection();
  void RecordHead(int worker, const boost::beast::http::request_header<>& request);
  void RecordBodyBytes(int worker, uint64_t bytes);

  uint64_t requests_seen() const;
  // Non-zero: every request but /health is answered with this status.
  std::atomic<unsigned> forced_status{0};
  uint64_t connections_accepted() const;
  std::optional<RecordedRequest> last_request() const;

 private:
  struct Slot {
    mutable std::mutex mutex;
    uint64_t sequence = 0;  // 0: nothing recorded yet
    RecordedRequest request;
  };

  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> connections_{0};
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace hermes::test
