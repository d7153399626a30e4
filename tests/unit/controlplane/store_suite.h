// What the tests written against the store interfaces share (store_contract_test.cpp,
// sqlite_stores_test.cpp): a start time, sample records, and a fixture of helpers over whichever
// stores a test runs on.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/store/fleet_store.h"
#include "controlplane/store/health_event_store.h"
#include "controlplane/store/rollout_store.h"
#include "controlplane/store/stats_store.h"
#include "controlplane/store/version_store.h"
#include "store_fixture.h"

namespace hermes::controlplane {

// 2024-05-01T12:00:00Z
inline const TimePoint kStart =
    std::chrono::sys_days(std::chrono::year(2024) / 5 / 1) + std::chrono::hours(12);

inline std::vector<VersionId> Ids(const std::vector<ConfigVersion>& versions) {
  std::vector<VersionId> ids;
  for (const auto& v : versions) ids.push_back(v.id);
  return ids;
}

inline HealthEventRecord Event(std::string cluster, std::string address, bool healthy,
                               std::string reason, TimePoint at) {
  return {std::move(cluster), std::move(address), healthy, std::move(reason), at};
}

inline std::vector<std::string> Reasons(const std::vector<HealthEventRecord>& events) {
  std::vector<std::string> reasons;
  for (const auto& e : events) reasons.push_back(e.reason);
  return reasons;
}

inline StatsRunRecord RunRecord(const std::string& node, std::uint64_t run_id,
                                std::uint64_t sequence, std::optional<std::string> report) {
  // Reported `sequence` seconds after the start (any sequence: the seconds wrap at a day).
  const auto at = kStart + std::chrono::seconds(static_cast<std::int64_t>(sequence % 86400));
  return {node, run_id, sequence, kStart, at, std::move(report)};
}

// What the tests do through the stores, whichever implementation is behind them.
class StoresFixture {
 protected:
  virtual ~StoresFixture() = default;
  virtual VersionStore& versions() = 0;
  virtual FleetStore& fleet() = 0;
  virtual RolloutStore& rollouts() = 0;
  virtual StatsStore& stats() = 0;
  virtual HealthEventStore& health() = 0;

  ConfigVersion Apply(const std::string& name) {
    auto outcome = versions().Apply(SampleConfig(name), "alice", "set " + name);
    EXPECT_TRUE(outcome.ok()) << outcome.error().message;
    return outcome.ok() ? outcome->version : ConfigVersion{};
  }

  void Register(const std::string& id) {
    auto upserted = fleet().UpsertNode({.id = id,
                                        .group = "edge",
                                        .labels = {{"zone", "a"}},
                                        .address = "10.0.0.1:9000",
                                        .connected_since = clock_.Now(),
                                        .last_seen = clock_.Now()});
    ASSERT_TRUE(upserted.ok()) << upserted.error().message;
  }

  std::vector<NodeStatus> Nodes() {
    auto nodes = fleet().ListNodes();
    EXPECT_TRUE(nodes.ok()) << nodes.error().message;
    return nodes.ok() ? *nodes : std::vector<NodeStatus>{};
  }

  void Record(const std::vector<HealthEventRecord>& events) {
    auto recorded = health().RecordHealthEvents(events);
    ASSERT_TRUE(recorded.ok()) << recorded.error().message;
  }

  std::vector<HealthEventRecord> List(std::string_view cluster, std::size_t limit) {
    auto events = health().ListHealthEvents(cluster, limit);
    EXPECT_TRUE(events.ok()) << events.error().message;
    return events.ok() ? *events : std::vector<HealthEventRecord>{};
  }

  void Save(StoredStats stats_to_save) {
    auto saved = stats().SaveStats(stats_to_save);
    ASSERT_TRUE(saved.ok()) << saved.error().message;
  }

  StoredStats Load() {
    auto loaded = stats().LoadStats();
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    return loaded.ok() ? *loaded : StoredStats{};
  }

  TempDir dir_;
  ManualClock clock_{kStart};
};

}  // namespace hermes::controlplane
