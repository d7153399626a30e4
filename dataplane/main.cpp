// hermes: the data-plane proxy. Parses flags and wires the server together.
#include <csignal>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>

#include "dataplane/discovery/discovery_client.h"
#include "dataplane/discovery/stats_reporter.h"
#include "dataplane/server/options.h"
#include "dataplane/server/server.h"
#include "hermes/common/bearer_token.h"
#include "hermes/common/clock.h"
#include "hermes/common/config.h"

namespace {

using namespace hermes;

// --listen and --admin-listen win over what the control plane pushes, so that several proxies
// can share one machine.
void ApplyOverrides(const dataplane::Options& opts, v1::Config& config) {
  if (!opts.listen.empty()) {
    if (config.listeners().empty()) config.add_listeners();
    while (config.listeners_size() > 1) config.mutable_listeners()->RemoveLast();
    config.mutable_listeners(0)->set_address(opts.listen);
  }
  if (!opts.admin_listen.empty()) config.mutable_admin()->set_address(opts.admin_listen);
}

int RunManaged(const dataplane::Options& opts, unsigned workers) {
  dataplane::DiscoveryClientOptions co;
  co.server = opts.control_plane;
  co.node.set_id(opts.node_id);
  co.node.set_group(opts.group);
  for (const auto& [k, v] : opts.labels) (*co.node.mutable_labels())[k] = v;
  co.node.set_build_version(HERMES_VERSION);
  co.cache_dir = opts.cache_dir;
  if (!opts.token_file.empty()) {
    Result<std::string> read = ReadTokenFile(opts.token_file);
    if (!read) {
      std::cerr << "hermes: --token-file: " << read.error() << "\n";
      return 1;
    }
    co.token = std::move(read).value();
  }

  dataplane::ServerOptions so;
  so.workers = workers;
  so.handle_signals = true;
  so.central_health = true;  // the control plane checks the backends
  dataplane::Server server(so);
  // What an update changed; the server applies defaults and validates it.
  auto apply = [&](dataplane::ConfigChanges changes, const discovery::UnhealthyEndpoints& unhealthy) {
    if (changes.listeners) ApplyOverrides(opts, *changes.listeners);
    std::vector<std::string> errors = server.Apply(std::move(changes), unhealthy);
    if (errors.empty()) spdlog::info("applied the update pushed by {}", opts.control_plane);
    return errors;
  };
  // hermesctl drain NODE: the control plane's command closes the listeners; progress goes back.
  dataplane::DrainHooks drain{[&server] { server.Drain(); }, [&server] { return server.drained(); },
                              [&server] { return server.ActiveConnections(); }};
  dataplane::DiscoveryClient client(co, apply, drain);

  // Serve the cached last good config at once; with none, listen with no routes (404) until
  // the control plane pushes one.
  std::string cache_error;
  std::optional<v1::Config> initial = client.LoadCache(&cache_error);
  if (!cache_error.empty()) spdlog::warn("{}", cache_error);
  if (initial) spdlog::info("serving the cached config from {} until the control plane answers", opts.cache_dir);
  v1::Config config = initial.value_or(v1::Config{});
  config::ApplyDefaults(config);
  // Before the first config, bind only what the command line names (not the default :8080).
  if (!initial && opts.listen.empty()) config.clear_listeners();
  ApplyOverrides(opts, config);
  auto errors = server.Start(config);
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << "hermes: " << e << "\n";
    return 1;
  }
  for (const auto& l : server.snapshot()->listeners)
    spdlog::info("listener {} on {} (port {})", l.name, l.address, server.ListenerPort(l.name));
  if (server.AdminPort()) spdlog::info("admin on port {}", server.AdminPort());
  spdlog::info("hermes {} managed by {} as node {}", HERMES_VERSION, opts.control_plane, opts.node_id);
  client.Start();

  // Traffic stats go to the same control plane, as the same node, with the same token.
  dataplane::StatsReporterOptions ro;
  ro.server = co.server;
  ro.node = co.node;
  ro.token = co.token;
  SystemClock wall_clock;
  dataplane::StatsReporter reporter(
      ro,
      [&server] {
        return dataplane::BuildStatsReport(server.stats(), server.snapshot().get(),
                                           std::chrono::steady_clock::now());
      },
      wall_clock);
  reporter.Start();

  server.Wait();
  // SIGTERM drained and stopped the workers; the server's counters are still here, so the final
  // report counts every request the drain let finish.
  reporter.Stop();
  client.Stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace hermes;
  const Result<dataplane::Options> parsed =
      dataplane::ParseOptions(std::vector<std::string>(argv + 1, argv + argc));
  if (!parsed) {
    std::cerr << "hermes: " << parsed.error() << "\n\n" << dataplane::UsageText();
    return 2;
  }
  const dataplane::Options& opts = *parsed;
  if (opts.show_help) {
    std::cout << dataplane::UsageText();
    return 0;
  }
  if (opts.show_version) {
    std::cout << "hermes " << HERMES_VERSION << "\n";
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(opts.log_level));
  std::signal(SIGPIPE, SIG_IGN);
  unsigned workers = opts.workers ? opts.workers : std::max(1u, std::thread::hardware_concurrency());
  if (!opts.control_plane.empty()) return RunManaged(opts, workers);

  config::DocumentLimits limits;
  if (opts.max_config_bytes) limits.max_bytes = *opts.max_config_bytes;
  auto loaded = config::LoadConfigFile(opts.config_path, limits);
  if (!loaded.ok()) {
    std::cerr << "hermes: " << opts.config_path << " is not valid (" << loaded.errors.size()
              << (loaded.errors.size() == 1 ? " error" : " errors") << "):\n";
    for (const auto& e : loaded.errors) std::cerr << "  " << e.ToString() << "\n";
    return 1;
  }
  if (opts.validate) {
    std::cout << opts.config_path << ": valid ("
              << (loaded.format == config::SourceFormat::kLegacy ? "original Hermes format" : "native format")
              << ")\n";
    return 0;
  }

  // SIGHUP, SIGTERM and SIGINT are handled by the server's control thread. A peer that closes
  // early must cost a write error, not the process.
  std::signal(SIGPIPE, SIG_IGN);

  dataplane::ServerOptions so;
  so.config_path = opts.config_path;
  so.config_limits = limits;
  so.workers = workers;
  so.handle_signals = true;
  dataplane::Server server(so);
  auto errors = server.Start(loaded.config);
  if (!errors.empty()) {
    for (const auto& e : errors) std::cerr << "hermes: " << e << "\n";
    return 1;
  }
  for (const auto& l : server.snapshot()->listeners)
    spdlog::info("listener {} on {} (port {})", l.name, l.address, server.ListenerPort(l.name));
  if (server.AdminPort()) spdlog::info("admin on port {}", server.AdminPort());
  spdlog::info("hermes {} serving with {} workers", HERMES_VERSION, so.workers);
  server.Wait();
  spdlog::info("stopped");
  return 0;
}
