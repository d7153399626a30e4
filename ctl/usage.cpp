#include "ctl/usage.h"

namespace hermes::ctl {
namespace {

constexpr std::string_view kGlobalFlags = R"(Global flags (anywhere on the command line):
  --server ADDR        control plane admin address (default $HERMES_SERVER, else localhost:9090)
  -o, --output FORMAT  table (default) or json
  --token-file FILE    bearer token file (default: the token in $HERMES_TOKEN)
  --timeout DURATION   deadline of each call (default 10s)
  -h, --help           this help; `hermesctl COMMAND --help` for a command's
  --version            print hermesctl's version
)";

constexpr std::string_view kOverview =
    R"(hermesctl: operate a Hermes fleet through its control plane.

Usage: hermesctl COMMAND [flags]

Commands:
  apply -f FILE     validate and store a config; the fleet picks it up
  get config        print a stored config as YAML
  history           list the stored config versions, newest first
  diff V1 V2        show what changed between two config versions
  rollback [V]      make an older config current again
  proxies           list the proxies and how far each is in sync
  status            the fleet's health in one word (healthy, degraded, unhealthy) and why
  backends          each backend's health, ejections and recent traffic
  stats             request counts, errors, rates and latency, per cluster, route and proxy
  circuits          each backend's circuit breaker across the proxies
  health-events     the backends' recent health changes, newest first
  help [COMMAND]    show help

Exit codes: 0 ok, 1 failed (unreachable, refused, not found), 2 usage error;
`status --exit-status` also exits 3 when degraded and 4 when unhealthy.

)";

constexpr std::string_view kApply =
    R"(Usage: hermesctl apply -f FILE [--message M] [--author A] [--dry-run]

Sends the YAML config in FILE (- for standard input) to the control plane, which parses,
defaults and validates it and stores it as a new version. Prints the new version, or
"unchanged: vN" when the content equals the current version. A refused config prints every
error as `location: path: message` and exits 1.

Flags:
  -f, --filename FILE  the config file (required)
  -m, --message M      why this change (stored with the version)
  --author A           who made it (default $USER)
  --dry-run            validate and show the diff against the current version; store nothing

Example:
  hermesctl apply -f fleet.yaml -m "raise api timeout to 5s"

)";

constexpr std::string_view kGet = R"(Usage: hermesctl get config [--version N]

Prints a stored config as YAML, after a comment header with its version, author and time.

Flags:
  --version N  the version to print (default: the current one)

Example:
  hermesctl get config --version 12 > fleet-v12.yaml

)";

constexpr std::string_view kHistory = R"(Usage: hermesctl history [--limit N]

Lists the stored config versions, newest first.

Flags:
  --limit N  how many versions (default 20)

Example:
  hermesctl history --limit 5

)";

constexpr std::string_view kDiff = R"(Usage: hermesctl diff V1 V2

Prints the unified diff from config version V1 to V2 (7 and v7 both name version 7).

Example:
  hermesctl diff 11 12

)";

constexpr std::string_view kRollback = R"(Usage: hermesctl rollback [VERSION] [--author A]

Stores a new version whose content is VERSION's (default: the version before the current
one) and makes it current. History is never rewritten.

Flags:
  --author A  who rolled back (default $USER)

Example:
  hermesctl rollback 11

)";

constexpr std::string_view kProxies = R"(Usage: hermesctl proxies

Lists the proxies the control plane knows: their node, group, stream address, sync state
(SYNCED, STALE, NACKED, DISCONNECTED), the config version they should run, the state of each
resource type (c: clusters, e: endpoints, r: routes, l: listeners), their last refusal and when
they were last heard from.

Example:
  hermesctl proxies -o json

)";

constexpr std::string_view kStatus = R"(Usage: hermesctl status [--exit-status]

Prints the fleet's health as the first line, one lowercase word: healthy (every proxy connected
and in sync, every checked backend healthy), degraded (some proxy stale, refusing or
disconnected, or some backend unhealthy) or unhealthy (no proxy connected, or a cluster without
a healthy backend). Then why, one reason a line; how many proxies are connected and in sync;
how many backends are healthy; the current config version; and the control plane's uptime.

A degraded or unhealthy fleet still exits 0: status is information. With --exit-status it
exits 3 when degraded and 4 when unhealthy, for scripts and probes.

Flags:
  --exit-status  exit 3 when degraded, 4 when unhealthy

Examples:
  hermesctl status
  hermesctl status --exit-status >/dev/null || echo "the fleet needs attention"

)";

constexpr std::string_view kBackends =
    R"(Usage: hermesctl backends [--cluster C] [--window DURATION]

Lists every backend (endpoint) of every cluster: its health as the control plane's own checks
see it (healthy, unhealthy, unknown = no verdict yet, unchecked = the cluster has no health
check), the reason and age of its last change, on how many of the proxies that report it
outlier detection ejects it (EJECTED 2/5), its active requests summed over the proxies, and
over the window its requests per second, error percentage (5xx and no response) and p99 latency.

Flags:
  --cluster C          only this cluster
  --window DURATION    the window of the rates, 1s to 1h (default 1m)

Examples:
  hermesctl backends
  hermesctl backends --cluster api --window 5m

)";

constexpr std::string_view kStats =
    R"(Usage: hermesctl stats [--proxy P] [--cluster C] [--window DURATION]

Prints request counts from the proxies' pushed stats: in total, per cluster, per route and per
proxy. Each row has requests, error percentage (5xx and no response over requests), responses
by status class, connect errors, timeouts and retries. With --window the counts are those of
the last DURATION and the rows add requests per second and p50/p99 latency; without it they are
the totals since the control plane's stats began.

Flags:
  --proxy P            only this proxy's counts (default: the whole fleet)
  --cluster C          only this cluster (its routes and the proxies that sent to it)
  --window DURATION    count the last DURATION only, 1s to 1h (30s, 5m, 1h)

Examples:
  hermesctl stats
  hermesctl stats --cluster api --window 5m

)";

constexpr std::string_view kCircuits = R"(Usage: hermesctl circuits [--cluster C]

Lists each backend's circuit breaker as the proxies report it: OPEN, HALF_OPEN or CLOSED and on
how many of the proxies that report the backend (OPEN on 2/5 proxies), and the proxies where it
is not closed.

Flags:
  --cluster C  only this cluster

Example:
  hermesctl circuits --cluster payments

)";

constexpr std::string_view kHealthEvents =
    R"(Usage: hermesctl health-events [--cluster C] [--limit N]

Lists the backends' health changes seen by the control plane's health checks, newest first:
when, which backend, its new health and why (e.g. "HTTP 503", "connect: Connection refused").

Flags:
  --cluster C  only this cluster
  --limit N    how many changes (default 50)

Example:
  hermesctl health-events --cluster api --limit 10

)";

constexpr std::string_view kHelp = R"(Usage: hermesctl help [COMMAND]

Shows the overview, or a command's help.

Example:
  hermesctl help apply

)";

std::string_view CommandPage(std::string_view command) {
  if (command == "apply") return kApply;
  if (command == "get") return kGet;
  if (command == "history") return kHistory;
  if (command == "diff") return kDiff;
  if (command == "rollback") return kRollback;
  if (command == "proxies") return kProxies;
  if (command == "status") return kStatus;
  if (command == "backends") return kBackends;
  if (command == "stats") return kStats;
  if (command == "circuits") return kCircuits;
  if (command == "health-events") return kHealthEvents;
  if (command == "help") return kHelp;
  return "";
}

}  // namespace

std::string HelpText(std::string_view command) {
  if (command.empty()) return std::string(kOverview) + std::string(kGlobalFlags);
  const std::string_view page = CommandPage(command);
  if (page.empty()) return "";
  return std::string(page) + std::string(kGlobalFlags);
}

std::string UsageErrorText(std::string_view error, std::string_view command) {
  std::string text = "hermesctl: " + std::string(error) + "\n\n";
  text += CommandPage(command).empty() ? HelpText("") : HelpText(command);
  return text;
}

std::string VersionText() { return "hermesctl " HERMES_VERSION "\n"; }

}  // namespace hermes::ctl
