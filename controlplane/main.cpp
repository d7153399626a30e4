// hermes-controlplane: config store (SQLite), discovery server and admin API. Parses flags and
// wires the pieces together.
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <iostream>
#include <thread>

#include "controlplane/admin/admin_service.h"
#include "controlplane/discovery/discovery_server.h"
#include "controlplane/health/health_monitor.h"
#include "controlplane/rollout/config_union.h"
#include "controlplane/rollout/rollout_engine.h"
#include "controlplane/stats/stats_aggregator.h"
#include "controlplane/stats/stats_service.h"
#include "controlplane/store/sqlite_stores.h"
#include "controlplane/web/fleet_metrics.h"
#include "controlplane/web/http_listener.h"
#include "hermes/common/address.h"
#include "hermes/common/bearer_token.h"
#include "hermes/common/clock.h"
#include "hermes/common/config.h"
#include "hermes/common/duration.h"

namespace {

constexpr const char* kUsage =
    R"(usage: hermes-controlplane [--listen ADDR] [--http-listen ADDR] [--db FILE]
                          [--token-file FILE] [--stats-interval DURATION] [--log-level LEVEL]
                          [--max-config-bytes N]
       hermes-controlplane --version | --help

Stores config versions in an embedded SQLite file and streams them to every connected hermes
proxy (--control-plane); hermesctl drives it.

  --listen ADDR        gRPC for proxies and hermesctl (default 127.0.0.1:9090; ":9090" for all
                       interfaces; port 0 picks a free port, printed at start)
  --http-listen ADDR   HTTP: /healthz and /metrics (default 127.0.0.1:9091; "off" disables)
  --db FILE            the SQLite store (default ./hermes.db; created if absent)
  --token-file FILE    require this bearer token from proxies and hermesctl
  --stats-interval D   how often proxies push their stats (default 10s; 1s..5m)
  --log-level LEVEL    trace, debug, info, warn, error (default info)
  --max-config-bytes N refuse an applied YAML config over N bytes (default 4194304) with
                       INVALID_ARGUMENT, before parsing; while parsing, a config may also have
                       at most 200000 values, 64 levels of nesting, and no one value or
                       [...]/{...} collection over 256 KiB (see README, Config)
)";

struct Flags {
  std::string listen = "127.0.0.1:9090";
  std::string http_listen = "127.0.0.1:9091";
  std::string db = "./hermes.db";
  std::string token_file;
  std::string log_level = "info";
  std::string stats_interval = "10s";
  std::string max_config_bytes;
};

// A config of a gigabyte is a mistake, not a fleet.
constexpr uint64_t kMaxConfigBytesCeiling = 1024ull * 1024 * 1024;

// "host:port" for gRPC: ":9090" means every interface.
std::string GrpcAddress(const std::string& address) {
  if (!address.empty() && address.front() == ':') return "0.0.0.0" + address;
  return address;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hermes;
  // SIGTERM/SIGINT are taken by a sigwait thread; block them before gRPC starts its threads so
  // that none of those gets them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  Flags flags;
  std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--version") {
      std::cout << "hermes-controlplane " << HERMES_VERSION << "\n";
      return 0;
    }
    std::string value;
    if (auto eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[i + 1];
      if (a == "--listen" || a == "--http-listen" || a == "--db" || a == "--token-file" ||
          a == "--log-level" || a == "--stats-interval" || a == "--max-config-bytes")
        ++i;
    }
    if (a == "--listen") {
      flags.listen = value;
    } else if (a == "--http-listen") {
      flags.http_listen = value;
    } else if (a == "--db") {
      flags.db = value;
    } else if (a == "--token-file") {
      flags.token_file = value;
    } else if (a == "--log-level") {
      flags.log_level = value;
    } else if (a == "--stats-interval") {
      flags.stats_interval = value;
    } else if (a == "--max-config-bytes") {
      flags.max_config_bytes = value;
    } else {
      std::cerr << "hermes-controlplane: unknown argument \"" << args[i] << "\"\n\n" << kUsage;
      return 2;
    }
    if (value.empty()) {
      std::cerr << "hermes-controlplane: " << a << " needs a value\n\n" << kUsage;
      return 2;
    }
  }
  if (!ParseHostPort(flags.listen) && !(flags.listen.size() > 1 && flags.listen.front() == ':')) {
    std::cerr << "hermes-controlplane: --listen \"" << flags.listen << "\" is not host:port\n";
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  std::chrono::milliseconds stats_interval;
  {
    auto d = ParseDuration(flags.stats_interval);
    if (!d || *d < std::chrono::seconds(1) || *d > std::chrono::minutes(5)) {
      std::cerr << "hermes-controlplane: --stats-interval \"" << flags.stats_interval
                << "\": " << (d ? "must be between 1s and 5m" : "not a duration such as 10s or 1m")
                << "\n";
      return 2;
    }
    stats_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }

  config::DocumentLimits config_limits;
  if (!flags.max_config_bytes.empty()) {
    uint64_t n = 0;
    const std::string& v = flags.max_config_bytes;
    auto r = std::from_chars(v.data(), v.data() + v.size(), n);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || n == 0 ||
        n > kMaxConfigBytesCeiling) {
      std::cerr << "hermes-controlplane: --max-config-bytes \"" << v
                << "\" is not a number of bytes from 1 to " << kMaxConfigBytesCeiling << "\n";
      return 2;
    }
    config_limits.max_bytes = n;
  }

  std::string token;
  if (!flags.token_file.empty()) {
    TokenFileRead read = ReadTokenFile(flags.token_file);
    if (!read.error.empty()) {
      std::cerr << "hermes-controlplane: --token-file: " << read.error << "\n";
      return 1;
    }
    token = std::move(read.token);
  }

  SystemClock clock;
  auto opened = controlplane::SqliteStores::Open(flags.db, clock);
  if (!opened) {
    std::cerr << "hermes-controlplane: " << opened.error().message << "\n";
    return 1;
  }
  auto& stores = *opened.value();

  // Generated and stored on the first start; the same after restarts. Never logged.
  auto sticky_secret = stores.fleet.FleetStickySecret();
  if (!sticky_secret) {
    std::cerr << "hermes-controlplane: " << sticky_secret.error().message << "\n";
    return 1;
  }
  controlplane::DiscoveryServer discovery(&stores.fleet, clock, token, sticky_secret.value());
  controlplane::HealthMonitor health(&stores.health, clock, [&](discovery::UnhealthyEndpoints unhealthy) {
    discovery.PublishHealth(std::move(unhealthy));
  });
  controlplane::StatsAggregator stats(clock, stats_interval);
  if (auto loaded = stats.Load(stores.stats); !loaded) {
    std::cerr << "hermes-controlplane: " << loaded.error().message << "\n";
    return 1;
  }
  controlplane::StatsService stats_service(stats, &stores.stats, token, [](const controlplane::StoreError& error) {
    spdlog::error("stats: cannot store reports: {} (retrying)", error.message);
  });
  controlplane::RolloutEngine rollouts(
      stores.versions, stores.rollouts, discovery, clock,
      [&](std::chrono::seconds window, const std::set<std::string>& moved) {
        auto [step, rest] = stats.SplitCounts(window, moved);
        return std::make_pair(controlplane::rollout::Traffic{step.requests(), step.errors()},
                              controlplane::rollout::Traffic{rest.requests(), rest.errors()});
      },
      [&](const v1::Config& fleet, const v1::Config* rollout) {
        v1::Config running = controlplane::ConfigUnion(fleet, rollout);
        health.SetConfig(running);
        stats.SetRouteClusters(running);
      },
      stats_interval);
  controlplane::AdminService admin({stores.versions, stores.fleet, stores.rollouts, stores.health}, discovery,
                                   rollouts, token, clock.Now(), &health, &stats);
  admin.set_config_limits(config_limits);
  health.Start();  // the recorded verdicts first: an endpoint found down stays out of rotation
  if (auto restored = rollouts.Restore(); !restored) {
    std::cerr << "hermes-controlplane: " << restored.error().message << "\n";
    return 1;
  }
  discovery.PublishHealth(health.Unhealthy());
  rollouts.Run(std::chrono::milliseconds(250));
  const int64_t fleet_version = rollouts.fleet_version();

  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(GrpcAddress(flags.listen), grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&discovery);
  builder.RegisterService(&admin);
  builder.RegisterService(&stats_service);
  // A stats report is ~200 bytes per endpoint (~600 with long names): 16 MiB covers ~80,000
  // endpoints per proxy, where gRPC's default 4 MiB would refuse a large proxy's every report.
  // An ApplyConfig carries a config of up to --max-config-bytes and a few short fields.
  builder.SetMaxReceiveMessageSize(
      static_cast<int>(std::max<uint64_t>(16 * 1024 * 1024, config_limits.max_bytes + 64 * 1024)));
  // Proxies ping every 10 s to find a dead control plane; without these a server answers such
  // pings with GOAWAY (too_many_pings) and drops the streams.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::cerr << "hermes-controlplane: cannot listen on " << flags.listen << "\n";
    return 1;
  }
  controlplane::HttpListener web([&] { return controlplane::FleetMetrics(discovery, stores.versions, &health, &stats); });
  if (flags.http_listen != "off") {
    if (std::string err = web.Start(flags.http_listen); !err.empty()) {
      std::cerr << "hermes-controlplane: " << err << "\n";
      return 1;
    }
    spdlog::info("HTTP (/healthz, /metrics) on {} (port {})", flags.http_listen, web.port());
  }
  // One line tests and scripts wait for (port 0 picks a free port).
  std::cout << "listening on " << flags.listen << " (port " << port << ")" << std::endl;
  spdlog::info("hermes-controlplane {}: store {}, {}", HERMES_VERSION, flags.db,
               fleet_version ? "serving v" + std::to_string(fleet_version) : "no config yet");

  // SIGTERM/SIGINT: stop taking calls, end the streams, exit 0.
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&set, &sig);
    spdlog::info("signal {}: stopping", sig);
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  });
  server->Wait();
  waiter.join();
  rollouts.Stop();
  health.Stop();
  return 0;
}
