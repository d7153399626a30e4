// hermes: the data-plane proxy. Parses flags and wires the server together.
#include <csignal>
#include <iostream>
#include <thread>

#include <spdlog/spdlog.h>

#include "dataplane/options.h"
#include "dataplane/server.h"
#include "hermes/common/config.h"

int main(int argc, char** argv) {
  using namespace hermes;
  auto parsed = dataplane::ParseOptions(std::vector<std::string>(argv + 1, argv + argc));
  const auto& opts = parsed.options;
  if (!parsed.error.empty()) {
    std::cerr << "hermes: " << parsed.error << "\n\n" << dataplane::UsageText();
    return 2;
  }
  if (opts.show_help) {
    std::cout << dataplane::UsageText();
    return 0;
  }
  if (opts.show_version) {
    std::cout << "hermes " << HERMES_VERSION << "\n";
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(opts.log_level));

  auto loaded = config::LoadConfigFile(opts.config_path);
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
  so.workers = opts.workers ? opts.workers : std::max(1u, std::thread::hardware_concurrency());
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
