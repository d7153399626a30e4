// The control plane's admin API (proto/hermes/v1/admin.proto), used by hermesctl: config apply
// with validation (nothing stored on an error), versions, diff, rollback, and the fleet's sync
// state per proxy. A stored change is published to every connected proxy at once.
#pragma once

#include <grpcpp/grpcpp.h>

#include <mutex>
#include <string>

#include "controlplane/discovery/discovery_server.h"
#include "controlplane/store/config_store.h"
#include "hermes/v1/admin.grpc.pb.h"

namespace hermes::controlplane {

class AdminService final : public v1::AdminService::Service {
 public:
  // `token` non-empty: every call needs "authorization: Bearer <token>".
  AdminService(ConfigStore& store, DiscoveryServer& discovery, std::string token);

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

 private:
  grpc::Status Authorize(const grpc::ServerContext& context) const;

  ConfigStore& store_;
  DiscoveryServer& discovery_;
  std::string token_;
  std::mutex apply_mu_;  // one change at a time: store, then publish, in order
};

// Maps a store error onto a gRPC status that says what failed.
grpc::Status ToStatus(const StoreError& error);

}  // namespace hermes::controlplane
