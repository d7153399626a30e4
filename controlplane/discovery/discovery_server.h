// The discovery service: one bidirectional stream per proxy (gRPC callback API, so thousands of
// streams cost no thread each), each driven by a StreamState. Publish() fans a new config out
// to every stream; Proxies() reports what each connected proxy runs.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <thread>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hermes/common/clock.h"
#include "hermes/common/resources.h"
#include "controlplane/discovery/stream_state.h"
#include "controlplane/discovery/fleet.h"
#include "controlplane/store/fleet_store.h"
#include "hermes/v1/discovery.grpc.pb.h"

namespace hermes::controlplane {


class DiscoveryServer final : public v1::AggregatedDiscovery::CallbackService, public Fleet {
 public:
  // `store` (may be null) records nodes, ACKs and NACKs. `clock` stamps every time of a stream's
  // status (connected, last seen, NACKed, given its target), which the rollout gate compares with
  // its own clock's; it must outlive the server. `token` non-empty: every stream must
  // carry "authorization: Bearer <token>". `sticky_secret`: the fleet's sticky-session key
  // (FleetStore::FleetStickySecret), pushed in every ListenerSet whose config has no
  // sticky_secret of its own ("": none, each proxy then keys its ids with a key of its own).
  DiscoveryServer(FleetStore* store, const Clock& clock, std::string token,
                  std::string sticky_secret = "");
  ~DiscoveryServer() override;

  grpc::ServerBidiReactor<v1::DiscoveryRequest, v1::DiscoveryResponse>* Stream(
      grpc::CallbackServerContext* context) override;

  // The fleet's config: what every proxy outside a rollout runs (thread-safe; pushes to connected
  // streams at once).
  void Publish(int64_t version, const v1::Config& config) override;

  // The rollout in progress (nullopt: none; its proxies return to the fleet's config). For the
  // same rollout_id the moved set only grows: proxies this server moved as they connected stay.
  void SetRollout(std::optional<RolloutAssignment> rollout) override;
  // The proxies moved by the current rollout (those moved on connecting included).
  std::set<std::string> RolloutMoved() const override;
  GateView ViewForGate(const rollout::Selector& selector,
                       const std::set<std::string>& moved) const override;

  // Sends the drain command to every stream of `node_id`; false when none is connected.
  bool Drain(const std::string& node_id);

  // The health checker's verdicts changed: re-sends the endpoints of the clusters concerned
  // (only that type, only those clusters' resources change version). Thread-safe.
  void PublishHealth(discovery::UnhealthyEndpoints unhealthy);

  // Connected proxies, and those seen since this process started that have gone away.
  std::vector<StreamStatus> Proxies() const override;
  size_t connected() const;

 private:
  class Reactor;
  friend class Reactor;
  void Register(Reactor* r);
  void Unregister(Reactor* r);
  // The set a stream of `node_id` should run, and whether it is the rollout's (mu_ held).
  std::pair<std::shared_ptr<const ResourceSet>, bool> DesiredFor(const std::string& node_id) const;
  // Moves connected selected proxies into the rollout as its share requires and pushes to them
  // (mu_ held).
  void AdmitJoinersLocked();
  void PushAllLocked();

  // Node state goes to the store from one background thread, so that no gRPC thread waits for
  // SQLite (each write is a durable transaction); ACKs of one node and type are coalesced.
  struct NodeEvent {
    std::string node;
    std::string type;
    int64_t version = 0;
    std::optional<std::string> nack_error;
  };
  void QueueUpsert(NodeRecord node);
  void QueueEvent(NodeEvent event);
  void WriteNodeState();

  // The ResourceSet pushed for `config`: with the fleet's sticky_secret unless it has its own, and
  // the health verdicts in unhealthy_ (mu_ held).
  std::shared_ptr<const ResourceSet> Build(int64_t version, const v1::Config& config) const;

  FleetStore* store_;
  const Clock& clock_;
  std::string token_;
  const std::string sticky_secret_;
  mutable std::mutex mu_;
  std::set<Reactor*> streams_;
  std::map<std::string, StreamStatus> gone_;  // by node id: disconnected proxies
  std::shared_ptr<const ResourceSet> desired_;  // the fleet's
  std::optional<v1::Config> config_;  // the published config, for health-only updates
  int64_t config_version_ = 0;
  std::optional<RolloutAssignment> rollout_;
  std::shared_ptr<const ResourceSet> rollout_desired_;
  size_t rollout_selected_streams_ = 0;  // registered streams whose node the selector picks
  discovery::UnhealthyEndpoints unhealthy_;

  std::mutex writer_mu_;
  std::condition_variable writer_wake_;
  std::vector<NodeRecord> upserts_;
  std::map<std::pair<std::string, std::string>, NodeEvent> events_;  // by node, type
  bool writer_stop_ = false;
  std::thread writer_;
};

}  // namespace hermes::controlplane
