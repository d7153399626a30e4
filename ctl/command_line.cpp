// Flags are matched against the command's own flags first, then the global ones, so a command
// may reuse a global name (`get config --version 3` vs `hermesctl --version`).
#include "ctl/command_line.h"

#include <charconv>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>

#include "hermes/common/duration.h"

namespace hermes::ctl {
namespace {

struct FlagSpec {
  std::string_view name;        // "--filename"
  std::string_view short_name;  // "-f" or empty
  bool takes_value;
};

constexpr FlagSpec kGlobalFlags[] = {
    {"--server", "", true},  {"--output", "-o", true}, {"--token-file", "", true},
    {"--timeout", "", true}, {"--help", "-h", false},  {"--version", "", false},
};
constexpr FlagSpec kApplyFlags[] = {
    {"--filename", "-f", true},
    {"--message", "-m", true},
    {"--author", "", true},
    {"--dry-run", "", false},
};
constexpr FlagSpec kGetFlags[] = {{"--version", "", true}};
constexpr FlagSpec kHistoryFlags[] = {{"--limit", "", true}};
constexpr FlagSpec kRollbackFlags[] = {{"--author", "", true}};
constexpr FlagSpec kStatusFlags[] = {{"--exit-status", "", false}};
constexpr FlagSpec kBackendsFlags[] = {{"--cluster", "", true}, {"--window", "", true}};
constexpr FlagSpec kStatsFlags[] = {
    {"--proxy", "", true}, {"--cluster", "", true}, {"--window", "", true}};
constexpr FlagSpec kCircuitsFlags[] = {{"--cluster", "", true}};
constexpr FlagSpec kHealthEventsFlags[] = {{"--cluster", "", true}, {"--limit", "", true}};

struct CommandSpec {
  std::string_view name;
  std::vector<FlagSpec> flags;
};

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> commands = {
      {"apply", {std::begin(kApplyFlags), std::end(kApplyFlags)}},
      {"get", {std::begin(kGetFlags), std::end(kGetFlags)}},
      {"history", {std::begin(kHistoryFlags), std::end(kHistoryFlags)}},
      {"diff", {}},
      {"rollback", {std::begin(kRollbackFlags), std::end(kRollbackFlags)}},
      {"proxies", {}},
      {"status", {std::begin(kStatusFlags), std::end(kStatusFlags)}},
      {"backends", {std::begin(kBackendsFlags), std::end(kBackendsFlags)}},
      {"stats", {std::begin(kStatsFlags), std::end(kStatsFlags)}},
      {"circuits", {std::begin(kCircuitsFlags), std::end(kCircuitsFlags)}},
      {"health-events", {std::begin(kHealthEventsFlags), std::end(kHealthEventsFlags)}},
      {"help", {}},
  };
  return commands;
}

const CommandSpec* FindCommand(std::string_view name) {
  for (const auto& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

template <typename Flags>
const FlagSpec* FindFlag(const Flags& flags, std::string_view name) {
  for (const auto& f : flags) {
    if (f.name == name || (!f.short_name.empty() && f.short_name == name)) return &f;
  }
  return nullptr;
}

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string Or(std::string_view value, std::string_view fallback) {
  return std::string(value.empty() ? fallback : value);
}

// Command flags as given: canonical name -> value ("" for a boolean flag that is set).
using FlagValues = std::map<std::string_view, std::string>;

std::string ApplyGlobalFlag(std::string_view name, const std::string& value, GlobalOptions& g) {
  if (name == "--server") {
    g.server = value;
  } else if (name == "--output") {
    if (value == "table") {
      g.output = OutputFormat::kTable;
    } else if (value == "json") {
      g.output = OutputFormat::kJson;
    } else {
      return "-o wants table or json, got " + Quoted(value);
    }
  } else if (name == "--token-file") {
    g.token_file = value;
  } else if (name == "--timeout") {
    const auto d = ParseDuration(value);
    if (!d || d->count() <= 0) {
      return "--timeout wants a duration above zero like 10s or 500ms, got " + Quoted(value);
    }
    g.timeout = *d;
  } else if (name == "--help") {
    g.help = true;
  } else if (name == "--version") {
    g.version = true;
  }
  return "";
}

std::string WrongArgumentCount(std::string_view command, std::string_view wanted,
                               const std::vector<std::string>& got) {
  std::string error = std::string(command) + " takes " + std::string(wanted) + ", got " +
                      std::to_string(got.size());
  if (!got.empty()) {
    error += ":";
    for (const auto& a : got) error += " " + Quoted(a);
  }
  return error;
}

std::string NotAVersion(std::string_view what, std::string_view text) {
  return std::string(what) + " wants a version number like 7 or v7, got " + Quoted(text);
}

// A command's arguments, or the usage error that stopped them.
struct BuiltArgs {
  CommandArgs args;
  std::string error;
};

BuiltArgs Usage(std::string error) { return BuiltArgs{std::monostate{}, std::move(error)}; }

struct CommandInput {
  const FlagValues& flags;
  const std::vector<std::string>& positionals;
  const Environment& env;

  const std::string* Flag(std::string_view name) const {
    const auto it = flags.find(name);
    return it == flags.end() ? nullptr : &it->second;
  }
  std::string Author() const {
    const std::string* a = Flag("--author");
    return a ? *a : Or(env.user, "unknown");
  }
};

BuiltArgs BuildApply(const CommandInput& in) {
  if (!in.positionals.empty())
    return Usage(WrongArgumentCount("apply", "no arguments", in.positionals));
  ApplyArgs a;
  if (const auto* f = in.Flag("--filename")) a.file = *f;
  if (a.file.empty()) return Usage("apply needs the config file: -f FILE");
  if (const auto* m = in.Flag("--message")) a.message = *m;
  a.author = in.Author();
  a.dry_run = in.Flag("--dry-run") != nullptr;
  return {a, ""};
}

BuiltArgs BuildGet(const CommandInput& in) {
  if (in.positionals.size() != 1) {
    return Usage(WrongArgumentCount("get", "one argument (the resource: config)", in.positionals));
  }
  if (in.positionals[0] != "config") {
    return Usage("get knows one resource, config; got " + Quoted(in.positionals[0]));
  }
  GetConfigArgs a;
  if (const auto* v = in.Flag("--version")) {
    const auto version = ParseVersionNumber(*v);
    if (!version) return Usage(NotAVersion("--version", *v));
    a.version = *version;
  }
  return {a, ""};
}

// --limit's count above zero.
std::optional<uint32_t> ParseLimit(const std::string& text) {
  uint32_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n == 0) return std::nullopt;
  return n;
}

std::string BadLimit(const std::string& text) {
  return "--limit wants a count above zero, got " + Quoted(text);
}

BuiltArgs BuildHistory(const CommandInput& in) {
  if (!in.positionals.empty())
    return Usage(WrongArgumentCount("history", "no arguments", in.positionals));
  HistoryArgs a;
  if (const auto* l = in.Flag("--limit")) {
    const auto n = ParseLimit(*l);
    if (!n) return Usage(BadLimit(*l));
    a.limit = *n;
  }
  return {a, ""};
}

BuiltArgs BuildDiff(const CommandInput& in) {
  if (in.positionals.size() != 2) {
    return Usage(WrongArgumentCount("diff", "two versions (FROM TO)", in.positionals));
  }
  const auto from = ParseVersionNumber(in.positionals[0]);
  if (!from) return Usage(NotAVersion("diff", in.positionals[0]));
  const auto to = ParseVersionNumber(in.positionals[1]);
  if (!to) return Usage(NotAVersion("diff", in.positionals[1]));
  return {DiffArgs{*from, *to}, ""};
}

BuiltArgs BuildRollback(const CommandInput& in) {
  if (in.positionals.size() > 1) {
    return Usage(WrongArgumentCount("rollback", "at most one version", in.positionals));
  }
  RollbackArgs a;
  if (in.positionals.size() == 1) {
    const auto version = ParseVersionNumber(in.positionals[0]);
    if (!version) return Usage(NotAVersion("rollback", in.positionals[0]));
    a.version = *version;
  }
  a.author = in.Author();
  return {a, ""};
}

BuiltArgs BuildProxies(const CommandInput& in) {
  if (!in.positionals.empty())
    return Usage(WrongArgumentCount("proxies", "no arguments", in.positionals));
  return {ProxiesArgs{}, ""};
}

BuiltArgs BuildStatus(const CommandInput& in) {
  if (!in.positionals.empty())
    return Usage(WrongArgumentCount("status", "no arguments", in.positionals));
  return {StatusArgs{in.Flag("--exit-status") != nullptr}, ""};
}

// --window, if given, into `seconds`; the usage error, or "".
std::string ReadWindow(const CommandInput& in, uint32_t& seconds) {
  const auto* w = in.Flag("--window");
  if (!w) return "";
  const WindowResult window = ParseWindow(*w);
  if (window.error.empty()) seconds = window.seconds;
  return window.error;
}

BuiltArgs BuildBackends(const CommandInput& in) {
  if (!in.positionals.empty())
    return Usage(WrongArgumentCount("backends", "no arguments", in.positionals));
  BackendsArgs a;
  if (const auto* c = in.Flag("--cluster")) a.cluster = *c;
  if (std::string error = ReadWindow(in, a.window_seconds); !error.empty()) return Usage(error);
  return {a, ""};
}

BuiltArgs BuildStats(const CommandInput& in) {
  if (!in.positionals.empty())
    return Usage(WrongArgumentCount("stats", "no arguments", in.positionals));
  StatsArgs a;
  if (const auto* p = in.Flag("--proxy")) a.proxy = *p;
  if (const auto* c = in.Flag("--cluster")) a.cluster = *c;
  if (std::string error = ReadWindow(in, a.window_seconds); !error.empty()) return Usage(error);
  return {a, ""};
}

BuiltArgs BuildCircuits(const CommandInput& in) {
  if (!in.positionals.empty())
    return Usage(WrongArgumentCount("circuits", "no arguments", in.positionals));
  CircuitsArgs a;
  if (const auto* c = in.Flag("--cluster")) a.cluster = *c;
  return {a, ""};
}

BuiltArgs BuildHealthEvents(const CommandInput& in) {
  if (!in.positionals.empty())
    return Usage(WrongArgumentCount("health-events", "no arguments", in.positionals));
  HealthEventsArgs a;
  if (const auto* c = in.Flag("--cluster")) a.cluster = *c;
  if (const auto* l = in.Flag("--limit")) {
    const auto n = ParseLimit(*l);
    if (!n) return Usage(BadLimit(*l));
    a.limit = *n;
  }
  return {a, ""};
}

BuiltArgs BuildHelp(const CommandInput& in) {
  if (in.positionals.size() > 1) {
    return Usage(WrongArgumentCount("help", "at most one command", in.positionals));
  }
  if (in.positionals.empty()) return {HelpArgs{}, ""};
  if (!FindCommand(in.positionals[0])) {
    return Usage("no help for unknown command " + Quoted(in.positionals[0]));
  }
  return {HelpArgs{in.positionals[0]}, ""};
}

BuiltArgs BuildArgs(std::string_view command, const CommandInput& in) {
  if (command == "apply") return BuildApply(in);
  if (command == "get") return BuildGet(in);
  if (command == "history") return BuildHistory(in);
  if (command == "diff") return BuildDiff(in);
  if (command == "rollback") return BuildRollback(in);
  if (command == "proxies") return BuildProxies(in);
  if (command == "status") return BuildStatus(in);
  if (command == "backends") return BuildBackends(in);
  if (command == "stats") return BuildStats(in);
  if (command == "circuits") return BuildCircuits(in);
  if (command == "health-events") return BuildHealthEvents(in);
  return BuildHelp(in);
}

}  // namespace

Environment Environment::FromProcess() {
  const auto get = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  return Environment{get("HERMES_SERVER"), get("HERMES_TOKEN"), get("USER")};
}

std::optional<uint64_t> ParseVersionNumber(std::string_view text) {
  if (!text.empty() && (text[0] == 'v' || text[0] == 'V')) text.remove_prefix(1);
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

WindowResult ParseWindow(std::string_view text) {
  using std::chrono::seconds;
  const auto d = ParseDuration(text);
  if (!d || d->count() <= 0) {
    return {0, "--window wants a duration above zero like 30s, 5m or 1h, got " + Quoted(text)};
  }
  if (*d > seconds(kMaxWindowSeconds)) {
    return {0, "--window can be at most 1h (the control plane keeps an hour of stats), got " +
                   Quoted(text)};
  }
  if (*d % seconds(1) != std::chrono::nanoseconds(0)) {
    return {0, "--window counts whole seconds (like 90s or 1m30s), got " + Quoted(text)};
  }
  return {static_cast<uint32_t>(std::chrono::duration_cast<seconds>(*d).count()), ""};
}

ParseResult ParseCommandLine(const std::vector<std::string>& args, const Environment& env) {
  ParseResult result;
  Invocation& inv = result.invocation;
  if (!env.server.empty()) inv.global.server = env.server;
  inv.global.token = env.token;

  const CommandSpec* command = nullptr;
  FlagValues command_flags;
  std::vector<std::string> positionals;
  bool only_positionals = false;

  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positionals || arg.size() < 2 || arg[0] != '-') {
      if (command) {
        positionals.push_back(arg);
        continue;
      }
      command = FindCommand(arg);
      if (!command) {
        result.error = "unknown command " + Quoted(arg);
        return result;
      }
      inv.command = std::string(command->name);
      continue;
    }
    if (arg == "--") {
      only_positionals = true;
      continue;
    }

    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    std::optional<std::string> value;
    if (eq != std::string::npos) value = arg.substr(eq + 1);

    const FlagSpec* spec = command ? FindFlag(command->flags, name) : nullptr;
    const bool global = spec == nullptr;
    if (global) spec = FindFlag(kGlobalFlags, name);
    if (!spec) {
      result.error = "unknown flag " + name + (command ? " for " + inv.command : "");
      return result;
    }
    if (spec->takes_value) {
      if (!value) {
        if (i + 1 == args.size()) {
          result.error = "flag " + name + " needs a value";
          return result;
        }
        value = args[++i];
      }
      if (value->empty()) {
        result.error = "flag " + name + " needs a non-empty value";
        return result;
      }
    } else if (value) {
      result.error = "flag " + name + " takes no value";
      return result;
    }

    if (global) {
      result.error = ApplyGlobalFlag(spec->name, value.value_or(""), inv.global);
      if (!result.error.empty()) return result;
    } else {
      command_flags[spec->name] = value.value_or("");
    }
  }

  if (inv.global.help) {
    // `hermesctl apply --help` is `hermesctl help apply`: nothing else is required.
    inv.args = HelpArgs{inv.command == "help" ? "" : inv.command};
    if (inv.command == "help" && !positionals.empty() && FindCommand(positionals[0])) {
      inv.args = HelpArgs{positionals[0]};
    }
    return result;
  }
  if (!command) {
    if (!inv.global.version) result.error = "missing command";
    return result;
  }
  BuiltArgs built = BuildArgs(inv.command, CommandInput{command_flags, positionals, env});
  inv.args = std::move(built.args);
  result.error = std::move(built.error);
  return result;
}

}  // namespace hermes::ctl
