// A config split into the typed resources of the discovery protocol, each type with a version
// derived from its content, so that a change re-sends only the types (and, for endpoints, the
// clusters) it touched.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "hermes/v1/config.pb.h"
#include "hermes/v1/discovery.pb.h"

namespace hermes::discovery {

// Types in push order (make-before-break): clusters, endpoints, routes, listeners.
inline constexpr std::array<v1::ResourceType, 4> kTypeOrder = {v1::CLUSTERS, v1::ENDPOINTS,
                                                                v1::ROUTES, v1::LISTENERS};

inline size_t TypeIndex(v1::ResourceType type) { return static_cast<size_t>(type) - 1; }

struct TypeResources {
  std::vector<v1::Resource> resources;  // sorted by name
};

struct ResourceSet {
  std::array<TypeResources, 4> by_type;  // indexed by TypeIndex
  std::array<std::string, 4> versions;   // SetVersion of each type's resources, indexed by TypeIndex
  int64_t config_version = 0;            // the stored version these come from (0: none)
  const TypeResources& of(v1::ResourceType t) const { return by_type[TypeIndex(t)]; }
  const std::string& version(v1::ResourceType t) const { return versions[TypeIndex(t)]; }
};

// The endpoints the control plane's health checker finds unhealthy: cluster -> addresses.
using UnhealthyEndpoints = std::map<std::string, std::set<std::string>>;

// Splits a validated config (defaults applied) into resources; each Resource.version is a hash of
// its content. `unhealthy` marks endpoints `healthy: false` in their cluster's ClusterEndpoints
// (so a health change re-sends only that cluster's endpoints).
ResourceSet BuildResources(const v1::Config& config, const UnhealthyEndpoints& unhealthy = {});

// The version of a state-of-the-world set: a hash over its resources' names and versions.
std::string SetVersion(const std::vector<v1::Resource>& resources);

// "clusters", "endpoints", "routes", "listeners" (as stored per node and shown by hermesctl).
const char* ResourceTypeName(v1::ResourceType type);

// Hex of a 64-bit FNV-1a hash of `bytes` (change detection, not security).
std::string ContentHash(const std::string& bytes);

}  // namespace hermes::discovery
