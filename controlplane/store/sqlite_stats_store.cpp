// SqliteStatsStore: the stats_runs and stats_retired tables.
#include <limits>
#include <utility>

#include "controlplane/store/sqlite_stores.h"

namespace hermes::controlplane {
namespace {

using sqlite::Statement;
using sqlite::Transaction;

// The proxy's uint64 run id in an INTEGER column: the same bits, so every id stays distinct.
std::int64_t RunIdColumn(std::uint64_t run_id) { return static_cast<std::int64_t>(run_id); }
std::uint64_t RunIdFromColumn(std::int64_t column) { return static_cast<std::uint64_t>(column); }

std::string RunName(const StatsRunRecord& run) {
  return "run " + std::to_string(run.run_id) + " of node " + Quoted(run.node_id);
}

}  // namespace

Result<void> SqliteStatsStore::SaveStats(const StoredStats& stats) {
  for (const StatsRunRecord& run : stats.runs) {
    if (run.node_id.empty()) {
      return db_.Error(StoreErrorKind::kInvalidArgument, "save stats",
                       "a run has an empty node id");
    }
    if (run.sequence > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return db_.Error(
          StoreErrorKind::kInvalidArgument, "save stats",
          RunName(run) + ": sequence " + std::to_string(run.sequence) + " is too large");
    }
  }
  for (const StatsRetiredRecord& retired : stats.retired) {
    if (retired.node_id.empty()) {
      return db_.Error(StoreErrorKind::kInvalidArgument, "save stats",
                       "retired counts have an empty node id");
    }
  }
  auto lock = db_.Lock();
  Transaction transaction(db_.handle(), Transaction::Mode::kWrite);
  if (transaction.begin_result() != SQLITE_OK) return db_.StorageError("save stats: begin");

  // Forward only (see StatsStore::SaveStats): a row is replaced by a higher sequence, or folded
  // by at least its own; a folded row stays as it is.
  Statement upsert(db_.handle(),
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
    if (upsert.Step() != SQLITE_DONE) return db_.StorageError("save stats: " + RunName(run));
  }
  Statement replace(db_.handle(),
                    "INSERT INTO stats_retired (node_id, report) VALUES (?1, ?2) "
                    "ON CONFLICT (node_id) DO UPDATE SET report = excluded.report");
  for (const StatsRetiredRecord& retired : stats.retired) {
    replace.Reset();
    replace.Bind(1, retired.node_id);
    replace.BindBlob(2, retired.report);
    if (replace.Step() != SQLITE_DONE) {
      return db_.StorageError("save stats: retired counts of node " + Quoted(retired.node_id));
    }
  }
  if (transaction.Commit() != SQLITE_OK) return db_.StorageError("save stats: commit");
  return {};
}

Result<StoredStats> SqliteStatsStore::LoadStats() const {
  auto lock = db_.Lock();
  Transaction transaction(db_.handle(), Transaction::Mode::kRead);
  if (transaction.begin_result() != SQLITE_OK) return db_.StorageError("load stats");
  StoredStats stats;
  Statement runs(db_.handle(),
                 "SELECT node_id, run_id, sequence, started_at_us, last_report_at_us, report "
                 "FROM stats_runs ORDER BY node_id, run_id");
  for (int rc = runs.Step(); rc != SQLITE_DONE; rc = runs.Step()) {
    if (rc != SQLITE_ROW) return db_.StorageError("load stats: runs");
    StatsRunRecord& run = stats.runs.emplace_back();
    run.node_id = runs.Text(0);
    run.run_id = RunIdFromColumn(runs.Int(1));
    run.sequence = static_cast<std::uint64_t>(runs.Int(2));
    run.started_at = FromUnixMicros(runs.Int(3));
    run.last_report_at = FromUnixMicros(runs.Int(4));
    if (!runs.IsNull(5)) run.report = runs.Blob(5);
  }
  Statement retired(db_.handle(), "SELECT node_id, report FROM stats_retired ORDER BY node_id");
  for (int rc = retired.Step(); rc != SQLITE_DONE; rc = retired.Step()) {
    if (rc != SQLITE_ROW) return db_.StorageError("load stats: retired counts");
    stats.retired.push_back({retired.Text(0), retired.Blob(1)});
  }
  return stats;
}

}  // namespace hermes::controlplane
