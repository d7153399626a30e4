// Which version the fleet runs: the history of the fleet's version and the rollouts that move
// proxies between versions, as the rollout engine decides them. SqliteRolloutStore
// (sqlite_stores.h) and MemoryRolloutStore (memory_stores.h) implement it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/store/store_result.h"
#include "controlplane/store/version_store.h"

namespace hermes::controlplane {

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

class RolloutStore {
 public:
  virtual ~RolloutStore() = default;

  // The fleet's version is now `version` (kNotFound when the VersionStore behind the same
  // database has no such version). Returns once durable.
  virtual Result<void> SetFleetVersion(VersionId version, std::string_view reason) = 0;
  // Up to `limit` changes of the fleet's version, newest first. Empty before the first one.
  virtual Result<std::vector<FleetChange>> FleetHistory(std::size_t limit) const = 0;

  // Inserts or replaces the rollout with this id and, with `fleet`, makes fleet->version the
  // fleet's (fleet->at is ignored: now), in one transaction. At most one rollout is active:
  // kInvalidArgument when another one is, or for an id that is not positive; kNotFound for an
  // unknown fleet version. On an error nothing is written. Returns once durable.
  virtual Result<void> SaveRollout(const RolloutRecord& rollout,
                                   const FleetChange* fleet = nullptr) = 0;
  // Up to `limit` rollouts, newest (highest id) first.
  virtual Result<std::vector<RolloutRecord>> ListRollouts(std::size_t limit) const = 0;
};

}  // namespace hermes::controlplane
