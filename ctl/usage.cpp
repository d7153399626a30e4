#include "ctl/usage.h"

#include <utility>

namespace hermes::ctl {
namespace {

constexpr std::string_view kGlobalFlags = R"(Global flags (anywhere on the command line):
  --server ADDR        control plane admin address (default $HERMES_SERVER, else localhost:9090)
  -o, --output FORMAT  table (default), json or yaml
  --token-file FILE    bearer token file (default: the token in $HERMES_TOKEN)
  --timeout DURATION   deadline of each call (default 10s)
  -h, --help           this help; `hermesctl COMMAND --help` for a command's
  --version            print hermesctl's version
)";

constexpr std::string_view kOverview =
    R"(hermesctl: operate a Hermes fleet through its control plane.

Usage: hermesctl COMMAND [flags]

Commands:
  apply -f FILE     validate and store a config; the fleet picks it up (or --stage it)
  get config        print a stored config as YAML
  history           list the stored config versions, newest first
  diff V1 V2        show what changed between two config versions
  rollback [V]      make an older config current again
  rollout SUBCOMMAND
                    move the fleet to a version step by step, canaries first:
                    start, promote, pause, resume, abort, status, list
  proxies           list the proxies, the version each runs and how far each is in sync
  drain NODE        stop a proxy taking new connections, e.g. before stopping it
  status            the fleet's health in one word (healthy, degraded, unhealthy) and why
  backends          each backend's health, ejections and recent traffic
  stats             request counts, errors, rates and latency, per cluster, route and proxy
  circuits          each backend's circuit breaker across the proxies
  health-events     the backends' recent health changes, newest first
  completion bash   print a bash completion script
  help [COMMAND]    show help

Exit codes: 0 ok, 1 failed (unreachable, refused, not found, conflict, a rollout aborted),
2 usage error; `status --exit-status` also exits 3 when degraded and 4 when unhealthy.

)";

constexpr std::string_view kApply =
    R"(Usage: hermesctl apply -f FILE [--message M] [--author A] [--dry-run] [--stage]
                       [--if-version N] [--force] [--max-config-bytes N]
       hermesctl apply --merge [-f FILE] [--remove TYPE/NAME,...] [the flags above]

Sends the YAML config in FILE (- for standard input) to the control plane, which parses,
defaults and validates it and stores it as a new version, and sends it to every proxy. Prints
the new version, or "unchanged: vN" when the content equals the current version. A refused
config prints every error as `location: path: message` and exits 1.

--stage stores the version without sending it to any proxy: the fleet keeps its version until
`hermesctl rollout start N` moves it there step by step. While a rollout is in progress a
fleet-wide apply is refused; --force aborts the rollout first (its proxies go back) and says so.
--if-version N applies only when N is still the newest stored version (check-and-set): when
someone stored another one since, nothing is stored and hermesctl exits 1 with "version
conflict".

--merge changes a few resources of the fleet's version instead of sending all of it: FILE (native
format) holds only listeners, routes and clusters, each with its name. Each replaces the whole
entry of that name (fields it leaves out take their defaults), keeping its place, or is added
after the others; a new route that a catch-all before it would shadow is refused (apply the
whole config to place it). --remove takes resources out. Everything else stays as the fleet's
version has it; the result is validated whole and stored as a new version, and the diff shows
only what the merge touched. Refused while a staged version or a rollout's target is newer than
the fleet's version. Only FILE is parsed and diffed, so a merge stays fast on a large config.

Flags:
  -f, --filename FILE  the config file (required, but with --merge --remove)
  -m, --message M      why this change (stored with the version)
  --author A           who made it (default $USER)
  --dry-run            validate and show the diff against the current version; store nothing
  --stage              store it only; roll it out later with `hermesctl rollout start`
  --if-version N       only if the newest stored version is N (7 or v7)
  --force              abort a rollout in progress first
  --merge              FILE adds or replaces resources by name; the rest stays
  --remove TYPE/NAME   with --merge: take clusters/NAME, routes/NAME or listeners/NAME out
                       (comma-separated for several)
  --max-config-bytes N refuse FILE over N bytes before sending it (default 4194304, the
                       control plane's default --max-config-bytes)

Examples:
  hermesctl apply -f fleet.yaml -m "raise api timeout to 5s"
  hermesctl apply -f fleet.yaml --dry-run
  hermesctl apply -f fleet.yaml --stage -m "new payments cluster"
  hermesctl apply --merge -f payments.yaml --remove clusters/legacy -m "payments replace legacy"

)";

constexpr std::string_view kGet = R"(Usage: hermesctl get config [--version N]

Prints a stored config as YAML, after a comment header with its version, author and time.

Flags:
  --version N  the version to print (default: the fleet's current one)

Examples:
  hermesctl get config
  hermesctl get config --version 12 > fleet-v12.yaml

)";

constexpr std::string_view kHistory = R"(Usage: hermesctl history [--limit N]

Lists the stored config versions, newest first.

Flags:
  --limit N  how many versions (default 20)

Examples:
  hermesctl history
  hermesctl history --limit 5 -o json

)";

constexpr std::string_view kDiff = R"(Usage: hermesctl diff V1 V2

Prints the unified diff from config version V1 to V2 (7 and v7 both name version 7).

Examples:
  hermesctl diff 11 12
  hermesctl diff v11 v13 -o json

)";

constexpr std::string_view kRollback = R"(Usage: hermesctl rollback [VERSION] [--author A] [--force]

Stores a new version whose content is VERSION's (default: the version the fleet ran before its
current one) and sends it to every proxy. History is never rewritten. While a rollout is in
progress a rollback is refused; --force aborts the rollout first.

Flags:
  --author A  who rolled back (default $USER)
  --force     abort a rollout in progress first

Examples:
  hermesctl rollback
  hermesctl rollback 11
  hermesctl rollback v11 --force

)";

constexpr std::string_view kRollout = R"(Usage: hermesctl rollout SUBCOMMAND [flags]

Moves the proxies to a stored version step by step, canaries first, and aborts on its own when
a moved proxy refuses the version or the moved proxies' error rate rises. Only one rollout runs
at a time.

Subcommands:
  start VERSION   start a rollout (stage the version first: apply --stage)
  promote         move on to the next step once the step's gate passed
  pause           hold the rollout: nothing moves and no gate aborts it
  resume          go on after a pause
  abort           send every moved proxy back to the previous version
  status [ID]     the rollout in progress (or the last one): its step, gate and proxies
  list            the rollouts on record, newest first

A step moves a share of the selected proxies (10%, then 50%, then 100% by default). After the
step's interval its gate checks that every moved proxy ACKed the version, none NACKed it, and
their error rate is at most --max-error-rate and at most twice the rest of the fleet's. A passed
gate waits for `rollout promote` (or, with --auto, promotes by itself); a failed one aborts.

Examples:
  hermesctl rollout start 13 --steps 10%,50%,100% --interval 2m
  hermesctl rollout status --watch
  hermesctl rollout promote
  hermesctl rollout abort --reason "p99 up on the canaries"

)";

constexpr std::string_view kRolloutStart =
    R"(Usage: hermesctl rollout start VERSION [--selector k=v,...] [--steps 10%,50%,100%]
                               [--interval DURATION] [--max-error-rate PERCENT] [--auto]
                               [--author A]

Starts a rollout of the stored VERSION (13 or v13) to the proxies the selector picks. Proxies
are moved in a fixed order (by node id), so the first step's proxies are the canaries.

Flags:
  --selector k=v,...         only proxies with these labels (group=NAME: the node's group)
                             (default: every proxy)
  --steps P1,P2,...          shares of the selected proxies moved by each step, in percent
                             (% optional), strictly increasing, the last 100%, at most 20
                             (default 10%,50%,100%)
  --interval DURATION        how long each step runs before its gate, at least 1s (default 30s)
  --max-error-rate PERCENT   the highest error rate (5xx and no response) the moved proxies
                             may have, 0% to 100%, e.g. 1% or 0.5% (default 1%)
  --auto                     promote by itself whenever a gate passes
  --author A                 who started it (default $USER)

Examples:
  hermesctl rollout start 13
  hermesctl rollout start v13 --selector zone=b --steps 25,100 --interval 5m
  hermesctl rollout start 13 --max-error-rate 0.5% --auto
  hermesctl apply -f fleet.yaml --stage && hermesctl rollout start 13

)";

constexpr std::string_view kRolloutPromote = R"(Usage: hermesctl rollout promote [--author A]

Moves the rollout in progress on to its next step once the current step's gate passed (state
"waiting"). Promoting the last step completes the rollout: the version becomes the fleet's.

Flags:
  --author A  who promoted it (default $USER)

Examples:
  hermesctl rollout promote
  hermesctl rollout promote && hermesctl rollout status --watch

)";

constexpr std::string_view kRolloutPause =
    R"(Usage: hermesctl rollout pause [--reason R] [--author A]

Holds the rollout in progress: no proxy moves and no gate aborts it until `rollout resume`. The
moved proxies keep the new version.

Flags:
  --reason R  why (recorded with the rollout)
  --author A  who paused it (default $USER)

Examples:
  hermesctl rollout pause
  hermesctl rollout pause --reason "waiting for the payments team"

)";

constexpr std::string_view kRolloutResume = R"(Usage: hermesctl rollout resume [--author A]

Goes on with a paused rollout from the step it was paused at.

Flags:
  --author A  who resumed it (default $USER)

Examples:
  hermesctl rollout resume
  hermesctl rollout resume --author ana

)";

constexpr std::string_view kRolloutAbort =
    R"(Usage: hermesctl rollout abort [--reason R] [--author A]

Aborts the rollout in progress: every moved proxy goes back to the previous version.

Flags:
  --reason R  why (recorded with the rollout)
  --author A  who aborted it (default $USER)

Examples:
  hermesctl rollout abort
  hermesctl rollout abort --reason "errors on the canaries"

)";

constexpr std::string_view kRolloutStatus =
    R"(Usage: hermesctl rollout status [ID] [--watch] [--interval DURATION]

Shows a rollout (default: the one in progress, else the last one; ID is 3 or #3): its version
and the previous one, its state (running, waiting for promote, paused, completed, aborted), the
step and how many of the selected proxies it moved, its settings, the last gate's verdict with
the moved proxies' error rate against the rest of the fleet's, and each selected proxy's target
and running version, canaries first.

With --watch it shows it again every interval until Ctrl-C (exit 0), and ends by itself when
the rollout completes (exit 0) or aborts (exit 1, with the reason). Without --watch it exits 0
whatever the state.

Flags:
  -w, --watch          show it again every interval
  --interval DURATION  how often with --watch, at least 1s (default 2s)

Examples:
  hermesctl rollout status
  hermesctl rollout status --watch
  hermesctl rollout status 3 -o json

)";

constexpr std::string_view kRolloutList = R"(Usage: hermesctl rollout list [--limit N]

Lists the rollouts on record, newest first: version, previous version, state, step, selector,
author, start and reason.

Flags:
  --limit N  how many rollouts (default 20)

Examples:
  hermesctl rollout list
  hermesctl rollout list --limit 5 -o yaml

)";

constexpr std::string_view kProxies = R"(Usage: hermesctl proxies [--watch] [--interval DURATION]

Lists the proxies the control plane knows: their node, group, stream address, sync state
(SYNCED, STALE, NACKED, DISCONNECTED), the config version they should run (TARGET, marked *
when a rollout moved the proxy to it) and the one they ACKed completely (RUNNING), whether they
drain (draining with the connections still open, or drained), the state of each resource type
(c: clusters, e: endpoints, r: routes, l: listeners), their last refusal and when they were
last heard from.

Flags:
  -w, --watch          show the list again every interval until Ctrl-C
  --interval DURATION  how often with --watch, at least 1s (default 2s)

Examples:
  hermesctl proxies
  hermesctl proxies --watch --interval 5s
  hermesctl proxies -o json

)";

constexpr std::string_view kDrain =
    R"(Usage: hermesctl drain NODE [--wait] [--wait-timeout DURATION]

Tells the connected proxy NODE to stop taking new connections and finish those open, and prints
how many are open. With --wait it then asks the control plane every 500ms until the proxy has
drained (exit 0: safe to stop it), the timeout passes, or the proxy disconnects (exit 1).

Flags:
  --wait                   wait until the proxy has drained
  --wait-timeout DURATION  how long --wait waits (default 5m)

Examples:
  hermesctl drain edge-3
  hermesctl drain edge-3 --wait && systemctl stop hermes
  hermesctl drain edge-3 --wait --wait-timeout 10m

)";

constexpr std::string_view kStatus =
    R"(Usage: hermesctl status [--exit-status] [--watch] [--interval DURATION]

Prints the fleet's health as the first line, one lowercase word: healthy (every proxy connected
and in sync, every checked backend healthy), degraded (some proxy stale, refusing or
disconnected, or some backend unhealthy) or unhealthy (no proxy connected, or a cluster without
a healthy backend). Then why, one reason a line; how many proxies are connected and in sync;
how many backends are healthy; the fleet's config version (and the newest stored one when it
is newer); the rollout in progress; which versions the proxies run; and the control plane's
uptime.

A degraded or unhealthy fleet still exits 0: status is information. With --exit-status it
exits 3 when degraded and 4 when unhealthy, for scripts and probes.

Flags:
  --exit-status        exit 3 when degraded, 4 when unhealthy (not with --watch)
  -w, --watch          show it again every interval until Ctrl-C
  --interval DURATION  how often with --watch, at least 1s (default 2s)

Examples:
  hermesctl status
  hermesctl status --exit-status >/dev/null || echo "the fleet needs attention"
  hermesctl status --watch -o json

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
  hermesctl stats --proxy edge-1 -o json

)";

constexpr std::string_view kCircuits = R"(Usage: hermesctl circuits [--cluster C]

Lists each backend's circuit breaker as the proxies report it: OPEN, HALF_OPEN or CLOSED and on
how many of the proxies that report the backend (OPEN on 2/5 proxies), and the proxies where it
is not closed.

Flags:
  --cluster C  only this cluster

Examples:
  hermesctl circuits
  hermesctl circuits --cluster payments

)";

constexpr std::string_view kHealthEvents =
    R"(Usage: hermesctl health-events [--cluster C] [--limit N]

Lists the backends' health changes seen by the control plane's health checks, newest first:
when, which backend, its new health and why (e.g. "HTTP 503", "connect: Connection refused").

Flags:
  --cluster C  only this cluster
  --limit N    how many changes (default 50)

Examples:
  hermesctl health-events
  hermesctl health-events --cluster api --limit 10

)";

constexpr std::string_view kCompletion = R"(Usage: hermesctl completion bash

Prints a bash completion script for hermesctl's commands, subcommands, flags and -o formats
(and files after -f and --token-file).

Examples:
  hermesctl completion bash > /etc/bash_completion.d/hermesctl
  source <(hermesctl completion bash)

)";

constexpr std::string_view kHelp = R"(Usage: hermesctl help [COMMAND]

Shows the overview, or a command's help.

Examples:
  hermesctl help apply
  hermesctl help rollout start

)";

constexpr std::pair<std::string_view, std::string_view> kPages[] = {
    {"apply", kApply},
    {"get", kGet},
    {"history", kHistory},
    {"diff", kDiff},
    {"rollback", kRollback},
    {"rollout", kRollout},
    {"rollout start", kRolloutStart},
    {"rollout promote", kRolloutPromote},
    {"rollout pause", kRolloutPause},
    {"rollout resume", kRolloutResume},
    {"rollout abort", kRolloutAbort},
    {"rollout status", kRolloutStatus},
    {"rollout list", kRolloutList},
    {"proxies", kProxies},
    {"drain", kDrain},
    {"status", kStatus},
    {"backends", kBackends},
    {"stats", kStats},
    {"circuits", kCircuits},
    {"health-events", kHealthEvents},
    {"completion", kCompletion},
    {"help", kHelp},
};

std::string_view CommandPage(std::string_view command) {
  for (const auto& [name, page] : kPages) {
    if (name == command) return page;
  }
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
