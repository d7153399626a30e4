// SqliteConfigStore: config versions and node state in one SQLite file (schema in schema.cpp).
#include "controlplane/store/sqlite_config_store.h"

#include <openssl/rand.h>

#include <array>
#include <limits>
#include <system_error>
#include <utility>

#include "controlplane/store/config_hash.h"
#include "controlplane/store/schema.h"

namespace hermes::controlplane {
namespace {

using sqlite::Statement;
using sqlite::Transaction;

// Times are stored as integer microseconds since the Unix epoch.
std::int64_t ToUnixMicros(TimePoint t) {
  return std::chrono::floor<std::chrono::microseconds>(t.time_since_epoch()).count();
}

TimePoint FromUnixMicros(std::int64_t micros) {
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(micros)));
}

constexpr std::string_view kVersionColumns =
    "id, parent, hash, author, message, created_at_us, config";

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

}  // namespace

Result<std::unique_ptr<SqliteConfigStore>> SqliteConfigStore::Open(
    const std::filesystem::path& path, const Clock& clock) {
  const std::string where = "config store " + path.string();
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  sqlite::DatabasePtr db(raw);  // SQLite allocates a handle even when the open fails
  auto fail = [&](std::string_view step) -> StoreError {
    std::string message = where + ": " + std::string(step) + ": ";
    message += db ? sqlite3_errmsg(db.get()) : sqlite3_errstr(rc);
    if (const int os_error = db ? sqlite3_system_errno(db.get()) : 0; os_error != 0) {
      message += " (" + std::generic_category().message(os_error) + ")";
    }
    return {StoreErrorKind::kStorage, std::move(message)};
  };
  if (rc != SQLITE_OK) return fail("open");
  sqlite3_extended_result_codes(db.get(), 1);
  // SQLite falls back to read-only when it may not write the file; a store must write.
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    return StoreError{StoreErrorKind::kStorage,
                      where + ": open: the file is read-only (no write permission)"};
  }
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);

  {
    // Also the first read of the file: a file that is not a database fails here.
    Statement journal(db.get(), "PRAGMA journal_mode = WAL");
    const int step = journal.Step();
    if (step != SQLITE_ROW) return fail("set journal_mode=WAL");
    if (journal.Text(0) != "wal") {
      return StoreError{
          StoreErrorKind::kStorage,
          where + ": set journal_mode=WAL: SQLite kept journal mode \"" + journal.Text(0) + "\""};
    }
  }
  // FULL: in WAL mode a commit syncs the log, so an acknowledged Apply survives power loss, not
  // only a crash of the process.
  if (sqlite::Exec(db.get(), "PRAGMA synchronous = FULL") != SQLITE_OK) {
    return fail("set synchronous=FULL");
  }
  if (sqlite::Exec(db.get(), "PRAGMA foreign_keys = ON") != SQLITE_OK) {
    return fail("set foreign_keys=ON");
  }
  if (auto migrated = MigrateSchema(db.get(), path.string()); !migrated.ok()) {
    return migrated.error();
  }
  return std::unique_ptr<SqliteConfigStore>(
      new SqliteConfigStore(std::move(db), path.string(), clock));
}

SqliteConfigStore::SqliteConfigStore(sqlite::DatabasePtr db, std::string path, const Clock& clock)
    : db_(std::move(db)), path_(std::move(path)), clock_(clock) {}

StoreError SqliteConfigStore::StorageError(std::string_view operation) const {
  return Error(StoreErrorKind::kStorage, operation, sqlite3_errmsg(db_.get()));
}

StoreError SqliteConfigStore::Error(StoreErrorKind kind, std::string_view operation,
                                    std::string_view what) const {
  return {kind, "config store " + path_ + ": " + std::string(operation) + ": " + std::string(what)};
}

// ---- Versions ----

namespace {

// Reads a row selected with kVersionColumns; the stored config must still match its hash.
Result<ConfigVersion> ReadVersion(const Statement& row) {
  ConfigVersion version;
  version.id = row.Int(0);
  if (!row.IsNull(1)) version.parent = row.Int(1);
  version.hash = row.Text(2);
  version.author = row.Text(3);
  version.message = row.Text(4);
  version.created_at = FromUnixMicros(row.Int(5));
  const std::string bytes = row.Blob(6);
  const std::string where = "version " + std::to_string(version.id);
  if (Sha256Hex(bytes) != version.hash) {
    return StoreError{StoreErrorKind::kStorage,
                      where + ": stored config does not match its hash (corrupt file)"};
  }
  if (!version.config.ParseFromString(bytes)) {
    return StoreError{StoreErrorKind::kStorage, where + ": stored config does not parse"};
  }
  return version;
}

}  // namespace

Result<std::optional<ConfigVersion>> SqliteConfigStore::NewestLocked(
    std::string_view operation) const {
  Statement select(db_.get(), "SELECT " + std::string(kVersionColumns) +
                                  " FROM config_versions ORDER BY id DESC LIMIT 1");
  const int rc = select.Step();
  if (rc == SQLITE_DONE) return std::optional<ConfigVersion>();
  if (rc != SQLITE_ROW) return StorageError(operation);
  auto version = ReadVersion(select);
  if (!version.ok()) return Error(version.error().kind, operation, version.error().message);
  return std::optional<ConfigVersion>(std::move(version).value());
}

Result<ConfigVersion> SqliteConfigStore::GetLocked(std::string_view operation, VersionId id) const {
  Statement select(
      db_.get(), "SELECT " + std::string(kVersionColumns) + " FROM config_versions WHERE id = ?1");
  select.Bind(1, id);
  const int rc = select.Step();
  if (rc == SQLITE_DONE) {
    return Error(StoreErrorKind::kNotFound, operation, "no version " + std::to_string(id));
  }
  if (rc != SQLITE_ROW) return StorageError(operation);
  auto version = ReadVersion(select);
  if (!version.ok()) return Error(version.error().kind, operation, version.error().message);
  return version;
}

Result<ApplyOutcome> SqliteConfigStore::AppendLocked(std::string_view operation,
                                                     const std::string& bytes,
                                                     std::string_view author,
                                                     std::string_view message) {
  const std::string hash = Sha256Hex(bytes);
  auto current = NewestLocked(operation);
  if (!current.ok()) return current.error();
  if (current->has_value() && (*current)->hash == hash) {
    return ApplyOutcome{std::move(**current), false};
  }

  ConfigVersion version;
  if (current->has_value()) version.parent = (*current)->id;
  version.id = version.parent.value_or(0) + 1;
  version.hash = hash;
  version.author = std::string(author);
  version.message = std::string(message);
  const std::int64_t created_at_us = ToUnixMicros(clock_.Now());
  version.created_at = FromUnixMicros(created_at_us);
  if (!version.config.ParseFromString(bytes)) {
    return Error(StoreErrorKind::kStorage, operation, "config does not parse");
  }

  Statement insert(db_.get(), "INSERT INTO config_versions (" + std::string(kVersionColumns) +
                                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  insert.Bind(1, version.id);
  if (version.parent) {
    insert.Bind(2, *version.parent);
  } else {
    insert.BindNull(2);
  }
  insert.Bind(3, version.hash);
  insert.Bind(4, author);
  insert.Bind(5, message);
  insert.Bind(6, created_at_us);
  insert.BindBlob(7, bytes);
  if (insert.Step() != SQLITE_DONE) {
    return StorageError(std::string(operation) + ": insert version " + std::to_string(version.id));
  }
  return ApplyOutcome{std::move(version), true};
}

Result<ApplyOutcome> SqliteConfigStore::Apply(const v1::Config& config, std::string_view author,
                                              std::string_view message) {
  const std::string bytes = SerializeDeterministic(config);
  std::lock_guard lock(mutex_);
  Transaction transaction(db_.get(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return StorageError("apply: begin");
  auto outcome = AppendLocked("apply", bytes, author, message);
  if (!outcome.ok() || !outcome->created) return outcome;
  if (transaction.Commit() != SQLITE_OK) return StorageError("apply: commit");
  return outcome;
}

Result<ApplyOutcome> SqliteConfigStore::Rollback(VersionId target, std::string_view author) {
  const std::string operation = "rollback to v" + std::to_string(target);
  std::lock_guard lock(mutex_);
  Transaction transaction(db_.get(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return StorageError(operation + ": begin");
  // The blob as stored (not re-serialized), so the new version's hash is the target's.
  Statement select(db_.get(), "SELECT config FROM config_versions WHERE id = ?1");
  select.Bind(1, target);
  const int rc = select.Step();
  if (rc == SQLITE_DONE) {
    return Error(StoreErrorKind::kNotFound, operation, "no version " + std::to_string(target));
  }
  if (rc != SQLITE_ROW) return StorageError(operation);
  const std::string bytes = select.Blob(0);
  auto outcome = AppendLocked(operation, bytes, author, operation);
  if (!outcome.ok() || !outcome->created) return outcome;
  if (transaction.Commit() != SQLITE_OK) return StorageError(operation + ": commit");
  return outcome;
}

Result<std::optional<ConfigVersion>> SqliteConfigStore::Current() const {
  std::lock_guard lock(mutex_);
  return NewestLocked("current version");
}

Result<ConfigVersion> SqliteConfigStore::Get(VersionId id) const {
  std::lock_guard lock(mutex_);
  return GetLocked("get version " + std::to_string(id), id);
}

Result<std::vector<ConfigVersion>> SqliteConfigStore::History(
    std::size_t limit, std::optional<VersionId> before_id) const {
  std::lock_guard lock(mutex_);
  Statement select(db_.get(), "SELECT " + std::string(kVersionColumns) +
                                  " FROM config_versions WHERE id < ?1 ORDER BY id DESC LIMIT ?2");
  select.Bind(1, before_id.value_or(std::numeric_limits<VersionId>::max()));
  select.Bind(2, static_cast<std::int64_t>(
                     std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
  std::vector<ConfigVersion> versions;
  for (;;) {
    const int rc = select.Step();
    if (rc == SQLITE_DONE) return versions;
    if (rc != SQLITE_ROW) return StorageError("history");
    auto version = ReadVersion(select);
    if (!version.ok()) return Error(version.error().kind, "history", version.error().message);
    versions.push_back(std::move(version).value());
  }
}

// ---- Fleet secrets ----

Result<std::string> SqliteConfigStore::FleetStickySecret() {
  constexpr std::string_view kName = "sticky_session";
  std::lock_guard lock(mutex_);
  Transaction transaction(db_.get(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return StorageError("fleet sticky secret: begin");
  Statement select(db_.get(), "SELECT secret FROM fleet_secrets WHERE name = ?1");
  select.Bind(1, kName);
  if (const int rc = select.Step(); rc == SQLITE_ROW) {
    return select.Text(0);
  } else if (rc != SQLITE_DONE) {
    return StorageError("fleet sticky secret");
  }
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Error(StoreErrorKind::kStorage, "fleet sticky secret", "RAND_bytes failed (OpenSSL)");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string secret;
  for (unsigned char b : bytes) {
    secret.push_back(kHex[b >> 4]);
    secret.push_back(kHex[b & 0xf]);
  }
  Statement insert(db_.get(),
                   "INSERT INTO fleet_secrets (name, secret, created_at_us) VALUES (?1, ?2, ?3)");
  insert.Bind(1, kName);
  insert.Bind(2, secret);
  insert.Bind(3, ToUnixMicros(clock_.Now()));
  if (insert.Step() != SQLITE_DONE) return StorageError("fleet sticky secret: insert");
  if (transaction.Commit() != SQLITE_OK) return StorageError("fleet sticky secret: commit");
  return secret;
}

// ---- Nodes ----

Result<void> SqliteConfigStore::InsertFleetVersionLocked(std::string_view operation, VersionId version,
                                                         std::string_view reason) {
  auto exists = GetLocked(operation, version);
  if (!exists) return exists.error();
  Statement insert(db_.get(), "INSERT INTO fleet_versions (version, reason, at_us) VALUES (?1, ?2, ?3)");
  insert.Bind(1, std::int64_t{version});
  insert.Bind(2, reason);
  insert.Bind(3, ToUnixMicros(clock_.Now()));
  if (insert.Step() != SQLITE_DONE) return StorageError(operation);
  return {};
}

Result<void> SqliteConfigStore::SetFleetVersion(VersionId version, std::string_view reason) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_.get(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return StorageError("set fleet version: begin");
  if (auto inserted = InsertFleetVersionLocked("set fleet version", version, reason); !inserted)
    return inserted.error();
  if (transaction.Commit() != SQLITE_OK) return StorageError("set fleet version: commit");
  return {};
}

Result<std::vector<FleetChange>> SqliteConfigStore::FleetHistory(std::size_t limit) const {
  std::lock_guard lock(mutex_);
  Statement select(db_.get(),
                   "SELECT version, reason, at_us FROM fleet_versions ORDER BY id DESC LIMIT ?1");
  select.Bind(1, static_cast<std::int64_t>(
                     std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
  std::vector<FleetChange> out;
  for (int rc = select.Step(); rc != SQLITE_DONE; rc = select.Step()) {
    if (rc != SQLITE_ROW) return StorageError("fleet history");
    out.push_back({select.Int(0), select.Text(1), FromUnixMicros(select.Int(2))});
  }
  return out;
}

Result<void> SqliteConfigStore::SaveRollout(const RolloutRecord& rollout, const FleetChange* fleet) {
  if (rollout.id <= 0) {
    return Error(StoreErrorKind::kInvalidArgument, "save rollout",
                 "rollout id " + std::to_string(rollout.id) + " is not positive");
  }
  std::lock_guard lock(mutex_);
  Transaction transaction(db_.get(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return StorageError("save rollout: begin");
  if (rollout.active) {
    Statement other(db_.get(), "SELECT id FROM rollouts WHERE active = 1 AND id <> ?1");
    other.Bind(1, rollout.id);
    if (other.Step() == SQLITE_ROW) {
      return Error(StoreErrorKind::kInvalidArgument, "save rollout",
                   "rollout " + std::to_string(other.Int(0)) + " is still active");
    }
  }
  Statement upsert(db_.get(),
                   "INSERT INTO rollouts (id, active, rollout) VALUES (?1, ?2, ?3) "
                   "ON CONFLICT (id) DO UPDATE SET active = excluded.active, rollout = excluded.rollout");
  upsert.Bind(1, rollout.id);
  upsert.Bind(2, std::int64_t{rollout.active ? 1 : 0});
  upsert.BindBlob(3, rollout.rollout);
  if (upsert.Step() != SQLITE_DONE) return StorageError("save rollout " + std::to_string(rollout.id));
  if (fleet) {
    if (auto inserted = InsertFleetVersionLocked("save rollout: fleet version", fleet->version, fleet->reason);
        !inserted)
      return inserted.error();
  }
  if (transaction.Commit() != SQLITE_OK) return StorageError("save rollout: commit");
  return {};
}

Result<std::vector<RolloutRecord>> SqliteConfigStore::ListRollouts(std::size_t limit) const {
  std::lock_guard lock(mutex_);
  Statement select(db_.get(), "SELECT id, active, rollout FROM rollouts ORDER BY id DESC LIMIT ?1");
  select.Bind(1, static_cast<std::int64_t>(
                     std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
  std::vector<RolloutRecord> out;
  for (int rc = select.Step(); rc != SQLITE_DONE; rc = select.Step()) {
    if (rc != SQLITE_ROW) return StorageError("list rollouts");
    out.push_back({select.Int(0), select.Int(1) == 1, select.Blob(2)});
  }
  return out;
}

Result<void> SqliteConfigStore::UpsertNode(const NodeRecord& node) {
  const std::string operation = "upsert node " + Quoted(node.id);
  if (node.id.empty()) {
    return Error(StoreErrorKind::kInvalidArgument, "upsert node", "node id is empty");
  }
  std::lock_guard lock(mutex_);
  Transaction transaction(db_.get(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return StorageError(operation + ": begin");
  if (auto upserted = UpsertNodeLocked(node); !upserted) return upserted.error();
  if (transaction.Commit() != SQLITE_OK) return StorageError(operation + ": commit");
  return {};
}

Result<void> SqliteConfigStore::UpsertNodeLocked(const NodeRecord& node) {
  const std::string operation = "upsert node " + Quoted(node.id);
  if (node.id.empty()) {
    return Error(StoreErrorKind::kInvalidArgument, "upsert node", "node id is empty");
  }
  Statement upsert(db_.get(),
                   "INSERT INTO nodes (id, node_group, address, connected_since_us, last_seen_us) "
                   "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO UPDATE SET "
                   "node_group = excluded.node_group, address = excluded.address, "
                   "connected_since_us = excluded.connected_since_us, "
                   "last_seen_us = excluded.last_seen_us");
  upsert.Bind(1, node.id);
  upsert.Bind(2, node.group);
  upsert.Bind(3, node.address);
  upsert.Bind(4, ToUnixMicros(node.connected_since));
  upsert.Bind(5, ToUnixMicros(node.last_seen));
  if (upsert.Step() != SQLITE_DONE) return StorageError(operation);

  Statement clear(db_.get(), "DELETE FROM node_labels WHERE node_id = ?1");
  clear.Bind(1, node.id);
  if (clear.Step() != SQLITE_DONE) return StorageError(operation + ": labels");
  Statement insert(db_.get(), "INSERT INTO node_labels (node_id, key, value) VALUES (?1, ?2, ?3)");
  for (const auto& [key, value] : node.labels) {
    insert.Reset();
    insert.Bind(1, node.id);
    insert.Bind(2, key);
    insert.Bind(3, value);
    if (insert.Step() != SQLITE_DONE) return StorageError(operation + ": label " + Quoted(key));
  }
  return {};
}

Result<void> SqliteConfigStore::RecordNodeEventLocked(std::string_view operation,
                                                      std::string_view node_id,
                                                      std::string_view type, VersionId version,
                                                      std::string_view sql,
                                                      std::optional<std::string_view> error) {
  if (type.empty()) return Error(StoreErrorKind::kInvalidArgument, operation, "type is empty");

  // Checked here rather than left to the foreign keys, whose error does not say which one failed.
  Statement node(db_.get(), "SELECT 1 FROM nodes WHERE id = ?1");
  node.Bind(1, node_id);
  if (const int rc = node.Step(); rc == SQLITE_DONE) {
    return Error(StoreErrorKind::kNotFound, operation, "no node " + Quoted(node_id));
  } else if (rc != SQLITE_ROW) {
    return StorageError(operation);
  }
  Statement known(db_.get(), "SELECT 1 FROM config_versions WHERE id = ?1");
  known.Bind(1, version);
  if (const int rc = known.Step(); rc == SQLITE_DONE) {
    return Error(StoreErrorKind::kNotFound, operation, "no version " + std::to_string(version));
  } else if (rc != SQLITE_ROW) {
    return StorageError(operation);
  }

  const std::int64_t now = ToUnixMicros(clock_.Now());
  Statement record(db_.get(), sql);
  record.Bind(1, node_id);
  record.Bind(2, type);
  record.Bind(3, version);
  record.Bind(4, now);
  if (error) record.Bind(5, *error);
  if (record.Step() != SQLITE_DONE) return StorageError(operation);

  Statement seen(db_.get(), "UPDATE nodes SET last_seen_us = ?2 WHERE id = ?1");
  seen.Bind(1, node_id);
  seen.Bind(2, now);
  if (seen.Step() != SQLITE_DONE) return StorageError(std::string(operation) + ": last seen");
  return {};
}

namespace {

constexpr const char* kAckSql =
    "INSERT INTO node_acks (node_id, resource_type, version, acked_at_us) "
    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (node_id, resource_type) DO UPDATE SET "
    "version = excluded.version, acked_at_us = excluded.acked_at_us";
constexpr const char* kNackSql =
    "INSERT INTO node_nacks (node_id, resource_type, version, nacked_at_us, error) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (node_id, resource_type) DO UPDATE SET "
    "version = excluded.version, nacked_at_us = excluded.nacked_at_us, error = excluded.error";

std::string EventOperation(std::string_view what, std::string_view node_id, std::string_view type,
                           VersionId version) {
  return "record " + std::string(what) + " of " + std::string(type) + " v" + std::to_string(version) +
         " by node " + Quoted(node_id);
}

}  // namespace

Result<void> SqliteConfigStore::RecordOneEvent(std::string_view what, std::string_view node_id,
                                               std::string_view type, VersionId version,
                                               std::optional<std::string_view> error) {
  const std::string operation = EventOperation(what, node_id, type, version);
  std::lock_guard lock(mutex_);
  Transaction transaction(db_.get(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return StorageError(operation);
  if (auto r = RecordNodeEventLocked(operation, node_id, type, version, error ? kNackSql : kAckSql, error); !r)
    return r.error();
  if (transaction.Commit() != SQLITE_OK) return StorageError(operation + ": commit");
  return {};
}

Result<std::size_t> SqliteConfigStore::RecordNodeState(const std::vector<NodeRecord>& upserts,
                                                       const std::vector<NodeEventRecord>& events) {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_.get(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return StorageError("record node state: begin");
  std::size_t skipped = 0;
  auto skip_or_fail = [&](const StoreError& e) -> bool {
    if (e.kind == StoreErrorKind::kNotFound || e.kind == StoreErrorKind::kInvalidArgument) {
      ++skipped;  // one bad record must not cost the others
      return false;
    }
    return true;
  };
  for (const NodeRecord& node : upserts) {
    if (auto r = UpsertNodeLocked(node); !r && skip_or_fail(r.error())) return r.error();
  }
  for (const NodeEventRecord& e : events) {
    const char* what = e.nack_error ? "NACK" : "ACK";
    auto r = RecordNodeEventLocked(EventOperation(what, e.node_id, e.type, e.version), e.node_id, e.type,
                                   e.version, e.nack_error ? kNackSql : kAckSql,
                                   e.nack_error ? std::optional<std::string_view>(*e.nack_error)
                                                : std::nullopt);
    if (!r && skip_or_fail(r.error())) return r.error();
  }
  if (transaction.Commit() != SQLITE_OK) return StorageError("record node state: commit");
  return skipped;
}

Result<void> SqliteConfigStore::RecordAck(std::string_view node_id, std::string_view type,
                                          VersionId version) {
  return RecordOneEvent("ACK", node_id, type, version, std::nullopt);
}

Result<void> SqliteConfigStore::RecordNack(std::string_view node_id, std::string_view type,
                                           VersionId version, std::string_view error) {
  return RecordOneEvent("NACK", node_id, type, version, error);
}

Result<std::vector<NodeStatus>> SqliteConfigStore::ListNodes() const {
  std::lock_guard lock(mutex_);
  // One read transaction: the four queries see the same state.
  Transaction transaction(db_.get(), Transaction::Mode::kRead);
  if (transaction.begin_result() != SQLITE_OK) return StorageError("list nodes");

  std::vector<NodeStatus> nodes;
  std::map<std::string, std::size_t, std::less<>> index;
  Statement select(db_.get(),
                   "SELECT id, node_group, address, connected_since_us, last_seen_us FROM nodes "
                   "ORDER BY id");
  for (int rc = select.Step(); rc != SQLITE_DONE; rc = select.Step()) {
    if (rc != SQLITE_ROW) return StorageError("list nodes");
    NodeStatus status;
    status.node.id = select.Text(0);
    status.node.group = select.Text(1);
    status.node.address = select.Text(2);
    status.node.connected_since = FromUnixMicros(select.Int(3));
    status.node.last_seen = FromUnixMicros(select.Int(4));
    index.emplace(status.node.id, nodes.size());
    nodes.push_back(std::move(status));
  }
  // Child rows of nodes that are listed (foreign keys guarantee the node exists).
  auto each_row = [&](std::string_view sql, std::string_view what, auto&& apply) -> Result<void> {
    Statement rows(db_.get(), sql);
    for (int rc = rows.Step(); rc != SQLITE_DONE; rc = rows.Step()) {
      if (rc != SQLITE_ROW) return StorageError("list nodes: " + std::string(what));
      if (auto it = index.find(rows.Text(0)); it != index.end()) apply(nodes[it->second], rows);
    }
    return {};
  };
  if (auto r = each_row("SELECT node_id, key, value FROM node_labels", "labels",
                        [](NodeStatus& n, const Statement& row) {
                          n.node.labels.emplace(row.Text(1), row.Text(2));
                        });
      !r.ok()) {
    return r.error();
  }
  if (auto r =
          each_row("SELECT node_id, resource_type, version, acked_at_us FROM node_acks", "acks",
                   [](NodeStatus& n, const Statement& row) {
                     n.types[row.Text(1)].acked = NodeAck{row.Int(2), FromUnixMicros(row.Int(3))};
                   });
      !r.ok()) {
    return r.error();
  }
  if (auto r = each_row(
          "SELECT node_id, resource_type, version, nacked_at_us, error FROM node_nacks", "nacks",
          [](NodeStatus& n, const Statement& row) {
            n.types[row.Text(1)].last_nack =
                NodeNack{row.Int(2), row.Text(4), FromUnixMicros(row.Int(3))};
          });
      !r.ok()) {
    return r.error();
  }
  return nodes;
}

// ---- Stats ----

namespace {

// The proxy's uint64 run id in an INTEGER column: the same bits, so every id stays distinct.
std::int64_t RunIdColumn(std::uint64_t run_id) { return static_cast<std::int64_t>(run_id); }
std::uint64_t RunIdFromColumn(std::int64_t column) { return static_cast<std::uint64_t>(column); }

std::string RunName(const StatsRunRecord& run) {
  return "run " + std::to_string(run.run_id) + " of node " + Quoted(run.node_id);
}

}  // namespace

Result<void> SqliteConfigStore::SaveStats(const StoredStats& stats) {
  for (const StatsRunRecord& run : stats.runs) {
    if (run.node_id.empty()) {
      return Error(StoreErrorKind::kInvalidArgument, "save stats", "a run has an empty node id");
    }
    if (run.sequence > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return Error(StoreErrorKind::kInvalidArgument, "save stats",
                   RunName(run) + ": sequence " + std::to_string(run.sequence) + " is too large");
    }
  }
  for (const StatsRetiredRecord& retired : stats.retired) {
    if (retired.node_id.empty()) {
      return Error(StoreErrorKind::kInvalidArgument, "save stats",
                   "retired counts have an empty node id");
    }
  }
  std::lock_guard lock(mutex_);
  Transaction transaction(db_.get(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return StorageError("save stats: begin");

  // Forward only (see ConfigStore::SaveStats): a row is replaced by a higher sequence, or folded
  // by at least its own; a folded row stays as it is.
  Statement upsert(db_.get(),
                   "INSERT INTO stats_runs (node_id, run_id, sequence, started_at_us, "
                   "last_report_at_us, report) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
                   "ON CONFLICT (node_id, run_id) DO UPDATE SET sequence = excluded.sequence, "
                   "started_at_us = excluded.started_at_us, "
                   "last_report_at_us = excluded.last_report_at_us, report = excluded.report "
                   "WHERE stats_runs.report IS NOT NULL AND "
                   "(excluded.sequence > stats_runs.sequence OR "
                   "(excluded.report IS NULL AND excluded.sequence >= stats_runs.sequence))");
  for (const StatsRunRecord& run : stats.runs) {
    upsert.Reset();
    upsert.Bind(1, run.node_id);
    upsert.Bind(2, RunIdColumn(run.run_id));
    upsert.Bind(3, static_cast<std::int64_t>(run.sequence));
    upsert.Bind(4, ToUnixMicros(run.started_at));
    upsert.Bind(5, ToUnixMicros(run.last_report_at));
    if (run.report) {
      upsert.BindBlob(6, *run.report);
    } else {
      upsert.BindNull(6);
    }
    if (upsert.Step() != SQLITE_DONE) return StorageError("save stats: " + RunName(run));
  }
  Statement replace(db_.get(),
                    "INSERT INTO stats_retired (node_id, report) VALUES (?1, ?2) "
                    "ON CONFLICT (node_id) DO UPDATE SET report = excluded.report");
  for (const StatsRetiredRecord& retired : stats.retired) {
    replace.Reset();
    replace.Bind(1, retired.node_id);
    replace.BindBlob(2, retired.report);
    if (replace.Step() != SQLITE_DONE) {
      return StorageError("save stats: retired counts of node " + Quoted(retired.node_id));
    }
  }
  if (transaction.Commit() != SQLITE_OK) return StorageError("save stats: commit");
  return {};
}

Result<StoredStats> SqliteConfigStore::LoadStats() const {
  std::lock_guard lock(mutex_);
  Transaction transaction(db_.get(), Transaction::Mode::kRead);
  if (transaction.begin_result() != SQLITE_OK) return StorageError("load stats");
  StoredStats stats;
  Statement runs(db_.get(),
                 "SELECT node_id, run_id, sequence, started_at_us, last_report_at_us, report "
                 "FROM stats_runs ORDER BY node_id, run_id");
  for (int rc = runs.Step(); rc != SQLITE_DONE; rc = runs.Step()) {
    if (rc != SQLITE_ROW) return StorageError("load stats: runs");
    StatsRunRecord& run = stats.runs.emplace_back();
    run.node_id = runs.Text(0);
    run.run_id = RunIdFromColumn(runs.Int(1));
    run.sequence = static_cast<std::uint64_t>(runs.Int(2));
    run.started_at = FromUnixMicros(runs.Int(3));
    run.last_report_at = FromUnixMicros(runs.Int(4));
    if (!runs.IsNull(5)) run.report = runs.Blob(5);
  }
  Statement retired(db_.get(), "SELECT node_id, report FROM stats_retired ORDER BY node_id");
  for (int rc = retired.Step(); rc != SQLITE_DONE; rc = retired.Step()) {
    if (rc != SQLITE_ROW) return StorageError("load stats: retired counts");
    stats.retired.push_back({retired.Text(0), retired.Blob(1)});
  }
  return stats;
}

// ---- Health events ----

namespace {

std::int64_t ToUnixMillis(TimePoint t) {
  return std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint FromUnixMillis(std::int64_t millis) {
  return TimePoint(
      std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(millis)));
}

constexpr std::string_view kHealthColumns = "cluster, address, healthy, reason, at_unix_ms";

HealthEventRecord ReadHealthEvent(const Statement& row) {
  return {row.Text(0), row.Text(1), row.Int(2) != 0, row.Text(3), FromUnixMillis(row.Int(4))};
}

}  // namespace

Result<void> SqliteConfigStore::RecordHealthEvents(const std::vector<HealthEventRecord>& events) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].cluster.empty() || events[i].address.empty()) {
      return Error(StoreErrorKind::kInvalidArgument, "record health events",
                   "event " + std::to_string(i) + " has an empty cluster or address");
    }
  }
  if (events.empty()) return {};
  std::lock_guard lock(mutex_);
  Transaction transaction(db_.get(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return StorageError("record health events: begin");
  Statement insert(db_.get(), "INSERT INTO health_events (" + std::string(kHealthColumns) +
                                  ") VALUES (?1, ?2, ?3, ?4, ?5)");
  for (const HealthEventRecord& event : events) {
    insert.Reset();
    insert.Bind(1, event.cluster);
    insert.Bind(2, event.address);
    insert.Bind(3, std::int64_t{event.healthy ? 1 : 0});
    insert.Bind(4, event.reason);
    insert.Bind(5, ToUnixMillis(event.at));
    if (insert.Step() != SQLITE_DONE) {
      return StorageError("record health events: " + event.cluster + " " + event.address);
    }
  }
  Statement prune(db_.get(),
                  "DELETE FROM health_events WHERE id <= (SELECT max(id) FROM health_events) - ?1 "
                  "AND id NOT IN (SELECT max(id) FROM health_events GROUP BY cluster, address)");
  prune.Bind(1, kMaxHealthEvents);
  if (prune.Step() != SQLITE_DONE) return StorageError("record health events: drop old events");
  if (transaction.Commit() != SQLITE_OK) return StorageError("record health events: commit");
  return {};
}

Result<std::vector<HealthEventRecord>> SqliteConfigStore::ListHealthEvents(
    std::string_view cluster, std::size_t limit) const {
  std::lock_guard lock(mutex_);
  Statement select(db_.get(), "SELECT " + std::string(kHealthColumns) + " FROM health_events" +
                                  (cluster.empty() ? " WHERE ?1 IS NULL" : " WHERE cluster = ?1") +
                                  " ORDER BY id DESC LIMIT ?2");
  if (cluster.empty()) {
    select.BindNull(1);
  } else {
    select.Bind(1, cluster);
  }
  select.Bind(2, static_cast<std::int64_t>(
                     std::min<std::size_t>(limit, std::numeric_limits<std::int64_t>::max())));
  std::vector<HealthEventRecord> events;
  for (int rc = select.Step(); rc != SQLITE_DONE; rc = select.Step()) {
    if (rc != SQLITE_ROW) return StorageError("list health events");
    events.push_back(ReadHealthEvent(select));
  }
  return events;
}

Result<std::map<std::pair<std::string, std::string>, HealthEventRecord>>
SqliteConfigStore::LatestHealth() const {
  std::lock_guard lock(mutex_);
  Statement select(db_.get(), "SELECT " + std::string(kHealthColumns) +
                                  " FROM health_events WHERE id IN "
                                  "(SELECT max(id) FROM health_events GROUP BY cluster, address)");
  std::map<std::pair<std::string, std::string>, HealthEventRecord> latest;
  for (int rc = select.Step(); rc != SQLITE_DONE; rc = select.Step()) {
    if (rc != SQLITE_ROW) return StorageError("latest health");
    HealthEventRecord event = ReadHealthEvent(select);
    auto key = std::make_pair(event.cluster, event.address);
    latest.insert_or_assign(std::move(key), std::move(event));
  }
  return latest;
}

}  // namespace hermes::controlplane
