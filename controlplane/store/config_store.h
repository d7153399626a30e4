// The control plane's store: immutable config versions (apply, history, rollback) and what each
// proxy has acknowledged. SqliteConfigStore is the implementation; tests may supply their own.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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

  // Inserts the node or replaces its group, labels, address and times.
  virtual Result<void> UpsertNode(const NodeRecord& node) = 0;

  // The node accepted `version` of `type`. Also sets its last_seen to now. kNotFound when the
  // node was never upserted or the version does not exist.
  virtual Result<void> RecordAck(std::string_view node_id, std::string_view type,
                                 VersionId version) = 0;

  // The node refused `version` of `type` with `error`. Also sets its last_seen to now.
  virtual Result<void> RecordNack(std::string_view node_id, std::string_view type,
                                  VersionId version, std::string_view error) = 0;

  // Every node, by id, with its per-type ACK and NACK state.
  virtual Result<std::vector<NodeStatus>> ListNodes() const = 0;
};

using ConfigStorePtr = std::unique_ptr<ConfigStore>;

}  // namespace hermes::controlplane
