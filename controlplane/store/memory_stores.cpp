// The in-memory stores: the rules of the SQLite stores' statements, written as map operations.
#include "controlplane/store/memory_stores.h"

#include <limits>
#include <random>
#include <set>

#include "controlplane/store/config_hash.h"

namespace hermes::controlplane {
namespace {

// The SQLite stores keep times to the microsecond (health events: the millisecond).
TimePoint ToMicros(TimePoint t) { return std::chrono::floor<std::chrono::microseconds>(t); }
TimePoint ToMillis(TimePoint t) { return std::chrono::floor<std::chrono::milliseconds>(t); }

StoreError Error(StoreErrorKind kind, std::string_view operation, std::string_view what) {
  return {kind, "memory store: " + std::string(operation) + ": " + std::string(what)};
}

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

template <typename T>
std::vector<T> NewestFirst(const std::vector<T>& oldest_first, std::size_t limit) {
  std::vector<T> out;
  for (auto it = oldest_first.rbegin(); it != oldest_first.rend() && out.size() < limit; ++it)
    out.push_back(*it);
  return out;
}

}  // namespace

// ---- Versions ----

Result<ApplyOutcome> MemoryVersionStore::AppendLocked(const v1::Config& config,
                                                      std::string_view author,
                                                      std::string_view message) {
  const std::string hash = Sha256Hex(SerializeDeterministic(config));
  if (!versions_.empty() && versions_.back().hash == hash)
    return ApplyOutcome{versions_.back(), false};
  ConfigVersion version;
  if (!versions_.empty()) version.parent = versions_.back().id;
  version.id = static_cast<VersionId>(versions_.size()) + 1;
  version.hash = hash;
  version.author = std::string(author);
  version.message = std::string(message);
  version.created_at = ToMicros(clock_.Now());
  version.config = config;
  versions_.push_back(version);
  return ApplyOutcome{std::move(version), true};
}

Result<ApplyOutcome> MemoryVersionStore::Apply(const v1::Config& config, std::string_view author,
                                               std::string_view message) {
  std::lock_guard lock(mu_);
  return AppendLocked(config, author, message);
}

Result<ApplyOutcome> MemoryVersionStore::Rollback(VersionId target, std::string_view author) {
  const std::string operation = "rollback to v" + std::to_string(target);
  std::lock_guard lock(mu_);
  if (target < 1 || target > static_cast<VersionId>(versions_.size())) {
    return Error(StoreErrorKind::kNotFound, operation, "no version " + std::to_string(target));
  }
  const v1::Config config = versions_[static_cast<std::size_t>(target - 1)].config;
  return AppendLocked(config, author, operation);
}

Result<std::optional<ConfigVersion>> MemoryVersionStore::Current() const {
  std::lock_guard lock(mu_);
  if (versions_.empty()) return std::optional<ConfigVersion>();
  return std::optional<ConfigVersion>(versions_.back());
}

Result<std::optional<ConfigVersion>> MemoryVersionStore::CurrentHeader() const {
  std::lock_guard lock(mu_);
  if (versions_.empty()) return std::optional<ConfigVersion>();
  ConfigVersion header = versions_.back();
  header.config.Clear();
  return std::optional<ConfigVersion>(std::move(header));
}

Result<ConfigVersion> MemoryVersionStore::Get(VersionId id) const {
  std::lock_guard lock(mu_);
  if (id < 1 || id > static_cast<VersionId>(versions_.size())) {
    return Error(StoreErrorKind::kNotFound, "get version " + std::to_string(id),
                 "no version " + std::to_string(id));
  }
  return versions_[static_cast<std::size_t>(id - 1)];
}

Result<std::vector<ConfigVersion>> MemoryVersionStore::History(
    std::size_t limit, std::optional<VersionId> before_id) const {
  std::lock_guard lock(mu_);
  std::vector<ConfigVersion> out;
  for (auto it = versions_.rbegin(); it != versions_.rend() && out.size() < limit; ++it) {
    if (!before_id || it->id < *before_id) out.push_back(*it);
  }
  return out;
}

// ---- Fleet ----

Result<void> MemoryFleetStore::UpsertLocked(const NodeRecord& node) {
  if (node.id.empty())
    return Error(StoreErrorKind::kInvalidArgument, "upsert node", "node id is empty");
  NodeRecord& stored = nodes_[node.id].node;
  stored = node;
  stored.connected_since = ToMicros(node.connected_since);
  stored.last_seen = ToMicros(node.last_seen);
  return {};
}

Result<void> MemoryFleetStore::RecordLocked(std::string_view node_id, std::string_view type,
                                            VersionId version,
                                            std::optional<std::string_view> error) {
  const std::string operation = "record " + std::string(error ? "NACK" : "ACK") + " of " +
                                std::string(type) + " v" + std::to_string(version) + " by node " +
                                Quoted(node_id);
  if (type.empty()) return Error(StoreErrorKind::kInvalidArgument, operation, "type is empty");
  auto node = nodes_.find(node_id);
  if (node == nodes_.end()) {
    return Error(StoreErrorKind::kNotFound, operation, "no node " + Quoted(node_id));
  }
  if (auto known = versions_.Get(version); !known) {
    return Error(known.error().kind, operation, "no version " + std::to_string(version));
  }
  const TimePoint now = ToMicros(clock_.Now());
  NodeTypeState& state = node->second.types[std::string(type)];
  if (error) {
    state.last_nack = NodeNack{version, std::string(*error), now};
  } else {
    state.acked = NodeAck{version, now};
  }
  node->second.node.last_seen = now;
  return {};
}

Result<void> MemoryFleetStore::UpsertNode(const NodeRecord& node) {
  std::lock_guard lock(mu_);
  return UpsertLocked(node);
}

Result<void> MemoryFleetStore::RecordAck(std::string_view node_id, std::string_view type,
                                         VersionId version) {
  std::lock_guard lock(mu_);
  return RecordLocked(node_id, type, version, std::nullopt);
}

Result<void> MemoryFleetStore::RecordNack(std::string_view node_id, std::string_view type,
                                          VersionId version, std::string_view error) {
  std::lock_guard lock(mu_);
  return RecordLocked(node_id, type, version, error);
}

Result<std::size_t> MemoryFleetStore::RecordNodeState(const std::vector<NodeRecord>& upserts,
                                                      const std::vector<NodeEventRecord>& events) {
  std::lock_guard lock(mu_);
  std::size_t skipped = 0;
  for (const NodeRecord& node : upserts) {
    if (!UpsertLocked(node)) ++skipped;
  }
  for (const NodeEventRecord& e : events) {
    auto error = e.nack_error ? std::optional<std::string_view>(*e.nack_error) : std::nullopt;
    if (!RecordLocked(e.node_id, e.type, e.version, error)) ++skipped;
  }
  return skipped;
}

Result<std::vector<NodeStatus>> MemoryFleetStore::ListNodes() const {
  std::lock_guard lock(mu_);
  std::vector<NodeStatus> out;
  for (const auto& [_, status] : nodes_) out.push_back(status);
  return out;
}

Result<std::string> MemoryFleetStore::FleetStickySecret() {
  std::lock_guard lock(mu_);
  if (!sticky_secret_) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::random_device random;
    std::string secret;
    for (int i = 0; i < 64; ++i) secret.push_back(kHex[random() % 16]);
    sticky_secret_ = std::move(secret);
  }
  return *sticky_secret_;
}

// ---- Rollouts ----

Result<FleetChange> MemoryRolloutStore::NewChange(VersionId version,
                                                  std::string_view reason) const {
  if (auto known = versions_.Get(version); !known) return known.error();
  return FleetChange{version, std::string(reason), ToMicros(clock_.Now())};
}

Result<void> MemoryRolloutStore::SetFleetVersion(VersionId version, std::string_view reason) {
  std::lock_guard lock(mu_);
  auto change = NewChange(version, reason);
  if (!change) return change.error();
  changes_.push_back(std::move(change).value());
  return {};
}

Result<std::vector<FleetChange>> MemoryRolloutStore::FleetHistory(std::size_t limit) const {
  std::lock_guard lock(mu_);
  return NewestFirst(changes_, limit);
}

Result<void> MemoryRolloutStore::SaveRollout(const RolloutRecord& rollout,
                                             const FleetChange* fleet) {
  if (rollout.id <= 0) {
    return Error(StoreErrorKind::kInvalidArgument, "save rollout",
                 "rollout id " + std::to_string(rollout.id) + " is not positive");
  }
  std::lock_guard lock(mu_);
  if (rollout.active) {
    for (const auto& [id, other] : rollouts_) {
      if (other.active && id != rollout.id) {
        return Error(StoreErrorKind::kInvalidArgument, "save rollout",
                     "rollout " + std::to_string(id) + " is still active");
      }
    }
  }
  std::optional<FleetChange> change;
  if (fleet) {
    auto made = NewChange(fleet->version, fleet->reason);
    if (!made) return made.error();
    change = std::move(made).value();
  }
  rollouts_[rollout.id] = rollout;
  if (change) changes_.push_back(std::move(*change));
  return {};
}

Result<std::vector<RolloutRecord>> MemoryRolloutStore::ListRollouts(std::size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<RolloutRecord> out;
  for (auto it = rollouts_.rbegin(); it != rollouts_.rend() && out.size() < limit; ++it)
    out.push_back(it->second);
  return out;
}

// ---- Stats ----

Result<void> MemoryStatsStore::SaveStats(const StoredStats& stats) {
  for (const StatsRunRecord& run : stats.runs) {
    if (run.node_id.empty()) {
      return Error(StoreErrorKind::kInvalidArgument, "save stats", "a run has an empty node id");
    }
    if (run.sequence > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return Error(StoreErrorKind::kInvalidArgument, "save stats",
                   "run " + std::to_string(run.run_id) + " of node " + Quoted(run.node_id) +
                       ": sequence " + std::to_string(run.sequence) + " is too large");
    }
  }
  for (const StatsRetiredRecord& retired : stats.retired) {
    if (retired.node_id.empty()) {
      return Error(StoreErrorKind::kInvalidArgument, "save stats",
                   "retired counts have an empty node id");
    }
  }
  std::lock_guard lock(mu_);
  for (const StatsRunRecord& run : stats.runs) {
    StatsRunRecord record = run;
    record.started_at = ToMicros(run.started_at);
    record.last_report_at = ToMicros(run.last_report_at);
    auto [it, inserted] =
        runs_.try_emplace({run.node_id, static_cast<std::int64_t>(run.run_id)}, record);
    if (inserted) continue;
    const StatsRunRecord& stored = it->second;
    // Forward only (StatsStore::SaveStats).
    const bool forward =
        stored.report.has_value() &&
        (run.sequence > stored.sequence || (!run.report && run.sequence >= stored.sequence));
    if (forward) it->second = std::move(record);
  }
  for (const StatsRetiredRecord& retired : stats.retired)
    retired_[retired.node_id] = retired.report;
  return {};
}

Result<StoredStats> MemoryStatsStore::LoadStats() const {
  std::lock_guard lock(mu_);
  StoredStats out;
  for (const auto& [_, run] : runs_) out.runs.push_back(run);
  for (const auto& [node, report] : retired_) out.retired.push_back({node, report});
  return out;
}

// ---- Health events ----

Result<void> MemoryHealthEventStore::RecordHealthEvents(
    const std::vector<HealthEventRecord>& events) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].cluster.empty() || events[i].address.empty()) {
      return Error(StoreErrorKind::kInvalidArgument, "record health events",
                   "event " + std::to_string(i) + " has an empty cluster or address");
    }
  }
  if (events.empty()) return {};
  std::lock_guard lock(mu_);
  for (const HealthEventRecord& event : events) {
    HealthEventRecord record = event;
    record.at = ToMillis(event.at);
    events_.emplace(next_id_++, std::move(record));
  }
  // Drop ids at or below (newest id - kMaxEvents), except each endpoint's last.
  const std::int64_t drop_through = next_id_ - 1 - kMaxEvents;
  if (events_.empty() || events_.begin()->first > drop_through) return {};
  std::set<std::int64_t> lasts;
  {
    std::map<std::pair<std::string_view, std::string_view>, std::int64_t> last;
    for (const auto& [id, e] : events_) last[{e.cluster, e.address}] = id;
    for (const auto& [_, id] : last) lasts.insert(id);
  }
  for (auto it = events_.begin(); it != events_.end() && it->first <= drop_through;) {
    it = lasts.contains(it->first) ? std::next(it) : events_.erase(it);
  }
  return {};
}

Result<std::vector<HealthEventRecord>> MemoryHealthEventStore::ListHealthEvents(
    std::string_view cluster, std::size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<HealthEventRecord> out;
  for (auto it = events_.rbegin(); it != events_.rend() && out.size() < limit; ++it) {
    if (cluster.empty() || it->second.cluster == cluster) out.push_back(it->second);
  }
  return out;
}

Result<std::map<std::pair<std::string, std::string>, HealthEventRecord>>
MemoryHealthEventStore::LatestHealth() const {
  std::lock_guard lock(mu_);
  std::map<std::pair<std::string, std::string>, HealthEventRecord> latest;
  for (const auto& [_, e] : events_) latest.insert_or_assign({e.cluster, e.address}, e);
  return latest;
}

}  // namespace hermes::controlplane
