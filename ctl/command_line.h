// hermesctl's command line: global flags (anywhere), one command, its flags and arguments.
// Parsing never touches the network or the file system; the environment comes in as a value.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hermes::ctl {

enum class OutputFormat { kTable, kJson };

// The environment variables hermesctl reads, captured once (tests pass their own).
struct Environment {
  std::string server;  // HERMES_SERVER
  std::string token;   // HERMES_TOKEN
  std::string user;    // USER

  static Environment FromProcess();
};

struct GlobalOptions {
  std::string server = "localhost:9090";
  OutputFormat output = OutputFormat::kTable;
  std::string token_file;  // wins over `token` when set
  std::string token;       // from HERMES_TOKEN
  std::chrono::nanoseconds timeout = std::chrono::seconds(10);
  bool help = false;
  bool version = false;
};

struct ApplyArgs {
  std::string file;  // "-" = standard input
  std::string message;
  std::string author;
  bool dry_run = false;
};

struct GetConfigArgs {
  uint64_t version = 0;  // 0 = current
};

struct HistoryArgs {
  uint32_t limit = 0;  // 0 = the control plane's default
};

struct DiffArgs {
  uint64_t from = 0;
  uint64_t to = 0;
};

struct RollbackArgs {
  uint64_t version = 0;  // 0 = the version before the current one
  std::string author;
};

struct ProxiesArgs {};

struct StatusArgs {
  bool exit_status = false;  // exit 3 when degraded, 4 when unhealthy (or unknown)
};

// The longest --window: the control plane keeps an hour of pushed stats.
inline constexpr uint32_t kMaxWindowSeconds = 3600;

struct BackendsArgs {
  std::string cluster;          // empty = every cluster
  uint32_t window_seconds = 0;  // 0 = the control plane's default (1m)
};

struct StatsArgs {
  std::string proxy;            // empty = the whole fleet
  std::string cluster;          // empty = every cluster
  uint32_t window_seconds = 0;  // 0 = the totals since the stats began
};

struct CircuitsArgs {
  std::string cluster;  // empty = every cluster
};

struct HealthEventsArgs {
  std::string cluster;  // empty = every cluster
  uint32_t limit = 0;   // 0 = the control plane's default (50)
};

struct HelpArgs {
  std::string topic;  // a command name, or empty for the overview
};

// No command: only global flags were given (--help, --version).
using CommandArgs = std::variant<std::monostate, ApplyArgs, GetConfigArgs, HistoryArgs, DiffArgs,
                                 RollbackArgs, ProxiesArgs, StatusArgs, BackendsArgs, StatsArgs,
                                 CircuitsArgs, HealthEventsArgs, HelpArgs>;

struct Invocation {
  GlobalOptions global;
  std::string command;  // "apply", "get", ... ; empty when none was given
  CommandArgs args;
};

struct ParseResult {
  Invocation invocation;
  std::string error;  // non-empty: what was wrong (a usage error, exit code 2)
};

ParseResult ParseCommandLine(const std::vector<std::string>& args, const Environment& env);

// A version as written on the command line: "7" or "v7".
std::optional<uint64_t> ParseVersionNumber(std::string_view text);

// --window's value in whole seconds (30s, 5m, 1h), from 1s to kMaxWindowSeconds, or the usage
// error that says what was wrong with `text`.
struct WindowResult {
  uint32_t seconds = 0;
  std::string error;
};
WindowResult ParseWindow(std::string_view text);

}  // namespace hermes::ctl
