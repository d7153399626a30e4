// The stores in memory, for unit tests of the code that uses them (discovery server, admin API,
// rollout engine, stats, health monitor): the same contract as the SQLite stores
// (tests/unit/controlplane/store_contract_test.cpp runs one suite against both), no file, no
// durability. They live beside the interfaces, not in tests/, so a change of a contract meets
// both implementations in one folder; the shipped binary links none of them.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "controlplane/store/fleet_store.h"
#include "controlplane/store/health_event_store.h"
#include "controlplane/store/rollout_store.h"
#include "controlplane/store/stats_store.h"
#include "controlplane/store/version_store.h"
#include "hermes/common/clock.h"

namespace hermes::controlplane {

class MemoryVersionStore final : public VersionStore {
 public:
  // `clock` stamps new versions and must outlive the store.
  explicit MemoryVersionStore(const Clock& clock) : clock_(clock) {}

  Result<ApplyOutcome> Apply(const v1::Config& config, std::string_view author,
                             std::string_view message) override;
  Result<std::optional<ConfigVersion>> Current() const override;
  Result<std::optional<ConfigVersion>> CurrentHeader() const override;
  Result<ConfigVersion> Get(VersionId id) const override;
  Result<std::vector<ConfigVersion>> History(std::size_t limit,
                                             std::optional<VersionId> before_id) const override;
  Result<ApplyOutcome> Rollback(VersionId target, std::string_view author) override;

 private:
  Result<ApplyOutcome> AppendLocked(const v1::Config& config, std::string_view author,
                                    std::string_view message);

  const Clock& clock_;
  mutable std::mutex mu_;
  std::vector<ConfigVersion> versions_;  // versions_[i].id == i + 1
};

class MemoryFleetStore final : public FleetStore {
 public:
  // `versions` answers whether an ACKed version exists; both must outlive the store.
  MemoryFleetStore(const VersionStore& versions, const Clock& clock)
      : versions_(versions), clock_(clock) {}

  Result<void> UpsertNode(const NodeRecord& node) override;
  Result<void> RecordAck(std::string_view node_id, std::string_view type,
                         VersionId version) override;
  Result<void> RecordNack(std::string_view node_id, std::string_view type, VersionId version,
                          std::string_view error) override;
  Result<std::size_t> RecordNodeState(const std::vector<NodeRecord>& upserts,
                                      const std::vector<NodeEventRecord>& events) override;
  Result<std::vector<NodeStatus>> ListNodes() const override;
  Result<std::string> FleetStickySecret() override;

 private:
  Result<void> UpsertLocked(const NodeRecord& node);
  Result<void> RecordLocked(std::string_view node_id, std::string_view type, VersionId version,
                            std::optional<std::string_view> error);

  const VersionStore& versions_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, NodeStatus, std::less<>> nodes_;
  std::optional<std::string> sticky_secret_;
};

class MemoryRolloutStore final : public RolloutStore {
 public:
  // `versions` answers whether a fleet version exists; both must outlive the store.
  MemoryRolloutStore(const VersionStore& versions, const Clock& clock)
      : versions_(versions), clock_(clock) {}

  Result<void> SetFleetVersion(VersionId version, std::string_view reason) override;
  Result<std::vector<FleetChange>> FleetHistory(std::size_t limit) const override;
  Result<void> SaveRollout(const RolloutRecord& rollout,
                           const FleetChange* fleet = nullptr) override;
  Result<std::vector<RolloutRecord>> ListRollouts(std::size_t limit) const override;

 private:
  Result<FleetChange> NewChange(VersionId version, std::string_view reason) const;

  const VersionStore& versions_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::vector<FleetChange> changes_;                // oldest first
  std::map<std::int64_t, RolloutRecord> rollouts_;  // by id
};

class MemoryStatsStore final : public StatsStore {
 public:
  Result<void> SaveStats(const StoredStats& stats) override;
  Result<StoredStats> LoadStats() const override;

 private:
  mutable std::mutex mu_;
  // By node, then run id as SQLite orders the column (signed).
  std::map<std::pair<std::string, std::int64_t>, StatsRunRecord> runs_;
  std::map<std::string, std::string> retired_;  // by node
};

class MemoryHealthEventStore final : public HealthEventStore {
 public:
  Result<void> RecordHealthEvents(const std::vector<HealthEventRecord>& events) override;
  Result<std::vector<HealthEventRecord>> ListHealthEvents(std::string_view cluster,
                                                          std::size_t limit) const override;
  Result<std::map<std::pair<std::string, std::string>, HealthEventRecord>> LatestHealth()
      const override;

 private:
  mutable std::mutex mu_;
  std::int64_t next_id_ = 1;
  std::map<std::int64_t, HealthEventRecord> events_;  // by id, in order of recording
};

// Every store, as SqliteStores holds them over one file.
struct MemoryStores {
  explicit MemoryStores(const Clock& clock)
      : versions(clock), fleet(versions, clock), rollouts(versions, clock) {}

  MemoryVersionStore versions;
  MemoryFleetStore fleet;
  MemoryRolloutStore rollouts;
  MemoryStatsStore stats;
  MemoryHealthEventStore health;
};

}  // namespace hermes::controlplane
