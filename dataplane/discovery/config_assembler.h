// The proxy's side of state-of-the-world discovery: the latest accepted resources of each type,
// and what they change (by resource) since the proxy last applied them, handed over once they
// are consistent (every cluster with its endpoints, every route's cluster known), which is when
// the proxy may swap its snapshot. Assemble() puts them together into one Config (the cache).
#pragma once

#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "dataplane/config/config_applier.h"
#include "hermes/common/resources.h"
#include "hermes/v1/config.pb.h"
#include "hermes/v1/discovery.pb.h"

namespace hermes::dataplane {

class ConfigAssembler {
 public:
  // Replaces the resources of the response's type (state of the world). Returns why it did not
  // (a type outside CLUSTERS..LISTENERS: nothing changes), "" when it did.
  std::string Accept(const v1::DiscoveryResponse& response);
  // Accept(), keeping what it replaced until the next call: Revert() puts it back (an update
  // the proxy refused).
  std::string AcceptRevertibly(const v1::DiscoveryResponse& response);
  void Revert();
  // Loads a whole config (the cached one, which the proxy applies whole) as if every type had
  // been received; nothing is left to apply.
  void Load(const v1::Config& config);

  // What the accepted resources change since MarkApplied() (everything before the first), or
  // nullopt with the reason they are not yet consistent (as Assemble). Empty when only health
  // verdicts changed (Unhealthy() has them).
  std::optional<ConfigChanges> Changes(std::string* why_not) const;
  // The last Changes() were applied: later ones count from here.
  void MarkApplied();

  // The config the accepted resources describe, or nullopt with the reason it is not yet
  // consistent (a type never received, a cluster without endpoints, a route to an unknown
  // cluster).
  std::optional<v1::Config> Assemble(std::string* why_not) const;

  // The control plane's health verdicts carried by the endpoints resources (`healthy: false`).
  discovery::UnhealthyEndpoints Unhealthy() const;

  // The four types above; version() and received() take only these.
  static bool known(v1::ResourceType t) { return t >= v1::CLUSTERS && t <= v1::LISTENERS; }
  const std::string& version(v1::ResourceType t) const {
    return versions_[discovery::TypeIndex(t)];
  }
  bool received(v1::ResourceType t) const { return received_[discovery::TypeIndex(t)]; }

 private:
  // Changed since last applied: cluster names (their cluster or endpoints resource), the route
  // table, the listener settings.
  struct Dirty {
    std::set<std::string> clusters;
    bool routes = false;
    bool listeners = false;
  };
  struct Replaced {
    size_t type = 0;
    std::map<std::string, v1::Resource> resources;
    std::string version;
    bool received = false;
    Dirty dirty;
  };

  // Why the accepted resources are not consistent yet; "" when they are.
  std::string WhyNotConsistent() const;

  std::array<std::map<std::string, v1::Resource>, 4> resources_;
  std::array<std::string, 4> versions_;
  std::array<bool, 4> received_{};
  Dirty dirty_;
  std::optional<Replaced> replaced_;  // what the last AcceptRevertibly() replaced
};

}  // namespace hermes::dataplane
