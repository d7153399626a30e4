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
  help [COMMAND]    show help

Exit codes: 0 ok, 1 failed (unreachable, refused, not found), 2 usage error.

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
