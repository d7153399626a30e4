// The commands hermesctl knows and the flags each takes: the one table that the command line
// parser, the help test and the bash completion script all read, so they cannot drift apart.
#pragma once

#include <string_view>
#include <vector>

namespace hermes::ctl {

// What a flag's value is, for completion: a file after -f, a format after -o.
enum class FlagValue { kNone, kText, kFile, kOutputFormat };

struct FlagSpec {
  std::string_view name;        // "--filename"
  std::string_view short_name;  // "-f" or empty
  FlagValue value = FlagValue::kNone;

  bool takes_value() const { return value != FlagValue::kNone; }
};

struct CommandSpec {
  std::string_view name;  // "apply"; a subcommand is "rollout start"
  std::vector<FlagSpec> flags;
  // Fixed words its first argument can be ("config" for get, "bash" for completion).
  std::vector<std::string_view> words;
  // A group ("rollout") runs nothing itself: its first argument names a subcommand.
  bool group = false;
};

// Flags every command takes, anywhere on the command line.
const std::vector<FlagSpec>& GlobalFlags();

// Every command in the order of the overview, each group followed by its subcommands.
const std::vector<CommandSpec>& Commands();

// The command or subcommand called `name` ("status", "rollout", "rollout start"); nullptr when
// there is none.
const CommandSpec* FindCommand(std::string_view name);

// The subcommands of `group` by their own names ("start", "promote", ...).
std::vector<std::string_view> Subcommands(std::string_view group);

// The flag called `name` or `short_name` among `flags`; nullptr when there is none.
const FlagSpec* FindFlag(const std::vector<FlagSpec>& flags, std::string_view name);

// The values -o takes.
inline constexpr std::string_view kOutputFormats[] = {"table", "json", "yaml"};

}  // namespace hermes::ctl
