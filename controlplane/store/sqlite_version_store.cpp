// SqliteVersionStore: config versions in the config_versions table.
#include <limits>
#include <utility>

#include "controlplane/store/config_hash.h"
#include "controlplane/store/sqlite_stores.h"

namespace hermes::controlplane {

namespace {

using sqlite::Statement;
using sqlite::Transaction;

constexpr std::string_view kVersionColumns =
    "id, parent, hash, author, message, created_at_us, config";

// The columns of kVersionColumns but the config.
constexpr std::string_view kHeaderColumns = "id, parent, hash, author, message, created_at_us";

ConfigVersion ReadHeader(const Statement& row) {
  ConfigVersion version;
  version.id = row.Int(0);
  if (!row.IsNull(1)) version.parent = row.Int(1);
  version.hash = row.Text(2);
  version.author = row.Text(3);
  version.message = row.Text(4);
  version.created_at = FromUnixMicros(row.Int(5));
  return version;
}

// Reads a row selected with kVersionColumns; the stored config must still match its hash.
Result<ConfigVersion> ReadVersion(const Statement& row) {
  ConfigVersion version = ReadHeader(row);
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

Result<std::optional<ConfigVersion>> SqliteVersionStore::NewestLocked(
    std::string_view operation) const {
  Statement select(db_.handle(), "SELECT " + std::string(kVersionColumns) +
                                     " FROM config_versions ORDER BY id DESC LIMIT 1");
  const int rc = select.Step();
  if (rc == SQLITE_DONE) return std::optional<ConfigVersion>();
  if (rc != SQLITE_ROW) return db_.StorageError(operation);
  auto version = ReadVersion(select);
  if (!version.ok()) return db_.Error(version.error().kind, operation, version.error().message);
  return std::optional<ConfigVersion>(std::move(version).value());
}

Result<std::optional<ConfigVersion>> SqliteVersionStore::NewestHeaderLocked(
    std::string_view operation) const {
  Statement select(db_.handle(), "SELECT " + std::string(kHeaderColumns) +
                                     " FROM config_versions ORDER BY id DESC LIMIT 1");
  const int rc = select.Step();
  if (rc == SQLITE_DONE) return std::optional<ConfigVersion>();
  if (rc != SQLITE_ROW) return db_.StorageError(operation);
  return std::optional<ConfigVersion>(ReadHeader(select));
}

Result<ConfigVersion> SqliteVersionStore::GetLocked(std::string_view operation,
                                                    VersionId id) const {
  Statement select(db_.handle(), "SELECT " + std::string(kVersionColumns) +
                                     " FROM config_versions WHERE id = ?1");
  select.Bind(1, id);
  const int rc = select.Step();
  if (rc == SQLITE_DONE) {
    return db_.Error(StoreErrorKind::kNotFound, operation, "no version " + std::to_string(id));
  }
  if (rc != SQLITE_ROW) return db_.StorageError(operation);
  auto version = ReadVersion(select);
  if (!version.ok()) return db_.Error(version.error().kind, operation, version.error().message);
  return version;
}

Result<ApplyOutcome> SqliteVersionStore::AppendLocked(std::string_view operation,
                                                      const std::string& bytes,
                                                      std::string_view author,
                                                      std::string_view message,
                                                      const v1::Config* config) {
  const std::string hash = Sha256Hex(bytes);
  auto current = NewestHeaderLocked(operation);
  if (!current.ok()) return current.error();
  if (current->has_value() && (*current)->hash == hash) {
    // Unchanged: the current version whole (read back, so its hash is checked as on any read).
    auto whole = GetLocked(operation, (*current)->id);
    if (!whole.ok()) return whole.error();
    return ApplyOutcome{std::move(whole).value(), false};
  }

  ConfigVersion version;
  if (current->has_value()) version.parent = (*current)->id;
  version.id = version.parent.value_or(0) + 1;
  version.hash = hash;
  version.author = std::string(author);
  version.message = std::string(message);
  const std::int64_t created_at_us = ToUnixMicros(db_.clock().Now());
  version.created_at = FromUnixMicros(created_at_us);
  if (config != nullptr) {
    version.config = *config;
  } else if (!version.config.ParseFromString(bytes)) {
    return db_.Error(StoreErrorKind::kStorage, operation, "config does not parse");
  }

  Statement insert(db_.handle(), "INSERT INTO config_versions (" + std::string(kVersionColumns) +
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
    return db_.StorageError(std::string(operation) + ": insert version " +
                            std::to_string(version.id));
  }
  return ApplyOutcome{std::move(version), true};
}

Result<ApplyOutcome> SqliteVersionStore::Apply(const v1::Config& config, std::string_view author,
                                               std::string_view message) {
  const std::string bytes = SerializeDeterministic(config);
  auto lock = db_.Lock();
  Transaction transaction(db_.handle(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return db_.StorageError("apply: begin");
  auto outcome = AppendLocked("apply", bytes, author, message, &config);
  if (!outcome.ok() || !outcome->created) return outcome;
  if (transaction.Commit() != SQLITE_OK) return db_.StorageError("apply: commit");
  return outcome;
}

Result<ApplyOutcome> SqliteVersionStore::Rollback(VersionId target, std::string_view author) {
  const std::string operation = "rollback to v" + std::to_string(target);
  auto lock = db_.Lock();
  Transaction transaction(db_.handle(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return db_.StorageError(operation + ": begin");
  // The blob as stored (not re-serialized), so the new version's hash is the target's.
  Statement select(db_.handle(), "SELECT config FROM config_versions WHERE id = ?1");
  select.Bind(1, target);
  const int rc = select.Step();
  if (rc == SQLITE_DONE) {
    return db_.Error(StoreErrorKind::kNotFound, operation, "no version " + std::to_string(target));
  }
  if (rc != SQLITE_ROW) return db_.StorageError(operation);
  const std::string bytes = select.Blob(0);
  auto outcome = AppendLocked(operation, bytes, author, operation);
  if (!outcome.ok() || !outcome->created) return outcome;
  if (transaction.Commit() != SQLITE_OK) return db_.StorageError(operation + ": commit");
  return outcome;
}

Result<std::optional<ConfigVersion>> SqliteVersionStore::Current() const {
  auto lock = db_.Lock();
  return NewestLocked("current version");
}

Result<std::optional<ConfigVersion>> SqliteVersionStore::CurrentHeader() const {
  auto lock = db_.Lock();
  return NewestHeaderLocked("current version");
}

Result<ConfigVersion> SqliteVersionStore::Get(VersionId id) const {
  auto lock = db_.Lock();
  return GetLocked("get version " + std::to_string(id), id);
}

Result<std::vector<ConfigVersion>> SqliteVersionStore::History(
    std::size_t limit, std::optional<VersionId> before_id) const {
  auto lock = db_.Lock();
  Statement select(db_.handle(),
                   "SELECT " + std::string(kVersionColumns) +
                       " FROM config_versions WHERE id < ?1 ORDER BY id DESC LIMIT ?2");
  select.Bind(1, before_id.value_or(std::numeric_limits<VersionId>::max()));
  select.Bind(2, SqlLimit(limit));
  std::vector<ConfigVersion> versions;
  for (;;) {
    const int rc = select.Step();
    if (rc == SQLITE_DONE) return versions;
    if (rc != SQLITE_ROW) return db_.StorageError("history");
    auto version = ReadVersion(select);
    if (!version.ok()) return db_.Error(version.error().kind, "history", version.error().message);
    versions.push_back(std::move(version).value());
  }
}

}  // namespace hermes::controlplane
