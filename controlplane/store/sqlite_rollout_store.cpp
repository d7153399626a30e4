// SqliteRolloutStore: the fleet's version history and the rollouts.
#include <utility>

#include "controlplane/store/sqlite_stores.h"

namespace hermes::controlplane {
namespace {

using sqlite::Statement;
using sqlite::Transaction;

}  // namespace

Result<void> SqliteRolloutStore::InsertFleetVersionLocked(std::string_view operation,
                                                          VersionId version,
                                                          std::string_view reason) {
  if (auto exists = db_.CheckVersionExists(operation, version); !exists) return exists.error();
  Statement insert(db_.handle(),
                   "INSERT INTO fleet_versions (version, reason, at_us) VALUES (?1, ?2, ?3)");
  insert.Bind(1, std::int64_t{version});
  insert.Bind(2, reason);
  insert.Bind(3, ToUnixMicros(db_.clock().Now()));
  if (insert.Step() != SQLITE_DONE) return db_.StorageError(operation);
  return {};
}

Result<void> SqliteRolloutStore::SetFleetVersion(VersionId version, std::string_view reason) {
  auto lock = db_.Lock();
  Transaction transaction(db_.handle(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return db_.StorageError("set fleet version: begin");
  if (auto inserted = InsertFleetVersionLocked("set fleet version", version, reason); !inserted)
    return inserted.error();
  if (transaction.Commit() != SQLITE_OK) return db_.StorageError("set fleet version: commit");
  return {};
}

Result<std::vector<FleetChange>> SqliteRolloutStore::FleetHistory(std::size_t limit) const {
  auto lock = db_.Lock();
  Statement select(db_.handle(),
                   "SELECT version, reason, at_us FROM fleet_versions ORDER BY id DESC LIMIT ?1");
  select.Bind(1, SqlLimit(limit));
  std::vector<FleetChange> out;
  for (int rc = select.Step(); rc != SQLITE_DONE; rc = select.Step()) {
    if (rc != SQLITE_ROW) return db_.StorageError("fleet history");
    out.push_back({select.Int(0), select.Text(1), FromUnixMicros(select.Int(2))});
  }
  return out;
}

Result<void> SqliteRolloutStore::SaveRollout(const RolloutRecord& rollout,
                                             const FleetChange* fleet) {
  if (rollout.id <= 0) {
    return db_.Error(StoreErrorKind::kInvalidArgument, "save rollout",
                     "rollout id " + std::to_string(rollout.id) + " is not positive");
  }
  auto lock = db_.Lock();
  Transaction transaction(db_.handle(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return db_.StorageError("save rollout: begin");
  if (rollout.active) {
    Statement other(db_.handle(), "SELECT id FROM rollouts WHERE active = 1 AND id <> ?1");
    other.Bind(1, rollout.id);
    if (other.Step() == SQLITE_ROW) {
      return db_.Error(StoreErrorKind::kInvalidArgument, "save rollout",
                       "rollout " + std::to_string(other.Int(0)) + " is still active");
    }
  }
  Statement upsert(
      db_.handle(),
      "INSERT INTO rollouts (id, active, rollout) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (id) DO UPDATE SET active = excluded.active, rollout = excluded.rollout");
  upsert.Bind(1, rollout.id);
  upsert.Bind(2, std::int64_t{rollout.active ? 1 : 0});
  upsert.BindBlob(3, rollout.rollout);
  if (upsert.Step() != SQLITE_DONE)
    return db_.StorageError("save rollout " + std::to_string(rollout.id));
  if (fleet) {
    if (auto inserted =
            InsertFleetVersionLocked("save rollout: fleet version", fleet->version, fleet->reason);
        !inserted)
      return inserted.error();
  }
  if (transaction.Commit() != SQLITE_OK) return db_.StorageError("save rollout: commit");
  return {};
}

Result<std::vector<RolloutRecord>> SqliteRolloutStore::ListRollouts(std::size_t limit) const {
  auto lock = db_.Lock();
  Statement select(db_.handle(),
                   "SELECT id, active, rollout FROM rollouts ORDER BY id DESC LIMIT ?1");
  select.Bind(1, SqlLimit(limit));
  std::vector<RolloutRecord> out;
  for (int rc = select.Step(); rc != SQLITE_DONE; rc = select.Step()) {
    if (rc != SQLITE_ROW) return db_.StorageError("list rollouts");
    out.push_back({select.Int(0), select.Int(1) == 1, select.Blob(2)});
  }
  return out;
}

}  // namespace hermes::controlplane
