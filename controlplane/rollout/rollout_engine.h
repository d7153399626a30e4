// Which stored version each proxy runs: the fleet's version, and at most one progressive rollout
// moving the proxies its selector picks to another version in steps, checking each step's gate
// (rollout_plan.h) and aborting on its own. Everything it decides is written to the store before
// a proxy is told, so a restarted control plane resumes the rollout where it was.
// Thread-safe: one mutex; it calls into the fleet (the discovery server) and the store with it
// held, and nothing calls back into it.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/discovery/fleet.h"
#include "controlplane/rollout/rollout_plan.h"
#include "controlplane/store/rollout_store.h"
#include "controlplane/store/version_store.h"
#include "hermes/common/clock.h"
#include "hermes/v1/admin.pb.h"

namespace hermes::controlplane {

class RolloutEngine {
 public:
  // The requests and errors over the last `window` of the `moved` proxies (first) and of every
  // other proxy (second) (StatsAggregator::SplitCounts).
  using TrafficFn = std::function<std::pair<rollout::Traffic, rollout::Traffic>(
      std::chrono::seconds window, const std::set<std::string>& moved)>;
  // The configs proxies run changed: the fleet's and, during a rollout, the rollout's (for the
  // health checker and the stats' route names).
  using ConfigsFn = std::function<void(const v1::Config& fleet, const v1::Config* rollout)>;

  static constexpr std::chrono::milliseconds kDefaultInterval{30000};
  static constexpr double kDefaultMaxErrorRate = 0.01;

  // `min_interval`: the proxies' stats interval; a step shorter than it would be judged on no
  // stats, so StartRollout refuses it.
  RolloutEngine(const VersionStore& versions, RolloutStore& rollout_store, Fleet& fleet, const Clock& clock, TrafficFn traffic,
                ConfigsFn configs, std::chrono::milliseconds min_interval = std::chrono::seconds(1));
  ~RolloutEngine();

  // At start: the stored fleet version (the newest version for a store without one) and the
  // active rollout, if any, are published. Errors are the store's.
  Result<void> Restore();

  // Starts a thread that calls Tick() every `period`; Stop() (or the destructor) ends it.
  void Run(std::chrono::milliseconds period);
  void Stop();

  // Checks the gate of the rollout in progress; promotes, completes or aborts it as it decides.
  void Tick();

  // The whole fleet to `version` (apply, rollback; kept by the engine, so pass it moved). A
  // rollout in progress refuses it (FAILED_PRECONDITION) unless `force`, which aborts it first;
  // `aborted` gets its id then.
  grpc::Status Deploy(ConfigVersion version, bool force, const std::string& reason,
                      uint64_t* aborted = nullptr);
  // FAILED_PRECONDITION when a rollout is in progress and `force` is not set (nothing changes).
  grpc::Status CheckDeployable(bool force) const;

  // The actions answer the rollout without its proxies (a fleet of 10,000 would make every
  // answer large); Get lists them.
  grpc::Status Start(const v1::StartRolloutRequest& request, v1::Rollout* out);
  grpc::Status Promote(const std::string& author, v1::Rollout* out);
  grpc::Status Pause(const std::string& author, const std::string& reason, v1::Rollout* out);
  grpc::Status Resume(const std::string& author, v1::Rollout* out);
  grpc::Status Abort(const std::string& author, const std::string& reason, v1::Rollout* out);
  // id 0: the one in progress, else the newest. With its proxies, canaries first.
  grpc::Status Get(uint64_t id, v1::Rollout* out) const;
  grpc::Status List(std::size_t limit, std::vector<v1::Rollout>* out) const;

  int64_t fleet_version() const;
  // The version the fleet runs (what an apply is diffed against and a merge goes into), if any.
  std::optional<ConfigVersion> FleetVersion() const;
  // The rollout in progress (id 0 when none), without its proxies.
  v1::Rollout active() const;

 private:
  bool ActiveLocked() const;
  // FAILED_PRECONDITION naming the rollout in progress and what to do about it.
  grpc::Status InProgressLocked() const;
  // FAILED_PRECONDITION for an action with no rollout in progress, naming how the last one ended.
  grpc::Status NoRolloutLocked() const;
  // Writes `next` (and, with `fleet`, the fleet's new version, in the same transaction); only
  // once that is durable does it become the engine's state.
  grpc::Status CommitLocked(v1::Rollout next, const ConfigVersion* fleet = nullptr,
                            const std::string& fleet_reason = "");
  // Tells the fleet what the rollout (or its absence) now means for each proxy.
  void PushLocked();
  // Adds the proxies the discovery server moved as they connected.
  void SyncMovedLocked(v1::Rollout& r) const;
  // Moves proxies into `r` until its step's share is reached.
  void MoveForStepLocked(v1::Rollout& r) const;
  static std::vector<std::string> SelectedConnected(const v1::Rollout& r,
                                                    const std::vector<StreamStatus>& proxies);
  void EvaluateLocked();
  grpc::Status AbortLocked(const std::string& reason);
  grpc::Status CompleteLocked();
  grpc::Status NextStepLocked(const std::string& why);
  void FillProxiesLocked(v1::Rollout& out) const;
  int64_t NowMs() const;

  const VersionStore& versions_;
  RolloutStore& rollout_store_;
  Fleet& fleet_;
  const Clock& clock_;
  TrafficFn traffic_;
  ConfigsFn configs_;
  const std::chrono::milliseconds min_interval_;

  mutable std::mutex mu_;
  std::optional<ConfigVersion> fleet_version_;
  v1::Rollout rollout_;                    // the active one; id 0: none
  std::optional<ConfigVersion> target_;    // its version's config
  std::vector<rollout::BasisPoints> steps_;
  bool dirty_ = false;          // rollout_ differs from the store (an abort it refused)
  int64_t no_moved_since_ms_ = 0;  // since when no moved proxy has been connected (0: one is)

  std::mutex run_mu_;
  std::condition_variable run_wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace hermes::controlplane
