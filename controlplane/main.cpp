// hermes-controlplane: config store (SQLite), discovery server and admin API. Parses flags and
// wires the pieces together.
#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
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
#include "hermes/common/daemon_flags.h"
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
  Flags opts;
  bool show_help = false;
  bool show_version = false;
  CLI::App app("hermes-controlplane");
  flags::Prepare(app);
  app.add_flag("-h,--help", show_help);
  app.add_flag("--version", show_version);
  app.add_option("--listen", opts.listen);
  app.add_option("--http-listen", opts.http_listen);
  app.add_option("--db", opts.db);
  app.add_option("--token-file", opts.token_file);
  app.add_option("--log-level", opts.log_level)->check(flags::LogLevel());
  app.add_option("--stats-interval", opts.stats_interval);
  app.add_option("--max-config-bytes", opts.max_config_bytes)
      ->check(
          flags::Count(1, kMaxConfigBytesCeiling,
                       "a number of bytes from 1 to " + std::to_string(kMaxConfigBytesCeiling)));
  if (auto parsed = flags::Parse(app, std::vector<std::string>(argv + 1, argv + argc)); !parsed) {
    std::cerr << "hermes-controlplane: " << parsed.error() << "\n\n" << kUsage;
    return 2;
  }
  if (show_help) {
    std::cout << kUsage;
    return 0;
  }
  if (show_version) {
    std::cout << "hermes-controlplane " << HERMES_VERSION << "\n";
    return 0;
  }
  // An empty --token-file must not mean "no token".
  for (const char* flag : {"--listen", "--http-listen", "--db", "--token-file"}) {
    if (app.count(flag) && app[flag]->as<std::string>().empty()) {
      std::cerr << "hermes-controlplane: " << flag << " needs a value\n\n" << kUsage;
      return 2;
    }
  }
  if (!ParseHostPort(opts.listen) && !(opts.listen.size() > 1 && opts.listen.front() == ':')) {
    std::cerr << "hermes-controlplane: --listen \"" << opts.listen << "\" is not host:port\n";
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(opts.log_level));
  std::chrono::milliseconds stats_interval;
  {
    auto d = ParseDuration(opts.stats_interval);
    if (!d || *d < std::chrono::seconds(1) || *d > std::chrono::minutes(5)) {
      std::cerr << "hermes-controlplane: --stats-interval \"" << opts.stats_interval
                << "\": " << (d ? "must be between 1s and 5m" : "not a duration such as 10s or 1m")
                << "\n";
      return 2;
    }
    stats_interval = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }

  config::DocumentLimits config_limits;
  if (!opts.max_config_bytes.empty()) config_limits.max_bytes = std::stoull(opts.max_config_bytes);

  std::string token;
  if (!opts.token_file.empty()) {
    Result<std::string> read = ReadTokenFile(opts.token_file);
    if (!read) {
      std::cerr << "hermes-controlplane: --token-file: " << read.error() << "\n";
      return 1;
    }
    token = std::move(read).value();
  }

  SystemClock clock;
  auto opened = controlplane::SqliteStores::Open(opts.db, clock);
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
        // Outside a rollout the fleet's config as it is (no copy of the whole config).
        const v1::Config merged = rollout ? controlplane::ConfigUnion(fleet, rollout) : v1::Config();
        const v1::Config& running = rollout ? merged : fleet;
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
  builder.AddListeningPort(GrpcAddress(opts.listen), grpc::InsecureServerCredentials(), &port);
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
    std::cerr << "hermes-controlplane: cannot listen on " << opts.listen << "\n";
    return 1;
  }
  controlplane::HttpListener web([&] { return controlplane::FleetMetrics(discovery, stores.versions, &health, &stats); });
  if (opts.http_listen != "off") {
    if (auto started = web.Start(opts.http_listen); !started) {
      std::cerr << "hermes-controlplane: " << started.error() << "\n";
      return 1;
    }
    spdlog::info("HTTP (/healthz, /metrics) on {} (port {})", opts.http_listen, web.port());
  }
  // One line tests and scripts wait for (port 0 picks a free port).
  std::cout << "listening on " << opts.listen << " (port " << port << ")" << std::endl;
  spdlog::info("hermes-controlplane {}: store {}, {}", HERMES_VERSION, opts.db,
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
  web.Stop();
  rollouts.Stop();
  health.Stop();
  return 0;
}
