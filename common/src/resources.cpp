#include "hermes/common/resources.h"

#include <algorithm>
#include <cstdio>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

namespace hermes::discovery {
namespace {

std::string Serialize(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::io::StringOutputStream stream(&out);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return out;
}

// The version is a hash of the resource with no version set (serialized as it is: no copy).
void Seal(v1::Resource& r) {
  r.clear_version();
  r.set_version(ContentHash(Serialize(r)));
}

void SortByName(std::vector<v1::Resource>& resources) {
  std::sort(resources.begin(), resources.end(),
            [](const v1::Resource& a, const v1::Resource& b) { return a.name() < b.name(); });
}

}  // namespace

const char* ResourceTypeName(v1::ResourceType type) {
  switch (type) {
    case v1::CLUSTERS:
      return "clusters";
    case v1::ENDPOINTS:
      return "endpoints";
    case v1::ROUTES:
      return "routes";
    case v1::LISTENERS:
      return "listeners";
    default:
      return "unknown";
  }
}

std::string ContentHash(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string SetVersion(const std::vector<v1::Resource>& resources) {
  std::string all;
  for (const auto& r : resources) all.append(r.name()).append("=").append(r.version()).append(";");
  return ContentHash(all);
}

ResourceSet BuildResources(const v1::Config& config, const UnhealthyEndpoints& unhealthy) {
  ResourceSet set;
  auto& clusters = set.by_type[TypeIndex(v1::CLUSTERS)].resources;
  auto& endpoints = set.by_type[TypeIndex(v1::ENDPOINTS)].resources;
  for (const v1::Cluster& c : config.clusters()) {
    v1::Resource cluster;
    cluster.set_name(c.name());
    *cluster.mutable_cluster() = c;
    v1::Resource eps;
    eps.set_name(c.name());
    eps.mutable_endpoints()->set_cluster(c.name());
    // The copy's endpoints move to their own resource (one copy of them, not two).
    eps.mutable_endpoints()->mutable_endpoints()->Swap(cluster.mutable_cluster()->mutable_endpoints());
    Seal(cluster);
    clusters.push_back(std::move(cluster));

    if (auto down = unhealthy.find(c.name()); down != unhealthy.end()) {
      for (const v1::Endpoint& e : c.endpoints())
        if (down->second.count(e.address())) (*eps.mutable_endpoints()->mutable_healthy())[e.address()] = false;
    }
    Seal(eps);
    endpoints.push_back(std::move(eps));
  }
  SortByName(clusters);
  SortByName(endpoints);

  v1::Resource routes;
  routes.set_name("routes");
  *routes.mutable_routes()->mutable_routes() = config.routes();
  Seal(routes);
  set.by_type[TypeIndex(v1::ROUTES)].resources.push_back(std::move(routes));

  v1::Resource listeners;
  listeners.set_name("listeners");
  *listeners.mutable_listeners()->mutable_listeners() = config.listeners();
  *listeners.mutable_listeners()->mutable_admin() = config.admin();
  listeners.mutable_listeners()->set_sticky_secret(config.sticky_secret());
  Seal(listeners);
  set.by_type[TypeIndex(v1::LISTENERS)].resources.push_back(std::move(listeners));
  for (v1::ResourceType t : kTypeOrder) set.versions[TypeIndex(t)] = SetVersion(set.of(t).resources);
  return set;
}

}  // namespace hermes::discovery
