// SqliteHealthEventStore: the health_events table, bounded.
#include <utility>

#include "controlplane/store/sqlite_stores.h"

namespace hermes::controlplane {
namespace {

using sqlite::Statement;
using sqlite::Transaction;

constexpr std::string_view kHealthColumns = "cluster, address, healthy, reason, at_unix_ms";

HealthEventRecord ReadHealthEvent(const Statement& row) {
  return {row.Text(0), row.Text(1), row.Int(2) != 0, row.Text(3), FromUnixMillis(row.Int(4))};
}

}  // namespace

Result<void> SqliteHealthEventStore::RecordHealthEvents(
    const std::vector<HealthEventRecord>& events) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].cluster.empty() || events[i].address.empty()) {
      return db_.Error(StoreErrorKind::kInvalidArgument, "record health events",
                       "event " + std::to_string(i) + " has an empty cluster or address");
    }
  }
  if (events.empty()) return {};
  auto lock = db_.Lock();
  Transaction transaction(db_.handle(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK)
    return db_.StorageError("record health events: begin");
  Statement insert(db_.handle(), "INSERT INTO health_events (" + std::string(kHealthColumns) +
                                     ") VALUES (?1, ?2, ?3, ?4, ?5)");
  for (const HealthEventRecord& event : events) {
    insert.Reset();
    insert.Bind(1, event.cluster);
    insert.Bind(2, event.address);
    insert.Bind(3, std::int64_t{event.healthy ? 1 : 0});
    insert.Bind(4, event.reason);
    insert.Bind(5, ToUnixMillis(event.at));
    if (insert.Step() != SQLITE_DONE) {
      return db_.StorageError("record health events: " + event.cluster + " " + event.address);
    }
  }
  Statement prune(db_.handle(),
                  "DELETE FROM health_events WHERE id <= (SELECT max(id) FROM health_events) - ?1 "
                  "AND id NOT IN (SELECT max(id) FROM health_events GROUP BY cluster, address)");
  prune.Bind(1, kMaxEvents);
  if (prune.Step() != SQLITE_DONE) return db_.StorageError("record health events: drop old events");
  if (transaction.Commit() != SQLITE_OK) return db_.StorageError("record health events: commit");
  return {};
}

Result<std::vector<HealthEventRecord>> SqliteHealthEventStore::ListHealthEvents(
    std::string_view cluster, std::size_t limit) const {
  auto lock = db_.Lock();
  Statement select(db_.handle(),
                   "SELECT " + std::string(kHealthColumns) + " FROM health_events" +
                       (cluster.empty() ? " WHERE ?1 IS NULL" : " WHERE cluster = ?1") +
                       " ORDER BY id DESC LIMIT ?2");
  if (cluster.empty()) {
    select.BindNull(1);
  } else {
    select.Bind(1, cluster);
  }
  select.Bind(2, SqlLimit(limit));
  std::vector<HealthEventRecord> events;
  for (int rc = select.Step(); rc != SQLITE_DONE; rc = select.Step()) {
    if (rc != SQLITE_ROW) return db_.StorageError("list health events");
    events.push_back(ReadHealthEvent(select));
  }
  return events;
}

Result<std::map<std::pair<std::string, std::string>, HealthEventRecord>>
SqliteHealthEventStore::LatestHealth() const {
  auto lock = db_.Lock();
  Statement select(db_.handle(),
                   "SELECT " + std::string(kHealthColumns) +
                       " FROM health_events WHERE id IN "
                       "(SELECT max(id) FROM health_events GROUP BY cluster, address)");
  std::map<std::pair<std::string, std::string>, HealthEventRecord> latest;
  for (int rc = select.Step(); rc != SQLITE_DONE; rc = select.Step()) {
    if (rc != SQLITE_ROW) return db_.StorageError("latest health");
    HealthEventRecord event = ReadHealthEvent(select);
    auto key = std::make_pair(event.cluster, event.address);
    latest.insert_or_assign(std::move(key), std::move(event));
  }
  return latest;
}

}  // namespace hermes::controlplane
