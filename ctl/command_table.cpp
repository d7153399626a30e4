#include "ctl/command_table.h"

namespace hermes::ctl {
namespace {

constexpr auto kNone = FlagValue::kNone;
constexpr auto kText = FlagValue::kText;

const FlagSpec kAuthor{"--author", "", kText};
const FlagSpec kWatch{"--watch", "-w", kNone};
const FlagSpec kWatchInterval{"--interval", "", kText};

}  // namespace

const std::vector<FlagSpec>& GlobalFlags() {
  static const std::vector<FlagSpec> flags = {
      {"--server", "", kText},
      {"--output", "-o", FlagValue::kOutputFormat},
      {"--token-file", "", FlagValue::kFile},
      {"--timeout", "", kText},
      {"--help", "-h", kNone},
      {"--version", "", kNone},
  };
  return flags;
}

const std::vector<CommandSpec>& Commands() {
  static const std::vector<CommandSpec> commands = {
      {"apply",
       {{"--filename", "-f", FlagValue::kFile},
        {"--message", "-m", kText},
        kAuthor,
        {"--dry-run", "", kNone},
        {"--stage", "", kNone},
        {"--if-version", "", kText},
        {"--force", "", kNone},
        {"--merge", "", kNone},
        {"--remove", "", kText},
        {"--max-config-bytes", "", kText}},
       {}},
      {"get", {{"--version", "", kText}}, {"config"}},
      {"history", {{"--limit", "", kText}}, {}},
      {"diff", {}, {}},
      {"rollback", {kAuthor, {"--force", "", kNone}}, {}},
      {"rollout", {}, {}, true},
      {"rollout start",
       {{"--selector", "", kText},
        {"--steps", "", kText},
        {"--interval", "", kText},
        {"--max-error-rate", "", kText},
        {"--auto", "", kNone},
        kAuthor},
       {}},
      {"rollout promote", {kAuthor}, {}},
      {"rollout pause", {{"--reason", "", kText}, kAuthor}, {}},
      {"rollout resume", {kAuthor}, {}},
      {"rollout abort", {{"--reason", "", kText}, kAuthor}, {}},
      {"rollout status", {kWatch, kWatchInterval}, {}},
      {"rollout list", {{"--limit", "", kText}}, {}},
      {"proxies", {kWatch, kWatchInterval}, {}},
      {"drain", {{"--wait", "", kNone}, {"--wait-timeout", "", kText}}, {}},
      {"status", {{"--exit-status", "", kNone}, kWatch, kWatchInterval}, {}},
      {"backends", {{"--cluster", "", kText}, {"--window", "", kText}}, {}},
      {"stats", {{"--proxy", "", kText}, {"--cluster", "", kText}, {"--window", "", kText}}, {}},
      {"circuits", {{"--cluster", "", kText}}, {}},
      {"health-events", {{"--cluster", "", kText}, {"--limit", "", kText}}, {}},
      {"completion", {}, {"bash"}},
      {"help", {}, {}},
  };
  return commands;
}

const CommandSpec* FindCommand(std::string_view name) {
  for (const auto& c : Commands()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::vector<std::string_view> Subcommands(std::string_view group) {
  std::vector<std::string_view> names;
  for (const auto& c : Commands()) {
    const std::string_view name = c.name;
    if (name.size() > group.size() + 1 && name.substr(0, group.size()) == group &&
        name[group.size()] == ' ') {
      names.push_back(name.substr(group.size() + 1));
    }
  }
  return names;
}

const FlagSpec* FindFlag(const std::vector<FlagSpec>& flags, std::string_view name) {
  for (const auto& f : flags) {
    if (f.name == name || (!f.short_name.empty() && f.short_name == name)) return &f;
  }
  return nullptr;
}

}  // namespace hermes::ctl
