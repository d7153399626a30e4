// The control plane's store: immutable config versions (apply, history, rollback), what each
// proxy has acknowledged, the stats pushed by proxies, the health checker's transitions and the
// fleet's generated secrets.
// SqliteConfigStore is the implementation; tests may supply their own.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "controlplane/store/store_result.h"
#include "hermes/v1/config.pb.h"

namespace hermes::controlplane {

using VersionId = std::int64_t;  // 1, 2, 3, ... in order of creation; never reused
using TimePoint = std::chrono::system_clock::time_point;

// One row of the history. Never changes once written; times are kept to the microsecond.
struct ConfigVersion {
  VersionId id = 0;
  std::optional<VersionId> parent;  // the version that was current when this one was made
  std::string hash;                 // SHA-256 hex of the config's deterministic serialization
  std::string author;
  std::string message;
  TimePoint created_at;
  v1::Config config;
};

struct ApplyOutcome {
  ConfigVersion version;  // the new version, or the current one when nothing changed
  bool created = false;   // false: the content equalled the current version's; nothing was written
};

// A proxy as it announced itself on its discovery stream.
struct NodeRecord {
  std::string id;
  std::string group;
  std::map<std::string, std::string> labels;
  std::string address;
  TimePoint connected_since;
  TimePoint last_seen;
};

// An ACK (nack_error unset) or NACK of `version` of `type` by a node, for RecordNodeState.
struct NodeEventRecord {
  std::string node_id;
  std::string type;
  VersionId version = 0;
  std::optional<std::string> nack_error;
};

struct NodeAck {
  VersionId version = 0;
  TimePoint at;
};

struct NodeNack {
  VersionId version = 0;  // the version the proxy refused
  std::string error;      // its error_detail
  TimePoint at;
};

// What one proxy holds of one resource type ("clusters", "endpoints", "routes", "listeners").
struct NodeTypeState {
  std::optional<NodeAck> acked;       // the last version it accepted
  std::optional<NodeNack> last_nack;  // the last version it refused; kept after later ACKs
};

struct NodeStatus {
  NodeRecord node;
  std::map<std::string, NodeTypeState> types;  // by type
};

// A health transition of one endpoint, as the control plane's health checker saw it.
struct HealthEventRecord {
  std::string cluster;
  std::string address;
  bool healthy = false;
  std::string reason;  // why, e.g. "HTTP 503" or "connect: connection refused"
  TimePoint at;        // kept to the millisecond
};

// One proxy run's stats as the stats aggregator keeps them (proto/README.md, "The stats stream").
struct StatsRunRecord {
  std::string node_id;
  std::uint64_t run_id = 0;
  std::uint64_t sequence = 0;  // of the last report counted; at most INT64_MAX
  TimePoint started_at;        // times are kept to the microsecond
  TimePoint last_report_at;
  // A serialized v1::StatsReport holding the run's cumulative counters. nullopt: the run is
  // folded into its node's retired counts, and the row only remembers its sequence so that a late
  // copy of one of its reports is recognized.
  std::optional<std::string> report;
};

// The counts of a node's folded runs, summed: a serialized v1::StatsReport. One per node.
struct StatsRetiredRecord {
  std::string node_id;
  std::string report;
};

// The fleet's version changed: every proxy outside a rollout runs `version` from `at` on.
struct FleetChange {
  VersionId version = 0;
  std::string reason;  // "apply by alice", "rollout 3 completed", "rollback to v4 by bob"
  TimePoint at;        // kept to the microsecond
};

// A rollout as the rollout engine keeps it: a serialized v1::Rollout (admin.proto) under its id.
struct RolloutRecord {
  std::int64_t id = 0;  // 1, 2, 3, ...
  bool active = false;  // running, waiting or paused: the one a restarted control plane resumes
  std::string rollout;  // serialized v1::Rollout
};

struct StoredStats {
  std::vector<StatsRunRecord> runs;
  std::vector<StatsRetiredRecord> retired;

  bool empty() const { return runs.empty() && retired.empty(); }
};

class ConfigStore {
 public:
  virtual ~ConfigStore() = default;

  // Stores `config` as a new version whose parent is the current one, unless its content hash
  // equals the current version's: then returns the current version with created = false.
  // Returns once the version is durable.
  virtual Result<ApplyOutcome> Apply(const v1::Config& config, std::string_view author,
                                     std::string_view message) = 0;

  // The newest version; nullopt before the first Apply.
  virtual Result<std::optional<ConfigVersion>> Current() const = 0;

  // kNotFound when no version has this id.
  virtual Result<ConfigVersion> Get(VersionId id) const = 0;

  // Up to `limit` versions, newest first, with ids below `before_id` when given (the next page
  // starts before the last id of this one).
  virtual Result<std::vector<ConfigVersion>> History(std::size_t limit,
                                                     std::optional<VersionId> before_id) const = 0;

  // A new version with the content of `target` and the message "rollback to v<target>". Like
  // Apply, nothing is written (created = false) when the current content already equals it.
  virtual Result<ApplyOutcome> Rollback(VersionId target, std::string_view author) = 0;

  // The fleet's version is now `version` (kNotFound when no such version). Returns once durable.
  virtual Result<void> SetFleetVersion(VersionId version, std::string_view reason) = 0;
  // Up to `limit` changes of the fleet's version, newest first. Empty before the first one.
  virtual Result<std::vector<FleetChange>> FleetHistory(std::size_t limit) const = 0;

  // Inserts or replaces the rollout with this id and, with `fleet`, makes fleet->version the
  // fleet's (fleet->at is ignored: now), in one transaction. At most one rollout is active:
  // kInvalidArgument when another one is; kNotFound for an unknown fleet version. Returns once
  // durable.
  virtual Result<void> SaveRollout(const RolloutRecord& rollout, const FleetChange* fleet = nullptr) = 0;
  // Up to `limit` rollouts, newest (highest id) first.
  virtual Result<std::vector<RolloutRecord>> ListRollouts(std::size_t limit) const = 0;

  // The fleet's sticky-session key (Config.sticky_secret for proxies whose config has none): 32
  // random bytes as 64 hex digits, generated and stored durably by the first call, the same on
  // every later call and after a restart. Kept apart from the config versions: history, diff and
  // get config never show it. Never log it.
  virtual Result<std::string> FleetStickySecret() = 0;

  // Inserts the node or replaces its group, labels, address and times.
  virtual Result<void> UpsertNode(const NodeRecord& node) = 0;

  // The node accepted `version` of `type`. Also sets its last_seen to now. kNotFound when the
  // node was never upserted or the version does not exist.
  virtual Result<void> RecordAck(std::string_view node_id, std::string_view type,
                                 VersionId version) = 0;

  // The node refused `version` of `type` with `error`. Also sets its last_seen to now.
  virtual Result<void> RecordNack(std::string_view node_id, std::string_view type,
                                  VersionId version, std::string_view error) = 0;

  // Upserts the nodes, then records the ACKs and NACKs, in one transaction (one fsync for what a
  // whole fleet's reconnection writes). A record naming an unknown node or version, or with an
  // empty id or type, is skipped; the result counts them. On a storage error nothing is written.
  virtual Result<std::size_t> RecordNodeState(const std::vector<NodeRecord>& upserts,
                                              const std::vector<NodeEventRecord>& events) = 0;

  // Every node, by id, with its per-type ACK and NACK state.
  virtual Result<std::vector<NodeStatus>> ListNodes() const = 0;

  // Writes every record of `stats` in one transaction; returns once it is durable. A run's row
  // only moves forward: it is replaced by a record with a higher sequence, or folded (report
  // nullopt) by one with at least its sequence; a folded row never changes again. A retired
  // record replaces its node's.
  virtual Result<void> SaveStats(const StoredStats& stats) = 0;

  // Every stored run (by node, then run id) and every node's retired counts.
  virtual Result<StoredStats> LoadStats() const = 0;

  // Appends the transitions in one transaction, in order. The oldest events beyond a bound
  // (kept: the newest 100000, and the last one of every endpoint) are dropped.
  virtual Result<void> RecordHealthEvents(const std::vector<HealthEventRecord>& events) = 0;

  // Up to `limit` transitions of `cluster` ("" = every cluster), newest first.
  virtual Result<std::vector<HealthEventRecord>> ListHealthEvents(std::string_view cluster,
                                                                  std::size_t limit) const = 0;

  // The last transition recorded for each endpoint, by (cluster, address).
  virtual Result<std::map<std::pair<std::string, std::string>, HealthEventRecord>> LatestHealth()
      const = 0;
};

using ConfigStorePtr = std::unique_ptr<ConfigStore>;

}  // namespace hermes::controlplane
