// A DiscoveryResponse (protobuf bytes, as the control plane's stream delivers them) applied by the
// managed proxy's assembler on top of a complete config, then what the proxy does with the
// result (dataplane/main.cpp's apply): defaults, validation, and the snapshot compile.
#include <google/protobuf/stubs/logging.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "dataplane/discovery/config_assembler.h"
#include "dataplane/config/snapshot.h"
#include "dataplane/stats/stats.h"
#include "hermes/common/config.h"

namespace {

using namespace hermes;

// A proxy that has every resource type: clusters with endpoints, routes to them, a listener.
constexpr std::string_view kBaseConfig = R"(
listeners:
  - { name: main, address: "127.0.0.1:18080" }
admin: { address: "off" }
clusters:
  - { name: web, endpoints: [{ address: "127.0.0.1:19001" }, { address: "127.0.0.1:19002", weight: 2 }] }
  - { name: api, lb_policy: maglev, hash_policy: [{ header: x-user }],
      endpoints: [{ address: "localhost:19003" }] }
routes:
  - { name: api, match: { prefix: /api }, cluster: api, prefix_rewrite: / }
  - { name: all, cluster: web }
)";

struct Base {
  dataplane::ConfigAssembler assembler;
};

Base& TheBase() {
  static Base* base = [] {
    auto* b = new Base;
    auto loaded = config::LoadConfigString(kBaseConfig, "fuzz_discovery_response.cpp");
    if (!loaded.ok()) {
      std::fprintf(stderr, "base config: %s\n", loaded.errors.front().ToString().c_str());
      std::abort();
    }
    b->assembler.Load(loaded.config);
    return b;
  }();
  return *base;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);  // "invalid UTF-8" for most inputs: noise
  TheBase();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  v1::DiscoveryResponse response;
  if (!response.ParseFromArray(data, static_cast<int>(size))) return 0;
  Base& base = TheBase();
  dataplane::ConfigAssembler trial = base.assembler;  // as DiscoveryClient does per response
  if (!trial.Accept(response).empty()) return 0;
  std::string why;
  std::optional<v1::Config> assembled = trial.Assemble(&why);
  (void)trial.Unhealthy();
  if (!assembled) return 0;
  v1::Config config = *assembled;
  config::ApplyDefaults(config);
  if (!config::Validate(config).empty()) return 0;
  // Per input, so that names never seen again do not pile up over millions of inputs.
  dataplane::StatsStore stats(1);
  dataplane::EndpointStateRegistry registry(1);
  dataplane::ResolvedHosts hosts;  // no DNS: host names get no addresses
  dataplane::SnapshotPtr snapshot = dataplane::CompileSnapshot(config, hosts, 1, stats, registry);
  // A valid config compiles whole: every route to its cluster.
  if (!snapshot || snapshot->routes.size() != static_cast<size_t>(config.routes_size())) std::abort();
  for (const auto& route : snapshot->routes) {
    if (!route.cluster) {
      std::fprintf(stderr, "route %s compiled without its cluster\n", route.name.c_str());
      std::abort();
    }
  }
  return 0;
}
