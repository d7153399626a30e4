// The control plane's admin API (proto/hermes/v1/admin.proto), used by hermesctl: config apply
// with validation (nothing stored on an error), versions, diff, rollback, and the fleet's sync
// state per proxy. A stored change is published to every connected proxy at once.
#pragma once

#include <grpcpp/grpcpp.h>

#include <mutex>
#include <string>

#include "controlplane/discovery/discovery_server.h"
#include "controlplane/health/health_monitor.h"
#include "controlplane/rollout/rollout_engine.h"
#include "controlplane/stats/stats_aggregator.h"
#include "controlplane/store/fleet_store.h"
#include "controlplane/store/health_event_store.h"
#include "controlplane/store/rollout_store.h"
#include "controlplane/store/version_store.h"
#include "hermes/common/config.h"
#include "hermes/v1/admin.grpc.pb.h"

namespace hermes::controlplane {

class AdminService final : public v1::AdminService::Service {
 public:
  // A merge (ApplyConfigRequest.merge) names at most this many resources to remove.
  static constexpr size_t kMaxMergeRemovals = 10'000;
  static constexpr size_t kMaxRemoveBytes = 1024;  // one "clusters/NAME"
  // A refused config answers its first errors and how many more there are.
  static constexpr size_t kMaxErrorsAnswered = 200;

  // What the admin API reads and writes; each must outlive the service.
  struct Stores {
    VersionStore& versions;      // apply, get, history, diff, rollback
    FleetStore& fleet;           // proxies known from earlier runs
    RolloutStore& rollouts;      // the fleet's previous version, for a rollback
    HealthEventStore& health;    // health transitions
  };

  // `token` non-empty: every call needs "authorization: Bearer <token>".
  // `health` and `stats` may be null (then backends show no health or traffic). `started`: when
  // the control plane started (GetStatus), from its clock.
  AdminService(Stores stores, DiscoveryServer& discovery, RolloutEngine& rollouts,
               std::string token, TimePoint started, HealthMonitor* health = nullptr,
               StatsAggregator* stats = nullptr);

  // The bounds on an ApplyConfig document (--max-config-bytes); the defaults until set. A
  // document over max_bytes is INVALID_ARGUMENT, before it is parsed.
  void set_config_limits(const config::DocumentLimits& limits) { config_limits_ = limits; }

  grpc::Status ApplyConfig(grpc::ServerContext* context, const v1::ApplyConfigRequest* request,
                           v1::ApplyConfigResponse* response) override;
  grpc::Status GetConfig(grpc::ServerContext* context, const v1::GetConfigRequest* request,
                         v1::GetConfigResponse* response) override;
  grpc::Status ListVersions(grpc::ServerContext* context, const v1::ListVersionsRequest* request,
                            v1::ListVersionsResponse* response) override;
  grpc::Status DiffVersions(grpc::ServerContext* context, const v1::DiffVersionsRequest* request,
                            v1::DiffVersionsResponse* response) override;
  grpc::Status Rollback(grpc::ServerContext* context, const v1::RollbackRequest* request,
                        v1::RollbackResponse* response) override;
  grpc::Status ListProxies(grpc::ServerContext* context, const v1::ListProxiesRequest* request,
                           v1::ListProxiesResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::GetStatusResponse* response) override;
  grpc::Status ListBackends(grpc::ServerContext* context, const v1::ListBackendsRequest* request,
                            v1::ListBackendsResponse* response) override;
  grpc::Status GetStats(grpc::ServerContext* context, const v1::GetStatsRequest* request,
                        v1::GetStatsResponse* response) override;
  grpc::Status ListCircuits(grpc::ServerContext* context, const v1::ListCircuitsRequest* request,
                            v1::ListCircuitsResponse* response) override;
  grpc::Status ListHealthEvents(grpc::ServerContext* context,
                                const v1::ListHealthEventsRequest* request,
                                v1::ListHealthEventsResponse* response) override;

  grpc::Status StartRollout(grpc::ServerContext* context, const v1::StartRolloutRequest* request,
                            v1::RolloutResponse* response) override;
  grpc::Status PromoteRollout(grpc::ServerContext* context, const v1::RolloutActionRequest* request,
                              v1::RolloutResponse* response) override;
  grpc::Status PauseRollout(grpc::ServerContext* context, const v1::RolloutActionRequest* request,
                            v1::RolloutResponse* response) override;
  grpc::Status ResumeRollout(grpc::ServerContext* context, const v1::RolloutActionRequest* request,
                             v1::RolloutResponse* response) override;
  grpc::Status AbortRollout(grpc::ServerContext* context, const v1::RolloutActionRequest* request,
                            v1::RolloutResponse* response) override;
  grpc::Status GetRollout(grpc::ServerContext* context, const v1::GetRolloutRequest* request,
                          v1::RolloutResponse* response) override;
  grpc::Status ListRollouts(grpc::ServerContext* context, const v1::ListRolloutsRequest* request,
                            v1::ListRolloutsResponse* response) override;
  grpc::Status DrainProxy(grpc::ServerContext* context, const v1::DrainProxyRequest* request,
                          v1::DrainProxyResponse* response) override;

 private:
  grpc::Status Authorize(const grpc::ServerContext& context) const;
  void FillProxies(v1::ListProxiesResponse& response) const;

  Stores stores_;
  DiscoveryServer& discovery_;
  RolloutEngine& rollouts_;
  std::string token_;
  HealthMonitor* health_;
  StatsAggregator* stats_;
  TimePoint started_;
  config::DocumentLimits config_limits_;
  std::mutex apply_mu_;  // one change at a time: check, store, then deploy, in order
};

// Maps a store error onto a gRPC status that says what failed.
grpc::Status ToStatus(const StoreError& error);

}  // namespace hermes::controlplane
