// hermesctl's command line: global flags (anywhere), one command, its flags and arguments.
// Parsing never touches the network or the file system; the environment comes in as a value.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "hermes/common/config.h"

namespace hermes::ctl {

enum class OutputFormat { kTable, kJson, kYaml };

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

// --watch [--interval D] of status, proxies and rollout status.
struct WatchArgs {
  bool watch = false;
  std::chrono::milliseconds interval = std::chrono::seconds(2);
};

struct ApplyArgs {
  std::string file;  // "-" = standard input
  std::string message;
  std::string author;
  bool dry_run = false;
  bool stage = false;       // store only; `rollout start` sends it to proxies
  uint64_t if_version = 0;  // non-zero: refused unless the newest stored version is this one
  bool force = false;       // abort a rollout in progress first
  // FILE holds only the resources to add or replace in the fleet's version (by name).
  bool merge = false;
  std::vector<std::string> remove;  // with merge: "clusters/NAME", "routes/NAME", "listeners/NAME"
  // A bigger file is refused before it is sent; the control plane has the same default.
  uint64_t max_config_bytes = config::DocumentLimits::kDefaultMaxBytes;
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
  bool force = false;  // abort a rollout in progress first
};

struct ProxiesArgs {
  WatchArgs watch;
};

struct StatusArgs {
  bool exit_status = false;  // exit 3 when degraded, 4 when unhealthy (or unknown)
  WatchArgs watch;
};

// The most steps a rollout takes (`--steps`).
inline constexpr size_t kMaxRolloutSteps = 20;

struct RolloutStartArgs {
  uint64_t version = 0;
  std::map<std::string, std::string> selector;  // label = value; empty: every proxy
  std::vector<double> steps_percent;            // empty: the control plane's 10, 50, 100
  std::chrono::milliseconds interval{0};        // 0: the control plane's 30s
  std::optional<double> max_error_rate;         // 0..1; nullopt: the control plane's 1%
  bool auto_promote = false;
  std::string author;
};

enum class RolloutAction { kPromote, kPause, kResume, kAbort };

struct RolloutActionArgs {
  RolloutAction action = RolloutAction::kPromote;
  std::string reason;  // pause and abort
  std::string author;
};

struct RolloutStatusArgs {
  uint64_t id = 0;  // 0: the rollout in progress, else the last one
  WatchArgs watch;
};

struct RolloutListArgs {
  uint32_t limit = 0;  // 0 = the control plane's default (20)
};

struct DrainArgs {
  std::string node;
  bool wait = false;  // until DRAINED, the timeout, or the node disconnects
  std::chrono::milliseconds wait_timeout = std::chrono::minutes(5);
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

struct CompletionArgs {
  std::string shell;  // "bash"
};

struct HelpArgs {
  std::string topic;  // a command name ("rollout start"), or empty for the overview
};

// No command: only global flags were given (--help, --version).
using CommandArgs =
    std::variant<std::monostate, ApplyArgs, GetConfigArgs, HistoryArgs, DiffArgs, RollbackArgs,
                 ProxiesArgs, StatusArgs, BackendsArgs, StatsArgs, CircuitsArgs, HealthEventsArgs,
                 RolloutStartArgs, RolloutActionArgs, RolloutStatusArgs, RolloutListArgs, DrainArgs,
                 CompletionArgs, HelpArgs>;

struct Invocation {
  GlobalOptions global;
  std::string command;  // "apply", "rollout start", ... ; empty when none was given
  CommandArgs args;
};

struct ParseResult {
  Invocation invocation;
  std::string error;  // non-empty: what was wrong (a usage error, exit code 2)
};

ParseResult ParseCommandLine(const std::vector<std::string>& args, const Environment& env);

// Whether the command waits between calls (--watch, drain --wait), so Ctrl-C ends the wait.
bool Waits(const CommandArgs& args);

// A version as written on the command line: "7" or "v7".
std::optional<uint64_t> ParseVersionNumber(std::string_view text);

// --window's value in whole seconds (30s, 5m, 1h), from 1s to kMaxWindowSeconds, or the usage
// error that says what was wrong with `text`.
struct WindowResult {
  uint32_t seconds = 0;
  std::string error;
};
WindowResult ParseWindow(std::string_view text);

// --steps: "10%,50%,100%" (the % is optional) as percentages, strictly increasing, each above 0
// and at most 100, the last 100, at most kMaxRolloutSteps; or the usage error.
struct StepsResult {
  std::vector<double> percent;
  std::string error;
};
StepsResult ParseSteps(std::string_view text);

// --selector: "zone=b,group=edge"; or the usage error.
struct SelectorResult {
  std::map<std::string, std::string> labels;
  std::string error;
};
SelectorResult ParseSelector(std::string_view text);

// --max-error-rate: a percentage "1%" or "0.5%" from 0% to 100%, as a fraction 0..1; or the
// usage error.
struct RateResult {
  double fraction = 0;
  std::string error;
};
RateResult ParseErrorRate(std::string_view text);

}  // namespace hermes::ctl
