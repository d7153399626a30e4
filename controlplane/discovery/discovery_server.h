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

#include "hermes/common/resources.h"
#include "controlplane/discovery/stream_state.h"
#include "controlplane/store/config_store.h"
#include "hermes/v1/discovery.grpc.pb.h"

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
  int64_t config_version = 0;  // the stored version it was sent
};

class DiscoveryServer final : public v1::AggregatedDiscovery::CallbackService {
 public:
  // `store` (may be null) records nodes, ACKs and NACKs; `token` non-empty: every stream must
  // carry "authorization: Bearer <token>".
  DiscoveryServer(ConfigStore* store, std::string token);
  ~DiscoveryServer() override;

  grpc::ServerBidiReactor<v1::DiscoveryRequest, v1::DiscoveryResponse>* Stream(
      grpc::CallbackServerContext* context) override;

  // The config every proxy should run now (thread-safe; pushes to connected streams at once).
  void Publish(int64_t version, const v1::Config& config);

  // The health checker's verdicts changed: re-sends the endpoints of the clusters concerned
  // (only that type, only those clusters' resources change version). Thread-safe.
  void PublishHealth(discovery::UnhealthyEndpoints unhealthy);

  // Connected proxies, and those seen since this process started that have gone away.
  std::vector<StreamStatus> Proxies() const;
  size_t connected() const;

 private:
  class Reactor;
  friend class Reactor;
  void Register(Reactor* r);
  void Unregister(Reactor* r);

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

  ConfigStore* store_;
  std::string token_;
  mutable std::mutex mu_;
  std::set<Reactor*> streams_;
  std::map<std::string, StreamStatus> gone_;  // by node id: disconnected proxies
  std::shared_ptr<const ResourceSet> desired_;
  std::optional<v1::Config> config_;  // the published config, for health-only updates
  int64_t config_version_ = 0;
  discovery::UnhealthyEndpoints unhealthy_;

  std::mutex writer_mu_;
  std::condition_variable writer_wake_;
  std::vector<NodeRecord> upserts_;
  std::map<std::pair<std::string, std::string>, NodeEvent> events_;  // by node, type
  bool writer_stop_ = false;
  std::thread writer_;
};

}  // namespace hermes::controlplane
