#include "ctl/command_line.h"

#include <charconv>
#include <cstdlib>

#include "ctl/command_table.h"
#include "hermes/common/duration.h"

namespace hermes::ctl {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

std::string Or(std::string_view value, std::string_view fallback) {
  return std::string(value.empty() ? fallback : value);
}

std::string JoinedOr(const std::vector<std::string_view>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

// Splits "a,b,,c" at every comma, keeping empty parts.
std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t comma = text.find(',');
    parts.push_back(text.substr(0, comma));
    if (comma == std::string_view::npos) return parts;
    text.remove_prefix(comma + 1);
  }
}

// "12", "12.5", ".5": digits with at most one point, nothing else (no sign, exponent, inf, nan).
std::optional<double> ParseDecimal(std::string_view text) {
  bool point = false;
  bool digit = false;
  for (char c : text) {
    if (c == '.' && !point) {
      point = true;
    } else if (c >= '0' && c <= '9') {
      digit = true;
    } else {
      return std::nullopt;
    }
  }
  if (!digit) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
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
    } else if (value == "yaml") {
      g.output = OutputFormat::kYaml;
    } else {
      return "-o wants table, json or yaml, got " + Quoted(value);
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

// A flag's duration in whole milliseconds, at least `min`; `example` names good values.
struct DurationResult {
  milliseconds value{0};
  std::string error;
};
DurationResult ParseDurationFlag(std::string_view flag, std::string_view text, milliseconds min,
                                 std::string_view wanted) {
  const auto d = ParseDuration(text);
  if (!d || *d < min) {
    return {milliseconds(0),
            std::string(flag) + " wants " + std::string(wanted) + ", got " + Quoted(text)};
  }
  if (*d % milliseconds(1) != nanoseconds(0)) {
    return {milliseconds(0), std::string(flag) + " counts whole milliseconds, got " + Quoted(text)};
  }
  return {std::chrono::duration_cast<milliseconds>(*d), ""};
}

// A command's arguments, or the usage error that stopped them.
struct BuiltArgs {
  CommandArgs args;
  std::string error;
};

BuiltArgs Usage(std::string error) { return BuiltArgs{std::monostate{}, std::move(error)}; }

struct CommandInput {
  std::string_view command;
  const FlagValues& flags;
  const std::vector<std::string>& positionals;
  const Environment& env;

  const std::string* Flag(std::string_view name) const {
    const auto it = flags.find(name);
    return it == flags.end() ? nullptr : &it->second;
  }
  bool Has(std::string_view name) const { return flags.count(name) > 0; }
  std::string Author() const {
    const std::string* a = Flag("--author");
    return a ? *a : Or(env.user, "unknown");
  }
  std::string NoArguments() const {
    return WrongArgumentCount(command, "no arguments", positionals);
  }
};

// --limit's count above zero.
std::optional<uint32_t> ParseLimit(const std::string& text) {
  uint32_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n == 0) return std::nullopt;
  return n;
}

// --limit, if given, into `limit`; the usage error, or "".
std::string ReadLimit(const CommandInput& in, uint32_t& limit) {
  const auto* l = in.Flag("--limit");
  if (!l) return "";
  const auto n = ParseLimit(*l);
  if (!n) return "--limit wants a count above zero, got " + Quoted(*l);
  limit = *n;
  return "";
}

// --watch and --interval, if given, into `watch`; the usage error, or "".
std::string ReadWatch(const CommandInput& in, WatchArgs& watch) {
  watch.watch = in.Has("--watch");
  const auto* i = in.Flag("--interval");
  if (!i) return "";
  if (!watch.watch) return "--interval sets how often --watch refreshes; add --watch";
  const DurationResult d = ParseDurationFlag("--interval", *i, std::chrono::seconds(1),
                                             "a duration of at least 1s like 2s or 1m");
  if (d.error.empty()) watch.interval = d.value;
  return d.error;
}

BuiltArgs BuildApply(const CommandInput& in) {
  if (!in.positionals.empty()) return Usage(in.NoArguments());
  ApplyArgs a;
  if (const auto* f = in.Flag("--filename")) a.file = *f;
  a.merge = in.Has("--merge");
  if (const auto* r = in.Flag("--remove")) {
    if (!a.merge) return Usage("--remove takes resources out in a merge; add --merge");
    std::string_view list = *r;
    while (!list.empty()) {
      const size_t comma = list.find(',');
      const std::string_view ref = list.substr(0, comma);
      const size_t slash = ref.find('/');
      const std::string_view type = ref.substr(0, slash);
      if (slash == std::string_view::npos || slash + 1 == ref.size() ||
          (type != "clusters" && type != "routes" && type != "listeners")) {
        return Usage("--remove wants TYPE/NAME (clusters, routes or listeners), comma-separated, got " +
                     Quoted(std::string(ref)));
      }
      a.remove.emplace_back(ref);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    }
  }
  if (a.file.empty() && a.remove.empty()) {
    return Usage(a.merge ? "apply --merge needs the resources to merge (-f FILE) or to remove (--remove)"
                         : "apply needs the config file: -f FILE");
  }
  if (const auto* m = in.Flag("--message")) a.message = *m;
  a.author = in.Author();
  a.dry_run = in.Has("--dry-run");
  a.stage = in.Has("--stage");
  a.force = in.Has("--force");
  if (const auto* v = in.Flag("--if-version")) {
    const auto version = ParseVersionNumber(*v);
    if (!version || *version == 0) {
      return Usage(
          "--if-version wants the version you expect to be the newest stored, like 7 or "
          "v7, got " +
          Quoted(*v));
    }
    a.if_version = *version;
  }
  if (const auto* v = in.Flag("--max-config-bytes")) {
    uint64_t n = 0;
    const auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || end != v->data() + v->size() || n == 0) {
      return Usage("--max-config-bytes wants a number of bytes above 0, got " + Quoted(*v));
    }
    a.max_config_bytes = n;
  }
  if (a.dry_run && a.stage) {
    return Usage("--dry-run and --stage do not go together: a dry run stores nothing");
  }
  if (a.force && a.stage) {
    return Usage("--force and --stage do not go together: staging never touches the fleet");
  }
  if (a.force && a.dry_run) {
    return Usage("--force and --dry-run do not go together: a dry run changes nothing");
  }
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

BuiltArgs BuildHistory(const CommandInput& in) {
  if (!in.positionals.empty()) return Usage(in.NoArguments());
  HistoryArgs a;
  if (std::string error = ReadLimit(in, a.limit); !error.empty()) return Usage(error);
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
  a.force = in.Has("--force");
  return {a, ""};
}

BuiltArgs BuildProxies(const CommandInput& in) {
  if (!in.positionals.empty()) return Usage(in.NoArguments());
  ProxiesArgs a;
  if (std::string error = ReadWatch(in, a.watch); !error.empty()) return Usage(error);
  return {a, ""};
}

BuiltArgs BuildStatus(const CommandInput& in) {
  if (!in.positionals.empty()) return Usage(in.NoArguments());
  StatusArgs a;
  a.exit_status = in.Has("--exit-status");
  if (std::string error = ReadWatch(in, a.watch); !error.empty()) return Usage(error);
  if (a.exit_status && a.watch.watch) {
    return Usage("--exit-status and --watch do not go together: a watch ends with Ctrl-C");
  }
  return {a, ""};
}

BuiltArgs BuildRolloutStart(const CommandInput& in) {
  if (in.positionals.size() != 1) {
    return Usage(
        WrongArgumentCount(in.command, "one argument (the VERSION to roll out)", in.positionals));
  }
  RolloutStartArgs a;
  const auto version = ParseVersionNumber(in.positionals[0]);
  if (!version || *version == 0) {
    return Usage("rollout start wants a stored version like 13 or v13, got " +
                 Quoted(in.positionals[0]));
  }
  a.version = *version;
  if (const auto* s = in.Flag("--selector")) {
    SelectorResult selector = ParseSelector(*s);
    if (!selector.error.empty()) return Usage(selector.error);
    a.selector = std::move(selector.labels);
  }
  if (const auto* s = in.Flag("--steps")) {
    StepsResult steps = ParseSteps(*s);
    if (!steps.error.empty()) return Usage(steps.error);
    a.steps_percent = std::move(steps.percent);
  }
  if (const auto* i = in.Flag("--interval")) {
    const DurationResult d = ParseDurationFlag(
        "--interval", *i, std::chrono::seconds(1),
        "a duration of at least 1s like 30s or 5m (how long each step runs before its gate)");
    if (!d.error.empty()) return Usage(d.error);
    a.interval = d.value;
  }
  if (const auto* r = in.Flag("--max-error-rate")) {
    const RateResult rate = ParseErrorRate(*r);
    if (!rate.error.empty()) return Usage(rate.error);
    a.max_error_rate = rate.fraction;
  }
  a.auto_promote = in.Has("--auto");
  a.author = in.Author();
  return {a, ""};
}

BuiltArgs BuildRolloutAction(const CommandInput& in, RolloutAction action) {
  if (!in.positionals.empty()) return Usage(in.NoArguments());
  RolloutActionArgs a;
  a.action = action;
  if (const auto* r = in.Flag("--reason")) a.reason = *r;
  a.author = in.Author();
  return {a, ""};
}

BuiltArgs BuildRolloutStatus(const CommandInput& in) {
  if (in.positionals.size() > 1) {
    return Usage(WrongArgumentCount(in.command, "at most one rollout id", in.positionals));
  }
  RolloutStatusArgs a;
  if (in.positionals.size() == 1) {
    std::string_view text = in.positionals[0];
    if (!text.empty() && text.front() == '#') text.remove_prefix(1);
    uint64_t id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || id == 0) {
      return Usage("rollout status wants a rollout id like 3 or #3, got " +
                   Quoted(in.positionals[0]));
    }
    a.id = id;
  }
  if (std::string error = ReadWatch(in, a.watch); !error.empty()) return Usage(error);
  return {a, ""};
}

BuiltArgs BuildRolloutList(const CommandInput& in) {
  if (!in.positionals.empty()) return Usage(in.NoArguments());
  RolloutListArgs a;
  if (std::string error = ReadLimit(in, a.limit); !error.empty()) return Usage(error);
  return {a, ""};
}

BuiltArgs BuildDrain(const CommandInput& in) {
  if (in.positionals.size() != 1) {
    return Usage(WrongArgumentCount("drain", "one argument (the NODE to drain)", in.positionals));
  }
  DrainArgs a;
  a.node = in.positionals[0];
  if (a.node.empty()) return Usage("drain wants a node id, got ''");
  a.wait = in.Has("--wait");
  if (const auto* t = in.Flag("--wait-timeout")) {
    if (!a.wait) return Usage("--wait-timeout limits --wait; add --wait");
    const DurationResult d = ParseDurationFlag("--wait-timeout", *t, milliseconds(1),
                                               "a duration above zero like 5m or 90s");
    if (!d.error.empty()) return Usage(d.error);
    a.wait_timeout = d.value;
  }
  return {a, ""};
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
  if (!in.positionals.empty()) return Usage(in.NoArguments());
  BackendsArgs a;
  if (const auto* c = in.Flag("--cluster")) a.cluster = *c;
  if (std::string error = ReadWindow(in, a.window_seconds); !error.empty()) return Usage(error);
  return {a, ""};
}

BuiltArgs BuildStats(const CommandInput& in) {
  if (!in.positionals.empty()) return Usage(in.NoArguments());
  StatsArgs a;
  if (const auto* p = in.Flag("--proxy")) a.proxy = *p;
  if (const auto* c = in.Flag("--cluster")) a.cluster = *c;
  if (std::string error = ReadWindow(in, a.window_seconds); !error.empty()) return Usage(error);
  return {a, ""};
}

BuiltArgs BuildCircuits(const CommandInput& in) {
  if (!in.positionals.empty()) return Usage(in.NoArguments());
  CircuitsArgs a;
  if (const auto* c = in.Flag("--cluster")) a.cluster = *c;
  return {a, ""};
}

BuiltArgs BuildHealthEvents(const CommandInput& in) {
  if (!in.positionals.empty()) return Usage(in.NoArguments());
  HealthEventsArgs a;
  if (const auto* c = in.Flag("--cluster")) a.cluster = *c;
  if (std::string error = ReadLimit(in, a.limit); !error.empty()) return Usage(error);
  return {a, ""};
}

BuiltArgs BuildCompletion(const CommandInput& in) {
  if (in.positionals.size() != 1) {
    return Usage(
        WrongArgumentCount("completion", "one argument (the shell: bash)", in.positionals));
  }
  if (in.positionals[0] != "bash") {
    return Usage("completion knows one shell, bash; got " + Quoted(in.positionals[0]));
  }
  return {CompletionArgs{in.positionals[0]}, ""};
}

// "rollout start" from help's arguments ["rollout", "start"]; empty when there are none.
std::string HelpTopic(const std::vector<std::string>& positionals) {
  std::string topic;
  for (const auto& p : positionals) topic += (topic.empty() ? "" : " ") + p;
  return topic;
}

BuiltArgs BuildHelp(const CommandInput& in) {
  if (in.positionals.size() > 2) {
    return Usage(WrongArgumentCount("help", "at most one command", in.positionals));
  }
  const std::string topic = HelpTopic(in.positionals);
  if (!topic.empty() && !FindCommand(topic)) {
    return Usage("no help for unknown command " + Quoted(topic));
  }
  return {HelpArgs{topic}, ""};
}

BuiltArgs BuildArgs(std::string_view command, const CommandInput& in) {
  if (command == "apply") return BuildApply(in);
  if (command == "get") return BuildGet(in);
  if (command == "history") return BuildHistory(in);
  if (command == "diff") return BuildDiff(in);
  if (command == "rollback") return BuildRollback(in);
  if (command == "rollout start") return BuildRolloutStart(in);
  if (command == "rollout promote") return BuildRolloutAction(in, RolloutAction::kPromote);
  if (command == "rollout pause") return BuildRolloutAction(in, RolloutAction::kPause);
  if (command == "rollout resume") return BuildRolloutAction(in, RolloutAction::kResume);
  if (command == "rollout abort") return BuildRolloutAction(in, RolloutAction::kAbort);
  if (command == "rollout status") return BuildRolloutStatus(in);
  if (command == "rollout list") return BuildRolloutList(in);
  if (command == "proxies") return BuildProxies(in);
  if (command == "drain") return BuildDrain(in);
  if (command == "status") return BuildStatus(in);
  if (command == "backends") return BuildBackends(in);
  if (command == "stats") return BuildStats(in);
  if (command == "circuits") return BuildCircuits(in);
  if (command == "health-events") return BuildHealthEvents(in);
  if (command == "completion") return BuildCompletion(in);
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

bool Waits(const CommandArgs& args) {
  if (const auto* a = std::get_if<ProxiesArgs>(&args)) return a->watch.watch;
  if (const auto* a = std::get_if<StatusArgs>(&args)) return a->watch.watch;
  if (const auto* a = std::get_if<RolloutStatusArgs>(&args)) return a->watch.watch;
  if (const auto* a = std::get_if<DrainArgs>(&args)) return a->wait;
  return false;
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
  if (*d % seconds(1) != nanoseconds(0)) {
    return {0, "--window counts whole seconds (like 90s or 1m30s), got " + Quoted(text)};
  }
  return {static_cast<uint32_t>(std::chrono::duration_cast<seconds>(*d).count()), ""};
}

StepsResult ParseSteps(std::string_view text) {
  StepsResult result;
  const auto fail = [&](std::string error) { return StepsResult{{}, std::move(error)}; };
  const std::vector<std::string_view> parts = SplitCommas(text);
  if (parts.size() > kMaxRolloutSteps) {
    return fail("--steps takes at most " + std::to_string(kMaxRolloutSteps) + " steps, got " +
                std::to_string(parts.size()));
  }
  for (std::string_view part : parts) {
    std::string_view number = part;
    if (!number.empty() && number.back() == '%') number.remove_suffix(1);
    if (part.empty()) return fail("--steps has an empty step in " + Quoted(text));
    const std::optional<double> percent = ParseDecimal(number);
    if (!percent) {
      return fail("--steps wants percentages like 10%,50%,100%; " + Quoted(part) + " is not one");
    }
    if (*percent <= 0 || *percent > 100) {
      return fail(
          "--steps: each step is a share of the selected proxies above 0% and at most "
          "100%, got " +
          Quoted(part));
    }
    if (!result.percent.empty() && *percent <= result.percent.back()) {
      return fail("--steps must grow from step to step, got " + Quoted(part) + " after " +
                  Quoted(parts[result.percent.size() - 1]));
    }
    result.percent.push_back(*percent);
  }
  if (result.percent.back() != 100) {
    return fail("--steps must end at 100% (every selected proxy), got " + Quoted(parts.back()) +
                " last");
  }
  return result;
}

SelectorResult ParseSelector(std::string_view text) {
  SelectorResult result;
  const auto fail = [&](std::string error) { return SelectorResult{{}, std::move(error)}; };
  for (std::string_view pair : SplitCommas(text)) {
    if (pair.empty()) return fail("--selector has an empty pair in " + Quoted(text));
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      return fail("--selector wants label=value pairs like zone=b,group=edge; " + Quoted(pair) +
                  " has no '='");
    }
    if (eq == 0) return fail("--selector: " + Quoted(pair) + " has no label name before '='");
    std::string key(pair.substr(0, eq));
    if (result.labels.count(key) > 0) {
      return fail("--selector names label " + Quoted(key) + " twice");
    }
    result.labels.emplace(std::move(key), std::string(pair.substr(eq + 1)));
  }
  return result;
}

RateResult ParseErrorRate(std::string_view text) {
  const std::string wanted =
      "--max-error-rate wants a percentage from 0% to 100% like 1% or 0.5%, got " + Quoted(text);
  if (text.empty() || text.back() != '%') return {0, wanted};
  const std::optional<double> percent = ParseDecimal(text.substr(0, text.size() - 1));
  if (!percent || *percent > 100) return {0, wanted};
  return {*percent / 100, ""};
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
      if (command && command->group) {
        const CommandSpec* sub = FindCommand(std::string(command->name) + " " + arg);
        if (!sub || arg.find(' ') != std::string::npos) {
          result.error = "unknown " + inv.command + " subcommand " + Quoted(arg) + " (" +
                         JoinedOr(Subcommands(command->name)) + ")";
          return result;
        }
        command = sub;
        inv.command = std::string(command->name);
        continue;
      }
      if (command) {
        positionals.push_back(arg);
        continue;
      }
      command = arg.find(' ') == std::string::npos ? FindCommand(arg) : nullptr;
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
    if (global) spec = FindFlag(GlobalFlags(), name);
    if (!spec) {
      result.error = "unknown flag " + name + (command ? " for " + inv.command : "");
      if (command && command->group) {
        result.error +=
            " (a subcommand's flags come after it: " + inv.command + " SUBCOMMAND " + name + ")";
      }
      return result;
    }
    if (spec->takes_value()) {
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
    const std::string topic = HelpTopic(positionals);
    if (inv.command == "help" && FindCommand(topic)) inv.args = HelpArgs{topic};
    return result;
  }
  if (!command) {
    if (!inv.global.version) result.error = "missing command";
    return result;
  }
  if (command->group) {
    result.error = inv.command + " needs a subcommand: " + JoinedOr(Subcommands(command->name));
    return result;
  }
  BuiltArgs built =
      BuildArgs(inv.command, CommandInput{inv.command, command_flags, positionals, env});
  inv.args = std::move(built.args);
  result.error = std::move(built.error);
  return result;
}

}  // namespace hermes::ctl
