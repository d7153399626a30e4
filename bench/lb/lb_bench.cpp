// Cost of one pick per policy at 10, 100 and 1000 endpoints, and of building the hash tables.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "dataplane/lb/hash.h"
#include "dataplane/lb/load_balancer.h"

namespace hermes::dataplane::lb {
namespace {

std::unique_ptr<Cluster> MakeCluster(v1::LbPolicy policy, int64_t endpoints, bool weighted) {
  auto cluster = std::make_unique<Cluster>();
  cluster->lb_policy = policy;
  cluster->state = std::make_shared<ClusterState>();
  for (int64_t i = 0; i < endpoints; ++i) {
    Endpoint ep;
    ep.address = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":8080";
    ep.weight = weighted ? static_cast<uint32_t>(1 + i % 7) : 1;
    ep.state = std::make_shared<EndpointState>();
    ep.state->active_requests = i % 5;
    cluster->total_weight += ep.weight;
    cluster->endpoints.push_back(std::move(ep));
  }
  return cluster;
}

void Picks(benchmark::State& state, v1::LbPolicy policy, bool weighted, bool hashed) {
  auto cluster = MakeCluster(policy, state.range(0), weighted);
  auto lb = MakeLoadBalancer(*cluster, 1);
  std::vector<uint64_t> keys;
  for (int i = 0; i < 4096; ++i) keys.push_back(Hash64("session-" + std::to_string(i)));
  size_t k = 0;
  for (auto _ : state) {
    PickContext context;
    if (hashed) context.hash = keys[k++ & 4095];
    benchmark::DoNotOptimize(lb->Pick(context));
  }
}

void Build(benchmark::State& state, v1::LbPolicy policy) {
  auto cluster = MakeCluster(policy, state.range(0), false);
  for (auto _ : state) benchmark::DoNotOptimize(MakeLoadBalancer(*cluster, 1));
}

void BM_RoundRobin(benchmark::State& s) { Picks(s, v1::ROUND_ROBIN, false, false); }
void BM_RoundRobinWeighted(benchmark::State& s) { Picks(s, v1::ROUND_ROBIN, true, false); }
void BM_LeastRequest(benchmark::State& s) { Picks(s, v1::LEAST_REQUEST, false, false); }
void BM_LeastRequestWeighted(benchmark::State& s) { Picks(s, v1::LEAST_REQUEST, true, false); }
void BM_Random(benchmark::State& s) { Picks(s, v1::RANDOM, false, false); }
void BM_RandomWeighted(benchmark::State& s) { Picks(s, v1::RANDOM, true, false); }
void BM_RingHash(benchmark::State& s) { Picks(s, v1::RING_HASH, false, true); }
void BM_Maglev(benchmark::State& s) { Picks(s, v1::MAGLEV, false, true); }
void BM_RingHashBuild(benchmark::State& s) { Build(s, v1::RING_HASH); }
void BM_MaglevBuild(benchmark::State& s) { Build(s, v1::MAGLEV); }

#define HERMES_LB_BENCH(name) BENCHMARK(name)->Arg(10)->Arg(100)->Arg(1000)
HERMES_LB_BENCH(BM_RoundRobin);
HERMES_LB_BENCH(BM_RoundRobinWeighted);
HERMES_LB_BENCH(BM_LeastRequest);
HERMES_LB_BENCH(BM_LeastRequestWeighted);
HERMES_LB_BENCH(BM_Random);
HERMES_LB_BENCH(BM_RandomWeighted);
HERMES_LB_BENCH(BM_RingHash);
HERMES_LB_BENCH(BM_Maglev);
HERMES_LB_BENCH(BM_RingHashBuild)->Unit(benchmark::kMicrosecond);
HERMES_LB_BENCH(BM_MaglevBuild)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace hermes::dataplane::lb
