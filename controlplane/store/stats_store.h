// The stats proxies pushed, as the stats aggregator keeps them across restarts (proto/README.md,
// "The stats stream"). SqliteStatsStore (sqlite_stores.h) and MemoryStatsStore
// (memory_stores.h) implement it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/store/store_result.h"
#include "controlplane/store/version_store.h"

namespace hermes::controlplane {

// One proxy run's stats.
struct StatsRunRecord {
  std::string node_id;
  std::uint64_t run_id = 0;
  std::uint64_t sequence = 0;  // of the last report counted; at most INT64_MAX
  TimePoint started_at;        // times are kept to the microsecond
  TimePoint last_report_at;
  // A serialized v1::StatsReport holding the run's cumulative counters. nullopt: the run is
  // folded into its node's retired counts, and the row only remembers its sequence so that a late
  // copy of one of its reports is recognized.
  std::optional<std::string> report;
};

// The counts of a node's folded runs, summed: a serialized v1::StatsReport. One per node.
struct StatsRetiredRecord {
  std::string node_id;
  std::string report;
};

struct StoredStats {
  std::vector<StatsRunRecord> runs;
  std::vector<StatsRetiredRecord> retired;

  bool empty() const { return runs.empty() && retired.empty(); }
};

class StatsStore {
 public:
  virtual ~StatsStore() = default;

  // Writes every record of `stats` in one transaction; returns once it is durable. A run's row
  // only moves forward: it is replaced by a record with a higher sequence, or folded (report
  // nullopt) by one with at least its sequence; a folded row never changes again. A retired
  // record replaces its node's. kInvalidArgument (nothing written) for an empty node id or a
  // sequence beyond INT64_MAX.
  virtual Result<void> SaveStats(const StoredStats& stats) = 0;

  // Every stored run (by node, then run id as a signed 64-bit number) and every node's retired
  // counts (by node).
  virtual Result<StoredStats> LoadStats() const = 0;
};

}  // namespace hermes::controlplane
