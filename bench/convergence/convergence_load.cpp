// Load tool for bench/convergence: opens N discovery streams to hermes-controlplane that behave
// like proxies (subscribe, ACK every response at once), then measures one of two things.
//
// Config changes (default): applies C configs through the admin API and reports how long each
// took to reach the last stream: from ApplyConfig returning to the last stream receiving it (and,
// with --proxies-ready, to the last real proxy reporting SYNCED), p50 and p99 over the changes.
//
// Health changes (--health-changes K): the config has a cluster "checked" whose one endpoint is
// an HTTP server inside this process, health-checked by the control plane every 100 ms. The
// server's GET /health answer flips K times between 200 and 503. Per change: detection = the
// newest health event's at_unix_ms (ListHealthEvents); reported are (last simulated stream
// received the ENDPOINTS response whose `healthy` map shows the change − detection) and (every
// real proxy's ENDPOINTS acked_version in ListProxies equals that response's version − detection).
//
// Rollouts (--rollouts R): R times, a staged version is rolled out to 10% of the streams
// (StartRollout, manual, a long interval) and then aborted. Reported: StartRollout called -> the
// last moved stream received the new version, and AbortRollout called -> the last of them
// received the fleet's version again.
//
//   convergence_load --server 127.0.0.1:9090 --streams 10000 --changes 100 [--per-channel 100]
//                    [--proxies-ready N]   (also wait for N real proxies to report SYNCED)
//                    [--health-changes K [--poll-ms 5] [--gap-ms 300] [--verbose 1]]
//                    [--rollouts R [--hold-ms H]]   (H: keep each rollout in progress that long)
#include <grpcpp/grpcpp.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "hermes/v1/admin.grpc.pb.h"
#include "hermes/v1/discovery.grpc.pb.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace hermes;
namespace asio = boost::asio;

std::atomic<int64_t> g_target_generation{-1};  // the change being measured
std::atomic<int> g_reached{0};                 // streams that received it
std::atomic<int64_t> g_last_ns{0};             // when the last of them received it
std::atomic<int> g_connected{0};

// The rollout mode's target: a stream counts once per epoch when it receives generation `gen`,
// whether that is newer or older than what it had (an abort sends the older one back).
std::atomic<int64_t> g_roll_gen{-1};
std::atomic<int> g_roll_epoch{0};
std::atomic<int> g_roll_reached{0};
std::atomic<int64_t> g_roll_last_ns{0};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

// Wall clock, the clock of the control plane's health events (same machine).
int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void StoreMax(std::atomic<int64_t>& a, int64_t v) {
  int64_t prev = a.load();
  while (v > prev && !a.compare_exchange_weak(prev, v)) {
  }
}

void StoreMin(std::atomic<int64_t>& a, int64_t v) {
  int64_t prev = a.load();
  while (v < prev && !a.compare_exchange_weak(prev, v)) {
  }
}

// The routes resource carries a route named "gen-<n>": each change bumps n.
int64_t GenerationOf(const v1::DiscoveryResponse& r) {
  if (r.type() != v1::ROUTES) return -1;
  for (const auto& res : r.resources())
    for (const auto& route : res.routes().routes())
      if (route.name().rfind("gen-", 0) == 0) return std::stoll(route.name().substr(4));
  return -1;
}

// The health change being measured, as the simulated streams see it. The main thread writes
// `down` before `index`, so a stream that reads the new index also reads its state.
struct HealthTarget {
  std::string address;            // of the checked endpoint; set before any stream opens
  std::atomic<int> index{0};      // the change (1..K); 0 = none yet
  std::atomic<bool> down{false};  // what the change is: the endpoint turns unhealthy
  std::atomic<int> reached{0};    // streams that received it
  std::atomic<int64_t> first_us{0};
  std::atomic<int64_t> last_us{0};
  std::mutex mu;
  std::string version;  // version_info of the first response that showed it

  void Begin(int change, bool is_down) {
    reached = 0;
    first_us = INT64_MAX;
    last_us = 0;
    {
      std::lock_guard lock(mu);
      version.clear();
    }
    down = is_down;
    index = change;
  }
  std::string Version() {
    std::lock_guard lock(mu);
    return version;
  }
};
HealthTarget g_health;

// Whether an ENDPOINTS response marks the checked endpoint down; nullopt when it does not carry
// the "checked" cluster.
std::optional<bool> CheckedEndpointDown(const v1::DiscoveryResponse& r) {
  if (r.type() != v1::ENDPOINTS || g_health.address.empty()) return std::nullopt;
  for (const auto& res : r.resources()) {
    if (res.name() != "checked") continue;
    const auto& healthy = res.endpoints().healthy();
    auto it = healthy.find(g_health.address);
    return it != healthy.end() && !it->second;
  }
  return std::nullopt;
}

class SimulatedProxy final
    : public grpc::ClientBidiReactor<v1::DiscoveryRequest, v1::DiscoveryResponse> {
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
    int64_t received_us = WallUs();
    if (!connected_) {
      connected_ = true;
      ++g_connected;
    }
    int64_t gen = GenerationOf(response_);
    if (gen >= 0 && gen != current_) {
      current_ = gen;
      int epoch = g_roll_epoch.load();
      if (gen == g_roll_gen.load() && epoch != roll_epoch_) {
        roll_epoch_ = epoch;
        StoreMax(g_roll_last_ns, NowNs());
        ++g_roll_reached;
      }
    }
    if (gen >= 0 && gen > seen_) {
      seen_ = gen;
      if (gen == g_target_generation.load()) {
        StoreMax(g_last_ns, NowNs());
        ++g_reached;
      }
    }
    if (auto down = CheckedEndpointDown(response_)) {
      int change = g_health.index.load();
      if (change > health_seen_ && *down == g_health.down.load()) {
        health_seen_ = change;
        {
          std::lock_guard lock(g_health.mu);
          if (g_health.version.empty()) g_health.version = response_.version_info();
        }
        StoreMin(g_health.first_us, received_us);
        StoreMax(g_health.last_us, received_us);
        ++g_health.reached;
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
  int64_t current_ = -1;  // the generation it runs now (goes back on an abort)
  int roll_epoch_ = 0;
  int health_seen_ = 0;  // the last health change this stream received
};

// The checked endpoint: answers every request (keep-alive) with 200, or 503 while `down`.
class HealthBackend {
 public:
  HealthBackend() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~HealthBackend() {
    io_.stop();
    thread_.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void SetDown(bool down) { down_ = down; }

 private:
  struct Connection : std::enable_shared_from_this<Connection> {
    Connection(asio::ip::tcp::socket s, const std::atomic<bool>& down)
        : socket(std::move(s)), down(down) {}
    void Read() {
      asio::async_read_until(socket, asio::dynamic_buffer(in), "\r\n\r\n",
                             [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                               if (ec) return;
                               self->in.erase(0, n);  // a GET has no body
                               self->Respond();
                             });
    }
    void Respond() {
      out = down.load() ? "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\ndown"
                        : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nup";
      asio::async_write(socket, asio::buffer(out),
                        [self = shared_from_this()](boost::system::error_code ec, size_t) {
                          if (!ec) self->Read();
                        });
    }
    asio::ip::tcp::socket socket;
    const std::atomic<bool>& down;
    std::string in, out;
  };

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket s) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) std::make_shared<Connection>(std::move(s), down_)->Read();
      Accept();
    });
  }

  asio::io_context io_{1};
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> down_{false};
  std::thread thread_;
};

// health_port 0: the config-change benchmark's config (no health check). Otherwise also the
// cluster "checked", probed every 100 ms, its verdict changing after one probe either way.
std::string ConfigYaml(int64_t generation, uint16_t health_port = 0) {
  std::string yaml =
      "listeners: [ { name: main, address: \"127.0.0.1:1\" } ]\nadmin: { address: off }\n"
      "clusters:\n  - { name: web, health_check: { enabled: false }, endpoints: [ { address: "
      "\"127.0.0.1:9\" } ] }\n";
  if (health_port != 0)
    yaml +=
        "  - { name: checked, endpoints: [ { address: \"127.0.0.1:" + std::to_string(health_port) +
        "\" } ],\n      health_check: { interval: 100ms, timeout: 100ms, unhealthy_threshold: 1,"
        " healthy_threshold: 1, path: /health } }\n";
  yaml += "routes:\n  - { name: gen-" + std::to_string(generation) +
          ", match: { path: /gen }, cluster: web }\n";
  if (health_port != 0)
    yaml += "  - { name: checked, match: { path: /checked }, cluster: checked }\n";
  yaml += "  - { name: all, cluster: web }\n";
  return yaml;
}

int64_t Percentile(std::vector<int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

void PrintDistribution(const char* what, const std::vector<int64_t>& us) {
  if (us.empty()) return;
  std::printf("%s: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", what, Percentile(us, 0.5) / 1000.0,
              Percentile(us, 0.99) / 1000.0, *std::max_element(us.begin(), us.end()) / 1000.0);
}

// CPU time (user + system) of this process so far.
int64_t CpuUs() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000000 + u.ru_utime.tv_usec +
         u.ru_stime.tv_usec;
}

bool IsReal(const v1::Proxy& p) { return p.node().id().rfind("sim-", 0) != 0; }

std::string AckedEndpoints(const v1::Proxy& p) {
  for (const auto& t : p.types())
    if (t.type() == v1::ENDPOINTS) return t.acked_version();
  return "";
}

struct HealthOptions {
  int changes = 0;
  int streams = 0;
  int proxies = 0;  // real proxies expected
  int poll_ms = 5;
  int gap_ms = 300;
  bool verbose = false;  // one line per change, with every poll
};

// The health mode (see the file comment). Streams are open and synced at the config of
// `version_id`, whose cluster "checked" points at `backend`.
int RunHealthChanges(v1::AdminService::Stub& admin, HealthBackend& backend, uint64_t version_id,
                     const HealthOptions& o) {
  // Every real proxy runs the config, and the endpoint has been probed healthy a few times.
  std::string acked_before;  // the real proxies' ENDPOINTS version before a change
  auto until = Clock::now() + std::chrono::seconds(120);
  for (int synced = -1; synced < o.proxies;) {
    if (Clock::now() > until) {
      std::fprintf(stderr, "only %d of %d real proxies SYNCED\n", synced, o.proxies);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    grpc::ClientContext ctx;
    v1::ListProxiesResponse list;
    if (!admin.ListProxies(&ctx, {}, &list).ok()) continue;
    synced = 0;
    for (const auto& p : list.proxies()) {
      if (!IsReal(p) || p.state() != v1::SYNCED || p.config_version() != version_id) continue;
      ++synced;
      acked_before = AckedEndpoints(p);
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  std::vector<int64_t> to_detect_us, to_first_us, to_last_us, to_acked_us, to_not_acked_us;
  int incomplete = 0, polls = 0;
  int64_t poll_us_total = 0;
  std::mt19937 random(42);
  int64_t cpu_before_us = CpuUs();
  for (int change = 1; change <= o.changes; ++change) {
    bool down = change % 2 == 1;
    g_health.Begin(change, down);
    int64_t toggled_us = WallUs();
    backend.SetDown(down);

    // Real proxies: poll ListProxies until each one's ENDPOINTS acked_version is the version the
    // streams received. Polling starts once a stream has it (the push has begun), so that the
    // polls do not load the control plane while it detects and pushes; without streams, from
    // the toggle, and the version is the one every real proxy agrees on that differs from before.
    int64_t acked_us = o.proxies == 0 ? 0 : -1;
    int64_t not_acked_us = 0;  // when the last poll that did not see them all was sent
    struct Poll {
      int64_t sent_us, answered_us;
      int acked;
    };
    std::vector<Poll> trace;
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while ((g_health.reached.load() < o.streams || acked_us < 0) && Clock::now() < deadline) {
      std::string version = g_health.Version();
      if (acked_us < 0 && (o.streams == 0 || !version.empty())) {
        int64_t sent_us = WallUs();
        grpc::ClientContext ctx;
        v1::ListProxiesResponse list;
        bool ok = admin.ListProxies(&ctx, {}, &list).ok();
        int64_t answered_us = WallUs();
        ++polls;
        poll_us_total += answered_us - sent_us;
        int real = 0, acked = 0;
        std::string common;
        for (const auto& p : list.proxies()) {
          if (!ok || !IsReal(p) || p.state() == v1::DISCONNECTED) continue;
          ++real;
          std::string v = AckedEndpoints(p);
          if (o.streams > 0 ? v == version
                            : (v != acked_before && (common.empty() || v == common))) {
            common = v;
            ++acked;
          }
        }
        trace.push_back({sent_us, answered_us, acked});
        if (ok && real >= o.proxies && acked == real) {
          acked_us = answered_us;
          acked_before = common;
        } else {
          not_acked_us = sent_us;
          std::this_thread::sleep_for(std::chrono::milliseconds(o.poll_ms));
        }
        continue;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }

    // Detection: the newest health event, once it is stored (after the push).
    int64_t detected_ms = -1;
    for (auto t = Clock::now(); detected_ms < 0 && Clock::now() - t < std::chrono::seconds(60);) {
      grpc::ClientContext ctx;
      v1::ListHealthEventsRequest req;
      req.set_limit(1);
      v1::ListHealthEventsResponse events;
      if (admin.ListHealthEvents(&ctx, req, &events).ok() && events.events_size() == 1 &&
          events.events(0).healthy() == !down &&
          events.events(0).at_unix_ms() >= toggled_us / 1000) {
        detected_ms = events.events(0).at_unix_ms();
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
    if (g_health.reached.load() < o.streams || acked_us < 0 || detected_ms < 0) {
      std::fprintf(stderr, "health change %d (%s): %d/%d streams, real proxies %s, event %s\n",
                   change, down ? "down" : "up", g_health.reached.load(), o.streams,
                   acked_us < 0 ? "not all ACKed" : "ACKed", detected_ms < 0 ? "missing" : "found");
      ++incomplete;
    } else {
      int64_t detected_us = detected_ms * 1000;
      if (o.verbose) {
        // Times relative to detection; a poll is [request..answer proxies-ACKed].
        std::printf("change %d %s: detected %+.1f ms after the flip", change, down ? "down" : "up",
                    (detected_us - toggled_us) / 1000.0);
        if (o.streams > 0)
          std::printf("; streams first %+.1f, last %+.1f",
                      (g_health.first_us.load() - detected_us) / 1000.0,
                      (g_health.last_us.load() - detected_us) / 1000.0);
        if (!trace.empty()) std::printf("; polls");
        for (const Poll& p : trace)
          std::printf(" [%+.1f..%+.1f %d]", (p.sent_us - detected_us) / 1000.0,
                      (p.answered_us - detected_us) / 1000.0, p.acked);
        std::printf("\n");
      }
      to_detect_us.push_back(std::max<int64_t>(0, detected_us - toggled_us));
      if (o.streams > 0) {
        to_first_us.push_back(std::max<int64_t>(0, g_health.first_us.load() - detected_us));
        to_last_us.push_back(std::max<int64_t>(0, g_health.last_us.load() - detected_us));
      }
      if (o.proxies > 0) {
        to_acked_us.push_back(std::max<int64_t>(0, acked_us - detected_us));
        to_not_acked_us.push_back(std::max<int64_t>(0, not_acked_us - detected_us));
      }
    }
    // The next flip after a pause, at a random point of the 100 ms probe cycle.
    std::this_thread::sleep_for(
        std::chrono::milliseconds(o.gap_ms) +
        std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 99)(random)));
  }

  int64_t cpu_per_change_us = (CpuUs() - cpu_before_us) / o.changes;
  grpc::ClientContext ctx;
  v1::ListHealthEventsRequest req;
  req.set_limit(10000);
  v1::ListHealthEventsResponse events;
  admin.ListHealthEvents(&ctx, req, &events);
  std::printf("health changes: %d, converged: %zu, incomplete: %d, health events stored: %d\n",
              o.changes, to_detect_us.size(), incomplete, events.events_size());
  if (to_detect_us.empty()) return 1;
  PrintDistribution("endpoint flipped -> detected (probe cycle)", to_detect_us);
  PrintDistribution("detected -> first simulated stream received", to_first_us);
  PrintDistribution("detected -> last simulated stream received", to_last_us);
  if (polls > 0)
    std::printf("ListProxies: %d polls, %.1f ms per call, every %d ms\n", polls,
                static_cast<double>(poll_us_total) / polls / 1000.0, o.poll_ms);
  PrintDistribution("detected -> every real proxy ACKed (answer of the first poll showing it)",
                    to_acked_us);
  PrintDistribution("  lower bound (request of the last poll not showing it; 0 = none)",
                    to_not_acked_us);
  std::printf("convergence_load itself: %.0f ms CPU per change\n",
              static_cast<double>(cpu_per_change_us) / 1000.0);
  return 0;
}

}  // namespace

template <class Call>
bool Admin(const char* what, Call call) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  grpc::Status s = call(ctx);
  if (!s.ok()) std::fprintf(stderr, "%s: %s\n", what, s.error_message().c_str());
  return s.ok();
}

// Waits for `want` streams to count in the current rollout epoch; the time the last did, or -1.
int64_t WaitRolloutReached(int want) {
  auto until = Clock::now() + std::chrono::seconds(60);
  while (g_roll_reached.load() < want && Clock::now() < until)
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  return g_roll_reached.load() >= want ? g_roll_last_ns.load() : -1;
}

// The rollout mode (see the file comment): the fleet runs generation 0.
int RunRollouts(v1::AdminService::Stub& admin, int rounds, int hold_ms) {
  std::vector<int64_t> start_us, abort_us, start_call_us, abort_call_us;
  for (int round = 1; round <= rounds; ++round) {
    const int64_t gen = 1000 + round;
    v1::ApplyConfigResponse staged;
    if (!Admin("stage", [&](grpc::ClientContext& c) {
          v1::ApplyConfigRequest req;
          req.set_yaml(ConfigYaml(gen));
          req.set_stage(true);
          return admin.ApplyConfig(&c, req, &staged);
        }))
      return 1;
    g_roll_reached = 0;
    g_roll_last_ns = 0;
    g_roll_gen = gen;
    ++g_roll_epoch;
    v1::RolloutResponse started;
    int64_t called = NowNs();
    if (!Admin("start rollout", [&](grpc::ClientContext& c) {
          v1::StartRolloutRequest req;
          req.set_version(staged.version().id());
          req.add_steps_percent(10);
          req.add_steps_percent(100);
          req.set_interval_ms(3600 * 1000);
          return admin.StartRollout(&c, req, &started);
        }))
      return 1;
    int64_t returned = NowNs();
    start_call_us.push_back((returned - called) / 1000);
    const int moved = started.rollout().moved_size();
    int64_t last = WaitRolloutReached(moved);
    if (last < 0) {
      std::fprintf(stderr, "round %d: %d of %d moved streams got the version\n", round,
                   g_roll_reached.load(), moved);
      return 1;
    }
    start_us.push_back(std::max<int64_t>(0, (last - called) / 1000));
    if (hold_ms > 0) {
      // The rollout in progress, nothing else happening: run.sh samples the control plane's CPU.
      std::printf("holding the rollout for %d ms\n", hold_ms);
      std::fflush(stdout);
      std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
    }

    g_roll_reached = 0;
    g_roll_last_ns = 0;
    g_roll_gen = 0;
    ++g_roll_epoch;
    called = NowNs();
    v1::RolloutResponse aborted;
    if (!Admin("abort rollout", [&](grpc::ClientContext& c) {
          v1::RolloutActionRequest req;
          req.set_reason("bench");
          return admin.AbortRollout(&c, req, &aborted);
        }))
      return 1;
    returned = NowNs();
    abort_call_us.push_back((returned - called) / 1000);
    last = WaitRolloutReached(moved);
    if (last < 0) {
      std::fprintf(stderr, "round %d: %d of %d streams went back\n", round, g_roll_reached.load(), moved);
      return 1;
    }
    abort_us.push_back(std::max<int64_t>(0, (last - called) / 1000));
    if (hold_ms > 0) {
      std::printf("holding with no rollout for %d ms\n", hold_ms);
      std::fflush(stdout);
      std::this_thread::sleep_for(std::chrono::milliseconds(hold_ms));
    }
    if (round == 1) std::printf("rollouts: %d moved streams each (10%%)\n", moved);
  }
  // From the call, not its reply: the control plane stores the rollout, then pushes, then answers.
  PrintDistribution("StartRollout called -> last moved stream received the version", start_us);
  PrintDistribution("AbortRollout called -> last moved stream received the fleet's version back", abort_us);
  PrintDistribution("StartRollout call (until its reply)", start_call_us);
  PrintDistribution("AbortRollout call (until its reply)", abort_call_us);
  return 0;
}

int main(int argc, char** argv) {
  std::string server = "127.0.0.1:9090";
  int streams = 1000, changes = 100, per_channel = 100, proxies_ready = 0, rollouts = 0, hold_ms = 0;
  HealthOptions health;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    int* number = a == "--streams"          ? &streams
                  : a == "--changes"        ? &changes
                  : a == "--per-channel"    ? &per_channel
                  : a == "--proxies-ready"  ? &proxies_ready
                  : a == "--health-changes" ? &health.changes
                  : a == "--poll-ms"        ? &health.poll_ms
                  : a == "--gap-ms"         ? &health.gap_ms
                  : a == "--rollouts"       ? &rollouts
                  : a == "--hold-ms"        ? &hold_ms
                                            : nullptr;
    if (number) {
      *number = std::stoi(v);
    } else if (a == "--server") {
      server = v;
    } else if (a == "--verbose") {
      health.verbose = v == "1";
    } else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  grpc::ChannelArguments admin_args;
  admin_args.SetMaxReceiveMessageSize(-1);  // ListProxies of 10,000 streams
  auto admin_channel =
      grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), admin_args);
  auto admin = v1::AdminService::NewStub(admin_channel);

  std::unique_ptr<HealthBackend> backend;
  if (health.changes > 0) {
    backend = std::make_unique<HealthBackend>();
    g_health.address = "127.0.0.1:" + std::to_string(backend->port());
  }
  uint16_t health_port = backend ? backend->port() : 0;

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
  uint64_t first_version = 0;
  {
    grpc::ClientContext ctx;
    v1::ApplyConfigRequest req;
    req.set_yaml(ConfigYaml(0, health_port));
    v1::ApplyConfigResponse resp;
    auto s = admin->ApplyConfig(&ctx, req, &resp);
    if (!s.ok()) {
      std::fprintf(stderr, "apply: %s\n", s.error_message().c_str());
      return 1;
    }
    if (resp.errors_size() > 0) {
      std::fprintf(stderr, "apply: %s: %s\n", resp.errors(0).path().c_str(),
                   resp.errors(0).message().c_str());
      return 1;
    }
    first_version = resp.version().id();
  }
  std::vector<std::unique_ptr<SimulatedProxy>> proxies;
  auto t_connect = Clock::now();
  for (int i = 0; i < streams; ++i)
    proxies.push_back(
        std::make_unique<SimulatedProxy>(stubs[static_cast<size_t>(i / per_channel)].get(), i));
  while (g_reached.load() < streams && Clock::now() - t_connect < std::chrono::seconds(120))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  double connect_s = std::chrono::duration<double>(Clock::now() - t_connect).count();
  std::printf("streams: %d connected and synced in %.2f s (%d received the first config)\n",
              streams, connect_s, g_reached.load());

  if (health.changes > 0) {
    health.streams = streams;
    health.proxies = proxies_ready;
    int rc = RunHealthChanges(*admin, *backend, first_version, health);
    std::fflush(stdout);
    for (auto& p : proxies) p->Cancel();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::_Exit(rc);
  }

  if (rollouts > 0) {
    int rc = RunRollouts(*admin, rollouts, hold_ms);
    std::fflush(stdout);
    for (auto& p : proxies) p->Cancel();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::_Exit(rc);
  }

  std::vector<int64_t> latencies_us, apply_us;
  int incomplete = 0;
  for (int64_t gen = 1; gen <= changes; ++gen) {
    g_reached = 0;
    g_last_ns = 0;
    g_target_generation = gen;
    grpc::ClientContext ctx;
    v1::ApplyConfigRequest req;
    req.set_yaml(ConfigYaml(gen));
    v1::ApplyConfigResponse resp;
    int64_t called = NowNs();
    auto s = admin->ApplyConfig(&ctx, req, &resp);
    int64_t applied = NowNs();
    apply_us.push_back((applied - called) / 1000);
    if (!s.ok() || resp.errors_size() > 0) {
      std::fprintf(stderr, "apply failed\n");
      return 1;
    }
    auto until = Clock::now() + std::chrono::seconds(30);
    bool fleet_synced = proxies_ready == 0;
    while ((g_reached.load() < streams || !fleet_synced) && Clock::now() < until) {
      if (!fleet_synced) {
        grpc::ClientContext lctx;
        v1::ListProxiesResponse list;
        admin->ListProxies(&lctx, {}, &list);
        int synced = 0;
        for (const auto& p : list.proxies())
          if (IsReal(p) && p.state() == v1::SYNCED && p.config_version() == resp.version().id())
            ++synced;
        if (synced >= proxies_ready) {
          fleet_synced = true;
          StoreMax(g_last_ns, NowNs());
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (g_reached.load() < streams || !fleet_synced) {
      ++incomplete;
      continue;
    }
    latencies_us.push_back(std::max<int64_t>(0, (g_last_ns.load() - applied) / 1000));
  }
  if (latencies_us.empty()) {
    std::printf("no change converged\n");
    return 1;
  }
  std::printf("changes: %d, converged: %zu, incomplete: %d\n", changes, latencies_us.size(),
              incomplete);
  std::printf(
      "ApplyConfig returned -> last stream%s received: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
      proxies_ready ? " / last real proxy SYNCED" : "", Percentile(latencies_us, 0.5) / 1000.0,
      Percentile(latencies_us, 0.99) / 1000.0,
      *std::max_element(latencies_us.begin(), latencies_us.end()) / 1000.0);
  // The control plane stores the version and pushes it to every stream before it answers.
  PrintDistribution("ApplyConfig call (store + push to every stream, before the reply)", apply_us);
  std::fflush(stdout);
  for (auto& p : proxies) p->Cancel();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::_Exit(0);  // streams end with the process
}
