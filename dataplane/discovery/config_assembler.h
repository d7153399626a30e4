// The proxy's side of state-of-the-world discovery: the latest accepted resources of each type,
// put back together into one Config once they are consistent (every cluster with its endpoints,
// every route's cluster known), which is when the proxy may swap its snapshot.
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>

#include "hermes/common/resources.h"
#include "hermes/v1/config.pb.h"
#include "hermes/v1/discovery.pb.h"

namespace hermes::dataplane {

class ConfigAssembler {
 public:
  // Replaces the resources of the response's type (state of the world). Returns why it did not
  // (a type outside CLUSTERS..LISTENERS: nothing changes), "" when it did.
  std::string Accept(const v1::DiscoveryResponse& response);
  // Loads a whole config (the cached one) as if every type had been received at `versions`.
  void Load(const v1::Config& config);

  // The config the accepted resources describe, or nullopt with the reason it is not yet
  // consistent (a type never received, a cluster without endpoints, a route to an unknown
  // cluster).
  std::optional<v1::Config> Assemble(std::string* why_not) const;

  // The control plane's health verdicts carried by the endpoints resources (`healthy: false`).
  discovery::UnhealthyEndpoints Unhealthy() const;

  // The four types above; version() and received() take only these.
  static bool known(v1::ResourceType t) { return t >= v1::CLUSTERS && t <= v1::LISTENERS; }
  const std::string& version(v1::ResourceType t) const { return versions_[discovery::TypeIndex(t)]; }
  bool received(v1::ResourceType t) const { return received_[discovery::TypeIndex(t)]; }

 private:
  std::array<std::map<std::string, v1::Resource>, 4> resources_;
  std::array<std::string, 4> versions_;
  std::array<bool, 4> received_{};
};

}  // namespace hermes::dataplane
