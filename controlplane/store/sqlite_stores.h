// The stores on one embedded SQLite file (schema in schema.cpp): each store a small class over
// the one shared SqliteDatabase, and SqliteStores, which opens the file and holds them all.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "controlplane/store/fleet_store.h"
#include "controlplane/store/health_event_store.h"
#include "controlplane/store/rollout_store.h"
#include "controlplane/store/sqlite_database.h"
#include "controlplane/store/stats_store.h"
#include "controlplane/store/version_store.h"

namespace hermes::controlplane {

class SqliteVersionStore final : public VersionStore {
 public:
  explicit SqliteVersionStore(SqliteDatabase& db) : db_(db) {}

  Result<ApplyOutcome> Apply(const v1::Config& config, std::string_view author,
                             std::string_view message) override;
  Result<std::optional<ConfigVersion>> Current() const override;
  Result<std::optional<ConfigVersion>> CurrentHeader() const override;
  Result<ConfigVersion> Get(VersionId id) const override;
  Result<std::vector<ConfigVersion>> History(std::size_t limit,
                                             std::optional<VersionId> before_id) const override;
  Result<ApplyOutcome> Rollback(VersionId target, std::string_view author) override;

 private:
  // With the write transaction open: appends `bytes` (a serialized config) as a new version
  // unless its hash equals the current version's. `config`: the message `bytes` came from, if
  // the caller has it (copied instead of parsing `bytes` back).
  Result<ApplyOutcome> AppendLocked(std::string_view operation, const std::string& bytes,
                                    std::string_view author, std::string_view message,
                                    const v1::Config* config = nullptr);
  Result<std::optional<ConfigVersion>> NewestLocked(std::string_view operation) const;
  Result<std::optional<ConfigVersion>> NewestHeaderLocked(std::string_view operation) const;
  Result<ConfigVersion> GetLocked(std::string_view operation, VersionId id) const;

  SqliteDatabase& db_;
};

class SqliteFleetStore final : public FleetStore {
 public:
  explicit SqliteFleetStore(SqliteDatabase& db) : db_(db) {}

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
  Result<void> UpsertNodeLocked(const NodeRecord& node);
  Result<void> RecordOneEvent(std::string_view what, std::string_view node_id,
                              std::string_view type, VersionId version,
                              std::optional<std::string_view> error);
  // In the caller's write transaction: checks that the node and version exist, then runs `sql`
  // (an upsert of one ACK or NACK row: ?1 node, ?2 type, ?3 version, ?4 now, ?5 the NACK's
  // error) and marks the node seen.
  Result<void> RecordNodeEventLocked(std::string_view operation, std::string_view node_id,
                                     std::string_view type, VersionId version, std::string_view sql,
                                     std::optional<std::string_view> error);

  SqliteDatabase& db_;
};

class SqliteRolloutStore final : public RolloutStore {
 public:
  explicit SqliteRolloutStore(SqliteDatabase& db) : db_(db) {}

  Result<void> SetFleetVersion(VersionId version, std::string_view reason) override;
  Result<std::vector<FleetChange>> FleetHistory(std::size_t limit) const override;
  Result<void> SaveRollout(const RolloutRecord& rollout,
                           const FleetChange* fleet = nullptr) override;
  Result<std::vector<RolloutRecord>> ListRollouts(std::size_t limit) const override;

 private:
  // Appends a fleet_versions row (the version must exist), in the caller's transaction.
  Result<void> InsertFleetVersionLocked(std::string_view operation, VersionId version,
                                        std::string_view reason);

  SqliteDatabase& db_;
};

class SqliteStatsStore final : public StatsStore {
 public:
  explicit SqliteStatsStore(SqliteDatabase& db) : db_(db) {}

  Result<void> SaveStats(const StoredStats& stats) override;
  Result<StoredStats> LoadStats() const override;

 private:
  SqliteDatabase& db_;
};

class SqliteHealthEventStore final : public HealthEventStore {
 public:
  explicit SqliteHealthEventStore(SqliteDatabase& db) : db_(db) {}

  Result<void> RecordHealthEvents(const std::vector<HealthEventRecord>& events) override;
  Result<std::vector<HealthEventRecord>> ListHealthEvents(std::string_view cluster,
                                                          std::size_t limit) const override;
  Result<std::map<std::pair<std::string, std::string>, HealthEventRecord>> LatestHealth()
      const override;

 private:
  SqliteDatabase& db_;
};

// Every store on one file: what hermes-controlplane opens at start.
class SqliteStores {
 public:
  // Opens (creating if absent) the file at `path` and migrates its schema. `clock` must outlive
  // the stores.
  static Result<std::unique_ptr<SqliteStores>> Open(const std::filesystem::path& path,
                                                    const Clock& clock);

  SqliteStores(const SqliteStores&) = delete;
  SqliteStores& operator=(const SqliteStores&) = delete;

  const std::string& path() const { return database_->path(); }

 private:
  explicit SqliteStores(std::unique_ptr<SqliteDatabase> database);
  std::unique_ptr<SqliteDatabase> database_;  // declared first: the stores refer to it

 public:
  SqliteVersionStore versions;
  SqliteFleetStore fleet;
  SqliteRolloutStore rollouts;
  SqliteStatsStore stats;
  SqliteHealthEventStore health;
};

}  // namespace hermes::controlplane
