// The protocol state of one proxy's discovery stream, apart from gRPC so that every rule is
// tested directly: what to send when the desired config changes or a request arrives.
//
// Rules (DESIGN.md, "The discovery protocol"; proto/README.md):
// - State of the world per type, with version_info and a nonce unique per response.
// - A request whose response_nonce is not the one outstanding for its type is stale: ignored.
// - ACK = no error_detail; NACK = error_detail set. A NACKed version is recorded and never sent
//   to this proxy again; the proxy keeps its last good config.
// - At most one un-ACKed response per type (backpressure): newer desired state waits and is
//   sent, coalesced, once the outstanding one is answered.
// - Make-before-break: endpoints go only after the clusters they belong to are ACKed; routes only
//   once every cluster they use is ACKed; listeners after routes. A cluster that the proxy's
//   ACKed routes still use stays in the clusters (and endpoints) sent, until routes without it
//   are ACKed; then it is removed.
#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hermes/common/resources.h"

namespace hermes::controlplane {

using discovery::BuildResources;
using discovery::kTypeOrder;
using discovery::ResourceSet;
using discovery::SetVersion;
using discovery::TypeIndex;

struct NackRecord {
  v1::ResourceType type = v1::RESOURCE_TYPE_UNSPECIFIED;
  std::string version;
  std::string error;
  int64_t config_version = 0;  // the stored version the refused response came from
};

class StreamState {
 public:
  // The config this proxy should run (shared by every stream: never copied per stream). Returns
  // the responses to send now.
  std::vector<v1::DiscoveryResponse> SetDesired(std::shared_ptr<const ResourceSet> desired);
  std::vector<v1::DiscoveryResponse> SetDesired(ResourceSet desired) {
    return SetDesired(std::make_shared<const ResourceSet>(std::move(desired)));
  }

  struct RequestOutcome {
    std::vector<v1::DiscoveryResponse> send;
    bool stale = false;
    std::optional<std::string> acked_version;  // set on an ACK
    std::optional<NackRecord> nack;            // set on a NACK
  };
  RequestOutcome OnRequest(const v1::DiscoveryRequest& request);

  const std::string& acked_version(v1::ResourceType t) const { return types_[TypeIndex(t)].acked_version; }
  bool pending(v1::ResourceType t) const { return types_[TypeIndex(t)].pending_nonce.has_value(); }
  // True when every type is subscribed and has ACKed (or claimed at subscription) exactly what is
  // desired.
  bool InSync() const;

 private:
  struct TypeState {
    bool subscribed = false;
    std::string acked_version;
    std::map<std::string, v1::Resource> acked;  // by name: what the proxy runs (as far as we sent it)
    std::optional<std::string> pending_nonce;
    std::string pending_version;
    int64_t pending_config_version = 0;
    std::vector<v1::Resource> pending_resources;
    std::set<std::string> nacked;  // versions never to send again
  };

  std::vector<v1::DiscoveryResponse> Pump();
  // What this type should carry now, given what the proxy has ACKed of the others; nullopt when
  // it must wait for another type first.
  std::optional<std::vector<v1::Resource>> Wanted(v1::ResourceType t) const;
  // The version Wanted(t) would carry when it is just the desired set (nothing kept for ACKed
  // routes): then an unchanged type is skipped without copying a resource.
  std::optional<std::string> PlainVersion(v1::ResourceType t, const std::set<std::string>& used) const;
  std::set<std::string> ClustersUsedByAckedRoutes() const;

  std::shared_ptr<const ResourceSet> desired_;
  bool has_desired_ = false;
  std::array<TypeState, 4> types_;
  uint64_t next_nonce_ = 1;
};

}  // namespace hermes::controlplane
