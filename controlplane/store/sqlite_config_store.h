// ConfigStore on an embedded SQLite file: WAL, synchronous=FULL, one connection behind a mutex.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "controlplane/store/config_store.h"
#include "controlplane/store/sqlite_handle.h"
#include "hermes/common/clock.h"

namespace hermes::controlplane {

class SqliteConfigStore final : public ConfigStore {
 public:
  // How long a write waits for another process holding the file's lock before failing.
  static constexpr int kBusyTimeoutMs = 5000;

  // Opens (creating if absent) the store at `path` and migrates its schema. `clock` stamps
  // versions and node state and must outlive the store.
  static Result<std::unique_ptr<SqliteConfigStore>> Open(const std::filesystem::path& path,
                                                         const Clock& clock);

  Result<ApplyOutcome> Apply(const v1::Config& config, std::string_view author,
                             std::string_view message) override;
  Result<std::optional<ConfigVersion>> Current() const override;
  Result<ConfigVersion> Get(VersionId id) const override;
  Result<std::vector<ConfigVersion>> History(std::size_t limit,
                                             std::optional<VersionId> before_id) const override;
  Result<ApplyOutcome> Rollback(VersionId target, std::string_view author) override;

  Result<void> SetFleetVersion(VersionId version, std::string_view reason) override;
  Result<std::vector<FleetChange>> FleetHistory(std::size_t limit) const override;
  Result<void> SaveRollout(const RolloutRecord& rollout, const FleetChange* fleet = nullptr) override;
  Result<std::vector<RolloutRecord>> ListRollouts(std::size_t limit) const override;

  Result<std::string> FleetStickySecret() override;

  Result<void> UpsertNode(const NodeRecord& node) override;
  Result<void> RecordAck(std::string_view node_id, std::string_view type,
                         VersionId version) override;
  Result<void> RecordNack(std::string_view node_id, std::string_view type, VersionId version,
                          std::string_view error) override;
  Result<std::size_t> RecordNodeState(const std::vector<NodeRecord>& upserts,
                                      const std::vector<NodeEventRecord>& events) override;
  Result<std::vector<NodeStatus>> ListNodes() const override;

  Result<void> SaveStats(const StoredStats& stats) override;
  Result<StoredStats> LoadStats() const override;

  // The bound of RecordHealthEvents: older events beyond it are dropped, except each endpoint's
  // last one (LatestHealth must survive any number of transitions elsewhere).
  static constexpr std::int64_t kMaxHealthEvents = 100000;

  Result<void> RecordHealthEvents(const std::vector<HealthEventRecord>& events) override;
  Result<std::vector<HealthEventRecord>> ListHealthEvents(std::string_view cluster,
                                                          std::size_t limit) const override;
  Result<std::map<std::pair<std::string, std::string>, HealthEventRecord>> LatestHealth()
      const override;

  const std::string& path() const { return path_; }

 private:
  SqliteConfigStore(sqlite::DatabasePtr db, std::string path, const Clock& clock);

  // With the write transaction open: appends `bytes` (a serialized config) as a new version
  // unless its hash equals the current version's.
  Result<ApplyOutcome> AppendLocked(std::string_view operation, const std::string& bytes,
                                    std::string_view author, std::string_view message);
  Result<std::optional<ConfigVersion>> NewestLocked(std::string_view operation) const;
  Result<ConfigVersion> GetLocked(std::string_view operation, VersionId id) const;
  // Appends a fleet_versions row (the version must exist), in the caller's transaction.
  Result<void> InsertFleetVersionLocked(std::string_view operation, VersionId version,
                                        std::string_view reason);
  Result<void> UpsertNodeLocked(const NodeRecord& node);
  Result<void> RecordOneEvent(std::string_view what, std::string_view node_id, std::string_view type,
                              VersionId version, std::optional<std::string_view> error);
  // In the caller's write transaction: checks that the node and version exist, then runs `sql` (an upsert of one ACK or NACK row:
  // ?1 node, ?2 type, ?3 version, ?4 now, ?5 the NACK's error) and marks the node seen.
  Result<void> RecordNodeEventLocked(std::string_view operation, std::string_view node_id,
                                     std::string_view type, VersionId version, std::string_view sql,
                                     std::optional<std::string_view> error);

  // "config store <path>: <operation>: <SQLite's message>"
  StoreError StorageError(std::string_view operation) const;
  StoreError Error(StoreErrorKind kind, std::string_view operation, std::string_view what) const;

  mutable std::mutex mutex_;
  sqlite::DatabasePtr db_;
  const std::string path_;
  const Clock& clock_;
};

}  // namespace hermes::controlplane
