// Records counters and the latest request for TestUpstream's accessors.
#include "tests/support/request_log.h"

namespace hermes::test {

RequestLog::RequestLog(int workers) {
  for (int i = 0; i < workers; ++i) slots_.push_back(std::make_unique<Slot>());
}

void RequestLog::CountConnection() { connections_.fetch_add(1, std::memory_order_relaxed); }

void RequestLog::RecordHead(int worker, const boost::beast::http::request_header<>& request) {
  const uint64_t sequence = requests_.fetch_add(1, std::memory_order_relaxed) + 1;
  Slot& slot = *slots_[worker];
  std::lock_guard lock(slot.mutex);
  slot.sequence = sequence;
  RecordedRequest& recorded = slot.request;
  // assign() into the existing strings keeps their capacity: no allocation per request.
  recorded.method.assign(request.method_string());
  recorded.target.assign(request.target());
  recorded.version = static_cast<int>(request.version());
  std::size_t count = 0;
  for (const auto& field : request) {
    if (count == recorded.headers.size()) recorded.headers.emplace_back();
    recorded.headers[count].first.assign(field.name_string());
    recorded.headers[count].second.assign(field.value());
    ++count;
  }
  recorded.headers.resize(count);
  recorded.body_bytes = 0;
}

void RequestLog::RecordBodyBytes(int worker, uint64_t bytes) {
  Slot& slot = *slots_[worker];
  std::lock_guard lock(slot.mutex);
  slot.request.body_bytes = bytes;
}

uint64_t RequestLog::requests_seen() const { return requests_.load(std::memory_order_relaxed); }

uint64_t RequestLog::connections_accepted() const {
  return connections_.load(std::memory_order_relaxed);
}

std::optional<RecordedRequest> RequestLog::last_request() const {
  std::optional<RecordedRequest> latest;
  uint64_t latest_sequence = 0;
  for (const auto& slot : slots_) {
    std::lock_guard lock(slot->mutex);
    if (slot->sequence > latest_sequence) {
      latest_sequence = slot->sequence;
      latest = slot->request;
    }
  }
  return latest;
}

}  // namespace hermes::test
