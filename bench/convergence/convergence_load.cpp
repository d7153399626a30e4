// Load tool for bench/convergence: opens N discovery streams to hermes-controlplane that behave
// like proxies (subscribe, ACK every response at once), applies C config changes through the
// admin API, and reports how long each change took to reach the last stream: from ApplyConfig
// returning to the last stream receiving it, p50 and p99 over the changes.
//
//   convergence_load --server 127.0.0.1:9090 --streams 10000 --changes 100 [--per-channel 100]
//                    [--proxies-ready N]   (also wait for N real proxies to report SYNCED)
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hermes/v1/admin.grpc.pb.h"
#include "hermes/v1/discovery.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace hermes;

std::atomic<int64_t> g_target_generation{-1};  // the change being measured
std::atomic<int> g_reached{0};                 // streams that received it
std::atomic<int64_t> g_last_ns{0};             // when the last of them received it
std::atomic<int> g_connected{0};

int64_t NowNs() { return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count(); }

// The routes resource carries a route named "gen-<n>": each change bumps n.
int64_t GenerationOf(const v1::DiscoveryResponse& r) {
  if (r.type() != v1::ROUTES) return -1;
  for (const auto& res : r.resources())
    for (const auto& route : res.routes().routes())
      if (route.name().rfind("gen-", 0) == 0) return std::stoll(route.name().substr(4));
  return -1;
}

class SimulatedProxy final : public grpc::ClientBidiReactor<v1::DiscoveryRequest, v1::DiscoveryResponse> {
 public:
  SimulatedProxy(v1::AggregatedDiscovery::Stub* stub, int index) {
    for (auto t : {v1::CLUSTERS, v1::ENDPOINTS, v1::ROUTES, v1::LISTENERS}) {
      v1::DiscoveryRequest r;
      if (t == v1::CLUSTERS) r.mutable_node()->set_id("sim-" + std::to_string(index));
      r.set_type(t);
      queue_.push_back(std::move(r));
    }
    stub->async()->Stream(&context_, this);
    StartRead(&response_);
    AddHold();
    StartCall();
    std::lock_guard lock(mu_);
    WriteNext();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      RemoveHold();
      return;
    }
    if (!connected_) {
      connected_ = true;
      ++g_connected;
    }
    int64_t gen = GenerationOf(response_);
    if (gen >= 0 && gen > seen_) {
      seen_ = gen;
      if (gen == g_target_generation.load()) {
        int64_t now = NowNs();
        int64_t prev = g_last_ns.load();
        while (now > prev && !g_last_ns.compare_exchange_weak(prev, now)) {}
        ++g_reached;
      }
    }
    v1::DiscoveryRequest ack;
    ack.set_type(response_.type());
    ack.set_version_info(response_.version_info());
    ack.set_response_nonce(response_.nonce());
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(ack));
      WriteNext();
    }
    StartRead(&response_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) return;
    queue_.pop_front();
    WriteNext();
  }

  void OnDone(const grpc::Status& s) override {
    if (!s.ok() && s.error_code() != grpc::StatusCode::CANCELLED)
      std::fprintf(stderr, "stream ended: %s\n", s.error_message().c_str());
  }

  void Cancel() { context_.TryCancel(); }

 private:
  void WriteNext() {
    if (writing_ || queue_.empty()) return;
    writing_ = true;
    StartWrite(&queue_.front());
  }

  grpc::ClientContext context_;
  v1::DiscoveryResponse response_;
  std::mutex mu_;
  std::deque<v1::DiscoveryRequest> queue_;
  bool writing_ = false;
  bool connected_ = false;
  int64_t seen_ = -1;
};

std::string ConfigYaml(int64_t generation) {
  return "listeners: [ { name: main, address: \"127.0.0.1:1\" } ]\nadmin: { address: off }\n"
         "clusters: [ { name: web, health_check: { enabled: false }, endpoints: [ { address: \"127.0.0.1:9\" } ] } ]\n"
         "routes:\n  - { name: gen-" + std::to_string(generation) + ", match: { path: /gen }, cluster: web }\n"
         "  - { name: all, cluster: web }\n";
}

int64_t Percentile(std::vector<int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  std::string server = "127.0.0.1:9090";
  int streams = 1000, changes = 100, per_channel = 100, proxies_ready = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--server") server = v;
    else if (a == "--streams") streams = std::stoi(v);
    else if (a == "--changes") changes = std::stoi(v);
    else if (a == "--per-channel") per_channel = std::stoi(v);
    else if (a == "--proxies-ready") proxies_ready = std::stoi(v);
    else { std::fprintf(stderr, "unknown flag %s\n", a.c_str()); return 2; }
  }
  auto admin_channel = grpc::CreateChannel(server, grpc::InsecureChannelCredentials());
  auto admin = v1::AdminService::NewStub(admin_channel);

  // Distinct channel arguments give each channel its own connection (gRPC shares subchannels
  // between channels with equal arguments).
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::AggregatedDiscovery::Stub>> stubs;
  for (int c = 0; c * per_channel < streams; ++c) {
    grpc::ChannelArguments args;
    args.SetInt("hermes.bench.channel", c);
    channels.push_back(grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args));
    stubs.push_back(v1::AggregatedDiscovery::NewStub(channels.back()));
  }
  g_target_generation = 0;
  {
    grpc::ClientContext ctx;
    v1::ApplyConfigRequest req;
    req.set_yaml(ConfigYaml(0));
    v1::ApplyConfigResponse resp;
    auto s = admin->ApplyConfig(&ctx, req, &resp);
    if (!s.ok()) { std::fprintf(stderr, "apply: %s\n", s.error_message().c_str()); return 1; }
  }
  std::vector<std::unique_ptr<SimulatedProxy>> proxies;
  auto t_connect = Clock::now();
  for (int i = 0; i < streams; ++i) proxies.push_back(std::make_unique<SimulatedProxy>(stubs[static_cast<size_t>(i / per_channel)].get(), i));
  while (g_reached.load() < streams && Clock::now() - t_connect < std::chrono::seconds(120))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  double connect_s = std::chrono::duration<double>(Clock::now() - t_connect).count();
  std::printf("streams: %d connected and synced in %.2f s (%d received the first config)\n", streams,
              connect_s, g_reached.load());

  std::vector<int64_t> latencies_us;
  int incomplete = 0;
  for (int64_t gen = 1; gen <= changes; ++gen) {
    g_reached = 0;
    g_last_ns = 0;
    g_target_generation = gen;
    grpc::ClientContext ctx;
    v1::ApplyConfigRequest req;
    req.set_yaml(ConfigYaml(gen));
    v1::ApplyConfigResponse resp;
    auto s = admin->ApplyConfig(&ctx, req, &resp);
    int64_t applied = NowNs();
    if (!s.ok() || resp.errors_size() > 0) { std::fprintf(stderr, "apply failed\n"); return 1; }
    auto until = Clock::now() + std::chrono::seconds(30);
    bool fleet_synced = proxies_ready == 0;
    while ((g_reached.load() < streams || !fleet_synced) && Clock::now() < until) {
      if (!fleet_synced) {
        grpc::ClientContext lctx;
        v1::ListProxiesResponse list;
        admin->ListProxies(&lctx, {}, &list);
        int synced = 0;
        for (const auto& p : list.proxies())
          if (p.node().id().rfind("sim-", 0) != 0 && p.state() == v1::SYNCED &&
              p.config_version() == resp.version().id())
            ++synced;
        if (synced >= proxies_ready) {
          fleet_synced = true;
          int64_t now = NowNs();
          int64_t prev = g_last_ns.load();
          while (now > prev && !g_last_ns.compare_exchange_weak(prev, now)) {}
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (g_reached.load() < streams || !fleet_synced) { ++incomplete; continue; }
    latencies_us.push_back(std::max<int64_t>(0, (g_last_ns.load() - applied) / 1000));
  }
  if (latencies_us.empty()) { std::printf("no change converged\n"); return 1; }
  std::printf("changes: %d, converged: %zu, incomplete: %d\n", changes, latencies_us.size(), incomplete);
  std::printf("ApplyConfig returned -> last stream%s received: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              proxies_ready ? " / last real proxy SYNCED" : "", Percentile(latencies_us, 0.5) / 1000.0,
              Percentile(latencies_us, 0.99) / 1000.0, *std::max_element(latencies_us.begin(), latencies_us.end()) / 1000.0);
  std::fflush(stdout);
  for (auto& p : proxies) p->Cancel();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::_Exit(0);  // streams end with the process
}
