// What the control plane knows of each proxy's discovery stream, and the one interface through
// which the rollout engine moves proxies between versions (DiscoveryServer implements it; tests
// drive the engine with their own fleet).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "controlplane/discovery/stream_state.h"
#include "controlplane/rollout/rollout_plan.h"
#include "hermes/v1/config.pb.h"
#include "hermes/v1/discovery.pb.h"

namespace hermes::controlplane {

// What the control plane knows of one proxy's stream.
struct StreamStatus {
  v1::Node node;
  std::string peer;
  std::chrono::system_clock::time_point connected_since;
  std::chrono::system_clock::time_point last_seen;
  bool connected = false;
  bool in_sync = false;
  std::map<v1::ResourceType, std::string> acked;  // type -> content version
  std::map<v1::ResourceType, bool> pending;
  std::optional<NackRecord> last_nack;
  std::chrono::system_clock::time_point last_nack_at;
  int64_t last_nack_config_version = 0;  // the stored version it was sent when it NACKed
  int64_t config_version = 0;   // the stored version it should run (its target)
  std::chrono::system_clock::time_point target_since;  // when it was given that target
  int64_t running_version = 0;  // the stored version it last ACKed completely (0: none)
  bool in_rollout = false;      // its target is the rollout's version
  enum class Drain { kServing, kDraining, kDrained } drain = Drain::kServing;
  int64_t active_connections = 0;  // as last reported while draining
};

// The rollout's side of the fleet: the proxies moved to its version, and how a proxy that
// connects meanwhile is placed (rollout_plan.h: ProxiesToMove over the connected selected ones).
struct RolloutAssignment {
  uint64_t rollout_id = 0;
  int64_t version = 0;
  v1::Config config;
  rollout::Selector selector;
  rollout::BasisPoints share = 0;  // the current step's
  std::set<std::string> moved;
  bool admit_joiners = true;  // false while paused: a new proxy gets the fleet's version
};

// What the rollout engine moves.
class Fleet {
 public:
  virtual ~Fleet() = default;
  // Connected proxies, and those seen since this process started that have gone away.
  virtual std::vector<StreamStatus> Proxies() const = 0;
  // The fleet's config: what every proxy outside a rollout runs.
  virtual void Publish(int64_t version, const v1::Config& config) = 0;
  virtual void SetRollout(std::optional<RolloutAssignment> rollout) = 0;
  virtual std::set<std::string> RolloutMoved() const = 0;

  // What a rollout's gate reads, without copying every proxy's status: the connected streams
  // of the `moved` proxies, and how many connected streams `selector` picks (a proxy with two
  // streams, e.g. an old one lingering, counts twice).
  struct GateView {
    std::vector<StreamStatus> moved;
    std::size_t selected_streams = 0;
  };
  virtual GateView ViewForGate(const rollout::Selector& selector,
                               const std::set<std::string>& moved) const = 0;
};

}  // namespace hermes::controlplane
