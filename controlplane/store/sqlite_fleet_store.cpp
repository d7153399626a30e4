// SqliteFleetStore: nodes with their labels, ACKs and NACKs, and the fleet's secrets.
#include <openssl/rand.h>

#include <array>
#include <utility>

#include "controlplane/store/sqlite_stores.h"

namespace hermes::controlplane {
namespace {

using sqlite::Statement;
using sqlite::Transaction;

}  // namespace

Result<std::string> SqliteFleetStore::FleetStickySecret() {
  constexpr std::string_view kName = "sticky_session";
  auto lock = db_.Lock();
  Transaction transaction(db_.handle(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK)
    return db_.StorageError("fleet sticky secret: begin");
  Statement select(db_.handle(), "SELECT secret FROM fleet_secrets WHERE name = ?1");
  select.Bind(1, kName);
  if (const int rc = select.Step(); rc == SQLITE_ROW) {
    return select.Text(0);
  } else if (rc != SQLITE_DONE) {
    return db_.StorageError("fleet sticky secret");
  }
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return db_.Error(StoreErrorKind::kStorage, "fleet sticky secret",
                     "RAND_bytes failed (OpenSSL)");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string secret;
  for (unsigned char b : bytes) {
    secret.push_back(kHex[b >> 4]);
    secret.push_back(kHex[b & 0xf]);
  }
  Statement insert(db_.handle(),
                   "INSERT INTO fleet_secrets (name, secret, created_at_us) VALUES (?1, ?2, ?3)");
  insert.Bind(1, kName);
  insert.Bind(2, secret);
  insert.Bind(3, ToUnixMicros(db_.clock().Now()));
  if (insert.Step() != SQLITE_DONE) return db_.StorageError("fleet sticky secret: insert");
  if (transaction.Commit() != SQLITE_OK) return db_.StorageError("fleet sticky secret: commit");
  return secret;
}

Result<void> SqliteFleetStore::UpsertNode(const NodeRecord& node) {
  const std::string operation = "upsert node " + Quoted(node.id);
  if (node.id.empty()) {
    return db_.Error(StoreErrorKind::kInvalidArgument, "upsert node", "node id is empty");
  }
  auto lock = db_.Lock();
  Transaction transaction(db_.handle(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return db_.StorageError(operation + ": begin");
  if (auto upserted = UpsertNodeLocked(node); !upserted) return upserted.error();
  if (transaction.Commit() != SQLITE_OK) return db_.StorageError(operation + ": commit");
  return {};
}

Result<void> SqliteFleetStore::UpsertNodeLocked(const NodeRecord& node) {
  const std::string operation = "upsert node " + Quoted(node.id);
  if (node.id.empty()) {
    return db_.Error(StoreErrorKind::kInvalidArgument, "upsert node", "node id is empty");
  }
  Statement upsert(db_.handle(),
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
  if (upsert.Step() != SQLITE_DONE) return db_.StorageError(operation);

  Statement clear(db_.handle(), "DELETE FROM node_labels WHERE node_id = ?1");
  clear.Bind(1, node.id);
  if (clear.Step() != SQLITE_DONE) return db_.StorageError(operation + ": labels");
  Statement insert(db_.handle(),
                   "INSERT INTO node_labels (node_id, key, value) VALUES (?1, ?2, ?3)");
  for (const auto& [key, value] : node.labels) {
    insert.Reset();
    insert.Bind(1, node.id);
    insert.Bind(2, key);
    insert.Bind(3, value);
    if (insert.Step() != SQLITE_DONE) return db_.StorageError(operation + ": label " + Quoted(key));
  }
  return {};
}

Result<void> SqliteFleetStore::RecordNodeEventLocked(std::string_view operation,
                                                     std::string_view node_id,
                                                     std::string_view type, VersionId version,
                                                     std::string_view sql,
                                                     std::optional<std::string_view> error) {
  if (type.empty()) return db_.Error(StoreErrorKind::kInvalidArgument, operation, "type is empty");

  // Checked here rather than left to the foreign keys, whose error does not say which one failed.
  Statement node(db_.handle(), "SELECT 1 FROM nodes WHERE id = ?1");
  node.Bind(1, node_id);
  if (const int rc = node.Step(); rc == SQLITE_DONE) {
    return db_.Error(StoreErrorKind::kNotFound, operation, "no node " + Quoted(node_id));
  } else if (rc != SQLITE_ROW) {
    return db_.StorageError(operation);
  }
  if (auto known = db_.CheckVersionExists(operation, version); !known) return known.error();

  const std::int64_t now = ToUnixMicros(db_.clock().Now());
  Statement record(db_.handle(), sql);
  record.Bind(1, node_id);
  record.Bind(2, type);
  record.Bind(3, version);
  record.Bind(4, now);
  if (error) record.Bind(5, *error);
  if (record.Step() != SQLITE_DONE) return db_.StorageError(operation);

  Statement seen(db_.handle(), "UPDATE nodes SET last_seen_us = ?2 WHERE id = ?1");
  seen.Bind(1, node_id);
  seen.Bind(2, now);
  if (seen.Step() != SQLITE_DONE) return db_.StorageError(std::string(operation) + ": last seen");
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
  return "record " + std::string(what) + " of " + std::string(type) + " v" +
         std::to_string(version) + " by node " + Quoted(node_id);
}

}  // namespace

Result<void> SqliteFleetStore::RecordOneEvent(std::string_view what, std::string_view node_id,
                                              std::string_view type, VersionId version,
                                              std::optional<std::string_view> error) {
  const std::string operation = EventOperation(what, node_id, type, version);
  auto lock = db_.Lock();
  Transaction transaction(db_.handle(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return db_.StorageError(operation);
  if (auto r = RecordNodeEventLocked(operation, node_id, type, version, error ? kNackSql : kAckSql,
                                     error);
      !r)
    return r.error();
  if (transaction.Commit() != SQLITE_OK) return db_.StorageError(operation + ": commit");
  return {};
}

Result<std::size_t> SqliteFleetStore::RecordNodeState(const std::vector<NodeRecord>& upserts,
                                                      const std::vector<NodeEventRecord>& events) {
  auto lock = db_.Lock();
  Transaction transaction(db_.handle(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return db_.StorageError("record node state: begin");
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
    auto r = RecordNodeEventLocked(
        EventOperation(what, e.node_id, e.type, e.version), e.node_id, e.type, e.version,
        e.nack_error ? kNackSql : kAckSql,
        e.nack_error ? std::optional<std::string_view>(*e.nack_error) : std::nullopt);
    if (!r && skip_or_fail(r.error())) return r.error();
  }
  if (transaction.Commit() != SQLITE_OK) return db_.StorageError("record node state: commit");
  return skipped;
}

Result<void> SqliteFleetStore::RecordAck(std::string_view node_id, std::string_view type,
                                         VersionId version) {
  return RecordOneEvent("ACK", node_id, type, version, std::nullopt);
}

Result<void> SqliteFleetStore::RecordNack(std::string_view node_id, std::string_view type,
                                          VersionId version, std::string_view error) {
  return RecordOneEvent("NACK", node_id, type, version, error);
}

Result<std::vector<NodeStatus>> SqliteFleetStore::ListNodes() const {
  auto lock = db_.Lock();
  // One read transaction: the four queries see the same state.
  Transaction transaction(db_.handle(), Transaction::Mode::kRead);
  if (transaction.begin_result() != SQLITE_OK) return db_.StorageError("list nodes");

  std::vector<NodeStatus> nodes;
  std::map<std::string, std::size_t, std::less<>> index;
  Statement select(db_.handle(),
                   "SELECT id, node_group, address, connected_since_us, last_seen_us FROM nodes "
                   "ORDER BY id");
  for (int rc = select.Step(); rc != SQLITE_DONE; rc = select.Step()) {
    if (rc != SQLITE_ROW) return db_.StorageError("list nodes");
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
    Statement rows(db_.handle(), sql);
    for (int rc = rows.Step(); rc != SQLITE_DONE; rc = rows.Step()) {
      if (rc != SQLITE_ROW) return db_.StorageError("list nodes: " + std::string(what));
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

}  // namespace hermes::controlplane
