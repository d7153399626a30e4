// hermes-test-upstream: the test upstream as a process, for the demo and benchmarks.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/system/system_error.hpp>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/support/test_upstream.h"

namespace {

using hermes::test::TestUpstream;
using hermes::test::TestUpstreamOptions;

constexpr std::string_view kUsage =
    "usage: hermes-test-upstream --listen HOST:PORT [--listen HOST:PORT ...] [--threads N]\n"
    "                            [--name NAME]\n"
    "\n"
    "Serves the Hermes test upstream until SIGTERM or SIGINT. Port 0 picks a free port; each\n"
    "listener prints \"listening on HOST:PORT\". IPv6 hosts go in brackets: [::1]:9001.\n"
    "  --listen HOST:PORT  address to serve on (repeatable, at least one)\n"
    "  --threads N         serving threads per listener (default 1)\n"
    "  --name NAME         sent as X-Upstream and in the default body (default \"upstream\")\n";

struct Listen {
  std::string host;
  uint16_t port = 0;
};

struct CommandLine {
  std::vector<Listen> listens;
  int threads = 1;
  std::string name = "upstream";
};

template <class Number>
bool ParseNumber(std::string_view text, Number& number) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, number);
  return !text.empty() && ec == std::errc() && ptr == end;
}

std::optional<Listen> ParseListen(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  Listen listen{std::string(host)};
  if (host.empty() || !ParseNumber(text.substr(colon + 1), listen.port)) return std::nullopt;
  return listen;
}

int UsageError(const std::string& problem) {
  std::cerr << "hermes-test-upstream: " << problem << "\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CommandLine command_line;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (flag != "--listen" && flag != "--threads" && flag != "--name") {
      return UsageError("unknown argument '" + std::string(flag) + "'");
    }
    if (i + 1 == argc) return UsageError(std::string(flag) + " needs a value");
    const std::string_view value = argv[++i];
    if (flag == "--listen") {
      const auto listen = ParseListen(value);
      if (!listen) return UsageError("--listen '" + std::string(value) + "' is not HOST:PORT");
      command_line.listens.push_back(*listen);
    } else if (flag == "--threads") {
      if (!ParseNumber(value, command_line.threads) || command_line.threads < 1) {
        return UsageError("--threads '" + std::string(value) + "' is not a positive number");
      }
    } else {
      command_line.name = value;
    }
  }
  if (command_line.listens.empty()) return UsageError("at least one --listen is required");

  // Registered before any serving thread exists so no thread takes the signal the default way.
  boost::asio::io_context signals_context;
  boost::asio::signal_set signals(signals_context, SIGINT, SIGTERM);
  signals.async_wait([](const boost::system::error_code&, int) {});

  std::vector<std::unique_ptr<TestUpstream>> upstreams;
  for (const Listen& listen : command_line.listens) {
    try {
      upstreams.push_back(std::make_unique<TestUpstream>(
          TestUpstreamOptions{listen.host, listen.port, command_line.threads, command_line.name}));
    } catch (const boost::system::system_error& error) {
      std::cerr << "hermes-test-upstream: cannot listen on " << listen.host << ":" << listen.port
                << ": " << error.code().message() << "\n";
      return 1;
    }
    std::cout << "listening on " << upstreams.back()->address() << std::endl;
  }
  signals_context.run();
  return 0;
}
