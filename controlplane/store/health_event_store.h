// The health checker's transitions per endpoint: the history `hermesctl` shows and the verdicts
// a restarted control plane starts from. SqliteHealthEventStore (sqlite_stores.h) and
// MemoryHealthEventStore (memory_stores.h) implement it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controlplane/store/store_result.h"
#include "controlplane/store/version_store.h"

namespace hermes::controlplane {

// A health transition of one endpoint, as the control plane's health checker saw it.
struct HealthEventRecord {
  std::string cluster;
  std::string address;
  bool healthy = false;
  std::string reason;  // why, e.g. "HTTP 503" or "connect: connection refused"
  TimePoint at;        // kept to the millisecond
};

class HealthEventStore {
 public:
  // The bound of RecordHealthEvents: older events beyond it are dropped, except each endpoint's
  // last one (LatestHealth must survive any number of transitions elsewhere).
  static constexpr std::int64_t kMaxEvents = 100000;

  virtual ~HealthEventStore() = default;

  // Appends the transitions in one transaction, in order. kInvalidArgument (nothing written) when
  // one has an empty cluster or address. The oldest events beyond kMaxEvents (counted by
  // position: the newest kMaxEvents, and the last one of every endpoint, are kept) are dropped.
  virtual Result<void> RecordHealthEvents(const std::vector<HealthEventRecord>& events) = 0;

  // Up to `limit` transitions of `cluster` ("" = every cluster), newest first.
  virtual Result<std::vector<HealthEventRecord>> ListHealthEvents(std::string_view cluster,
                                                                  std::size_t limit) const = 0;

  // The last transition recorded for each endpoint, by (cluster, address).
  virtual Result<std::map<std::pair<std::string, std::string>, HealthEventRecord>> LatestHealth()
      const = 0;
};

}  // namespace hermes::controlplane
