// bench_apply: with N clusters (default 1,000), what a change of one cluster's endpoints costs
// against a full compile of the same config, in the same run; then the one-cluster change at 10,
// 100 and 1,000 clusters, through the applier alone and through Server::Apply (defaults,
// validation, compile, health bookkeeping and the post to every worker).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "dataplane/config/config_applier.h"
#include "dataplane/server/server.h"
#include "hermes/common/config.h"

namespace {

using namespace hermes;
using namespace hermes::dataplane;
using Clock = std::chrono::steady_clock;

constexpr unsigned kWorkers = 2;
constexpr int kEndpoints = 3;

std::string Endpoint(int cluster, int i, int variant) {
  return "10." + std::to_string(cluster / 250) + "." + std::to_string(cluster % 250) + "." +
         std::to_string(i + 1 + variant) + ":8080";
}

v1::Cluster MakeCluster(int i, int variant) {
  v1::Cluster c;
  c.set_name("cluster-" + std::to_string(i));
  // A mix of the cheap-to-build policies: no ring or table inflates the full compile.
  c.set_lb_policy(i % 2 ? v1::LEAST_REQUEST : v1::ROUND_ROBIN);
  for (int e = 0; e < kEndpoints; ++e)
    c.add_endpoints()->set_address(Endpoint(i, e, e == 2 ? variant : 0));
  return c;
}

v1::Config MakeConfig(int clusters) {
  v1::Config config;
  config.add_listeners()->set_address("127.0.0.1:0");
  config.mutable_admin()->set_address("off");
  for (int i = 0; i < clusters; ++i) {
    *config.add_clusters() = MakeCluster(i, 0);
    v1::Route& r = *config.add_routes();
    r.set_name("route-" + std::to_string(i));
    r.mutable_match()->set_prefix("/" + std::to_string(i));
    r.set_cluster("cluster-" + std::to_string(i));
  }
  config::ApplyDefaults(config);
  if (auto errors = config::Validate(config); !errors.empty()) {
    std::fprintf(stderr, "invalid bench config: %s\n", errors[0].ToString().c_str());
    std::exit(1);
  }
  return config;
}

// Median of `runs` timings of `f`, in microseconds.
double MedianMicros(int runs, const std::function<void(int)>& f) {
  std::vector<double> us;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    f(i);
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

ConfigChanges OneClusterChange(int clusters, int run) {
  ConfigChanges changes;
  changes.clusters.push_back(MakeCluster(clusters / 2, 1 + run % 2));
  return changes;
}

struct Figures {
  double full_us;
  double delta_us;   // ApplyChanges of one cluster
  double reload_us;  // ApplyConfig of the whole config with one cluster changed (a reload)
};

Figures Measure(int clusters, int runs) {
  v1::Config config = MakeConfig(clusters);
  ResolvedHosts hosts;
  StatsStore stats(kWorkers);
  EndpointStateRegistry registry(kWorkers);
  Figures f{};
  uint64_t generation = 0;
  f.full_us = MedianMicros(runs, [&](int) {
    SnapshotPtr snap = CompileSnapshot(config, hosts, ++generation, stats, registry);
    if (!snap) std::abort();
  });
  ConfigApplier applier(stats, registry);
  applier.ApplyConfig(config, hosts);
  f.delta_us = MedianMicros(runs, [&](int run) {
    ApplyResult r = applier.ApplyChanges(OneClusterChange(clusters, run), hosts);
    if (!r.snapshot || r.compiled_clusters.size() != 1) std::abort();
  });
  std::vector<v1::Config> reloads(2, config);
  for (int v = 0; v < 2; ++v) {
    v1::Cluster c = MakeCluster(clusters / 2, 3 + v);
    config::ApplyClusterDefaults(c);
    *reloads[v].mutable_clusters(clusters / 2) = c;
  }
  f.reload_us = MedianMicros(runs, [&](int run) {
    ApplyResult r = applier.ApplyConfig(reloads[run % 2], hosts);
    if (!r.snapshot || r.compiled_clusters.size() != 1) std::abort();
  });
  return f;
}

// Server::Apply(ConfigChanges) of one cluster on a started server (managed mode, no DNS).
double MeasureServer(int clusters, int runs) {
  ServerOptions options;
  options.workers = kWorkers;
  options.central_health = true;
  Server server(options);
  if (!server.Start(MakeConfig(clusters)).empty()) std::abort();
  double us = MedianMicros(runs, [&](int run) {
    if (!server.Apply(OneClusterChange(clusters, run), {}).empty()) std::abort();
  });
  server.Shutdown();
  server.Wait();
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  int clusters = argc > 1 ? std::atoi(argv[1]) : 1000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 21;
  std::printf("# bench_apply: %d workers, %d endpoints per cluster, median of %d runs\n", kWorkers,
              kEndpoints, runs);
  Figures f = Measure(clusters, runs);
  std::printf(
      "%d clusters: full compile %.0f us, one-cluster change %.1f us (ratio 1/%.0f), "
      "whole-config reload with one cluster changed %.0f us (ratio 1/%.0f)\n",
      clusters, f.full_us, f.delta_us, f.full_us / f.delta_us, f.reload_us,
      f.full_us / f.reload_us);
  std::printf("\n%10s %14s %16s %18s\n", "clusters", "full_us", "applier_one_us",
              "server_apply_us");
  for (int n : {10, 100, 1000}) {
    Figures g = Measure(n, runs);
    std::printf("%10d %14.0f %16.1f %18.1f\n", n, g.full_us, g.delta_us, MeasureServer(n, runs));
  }
  return f.full_us / f.delta_us >= 20 ? 0 : 1;
}
