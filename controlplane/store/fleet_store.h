// Fleet state: the proxies as they announced themselves, what each ACKed and NACKed per resource
// type, and the fleet's sticky-session key. The discovery server writes it, the admin API reads
// it. SqliteFleetStore (sqlite_stores.h) and MemoryFleetStore (memory_stores.h) implement it.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/store/store_result.h"
#include "controlplane/store/version_store.h"

namespace hermes::controlplane {

// A proxy as it announced itself on its discovery stream.
struct NodeRecord {
  std::string id;
  std::string group;
  std::map<std::string, std::string> labels;
  std::string address;
  TimePoint connected_since;  // times are kept to the microsecond
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

class FleetStore {
 public:
  virtual ~FleetStore() = default;

  // Inserts the node or replaces its group, labels, address and times. kInvalidArgument for an
  // empty id.
  virtual Result<void> UpsertNode(const NodeRecord& node) = 0;

  // The node accepted `version` of `type` (a version of the VersionStore behind the same
  // database). Also sets its last_seen to now. kNotFound when the node was never upserted or the
  // version does not exist; kInvalidArgument for an empty type.
  virtual Result<void> RecordAck(std::string_view node_id, std::string_view type,
                                 VersionId version) = 0;

  // The node refused `version` of `type` with `error`. Also sets its last_seen to now. Errors as
  // RecordAck's.
  virtual Result<void> RecordNack(std::string_view node_id, std::string_view type,
                                  VersionId version, std::string_view error) = 0;

  // Upserts the nodes, then records the ACKs and NACKs, in one transaction (one fsync for what a
  // whole fleet's reconnection writes). A record naming an unknown node or version, or with an
  // empty id or type, is skipped; the result counts them. On a storage error nothing is written.
  virtual Result<std::size_t> RecordNodeState(const std::vector<NodeRecord>& upserts,
                                              const std::vector<NodeEventRecord>& events) = 0;

  // Every node, by id, with its per-type ACK and NACK state.
  virtual Result<std::vector<NodeStatus>> ListNodes() const = 0;

  // The fleet's sticky-session key (Config.sticky_secret for proxies whose config has none): 32
  // random bytes as 64 hex digits, generated and stored durably by the first call, the same on
  // every later call and after a restart. Kept apart from the config versions: history, diff and
  // get config never show it. Never log it.
  virtual Result<std::string> FleetStickySecret() = 0;
};

}  // namespace hermes::controlplane
