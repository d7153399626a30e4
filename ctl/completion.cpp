#include "ctl/completion.h"

#include <set>
#include <string_view>

#include "ctl/command_table.h"

namespace hermes::ctl {
namespace {

// "--filename -f --message -m ..." : every name of `flags`.
std::string FlagWords(const std::vector<FlagSpec>& flags) {
  std::string words;
  for (const auto& f : flags) {
    words += (words.empty() ? "" : " ") + std::string(f.name);
    if (!f.short_name.empty()) words += " " + std::string(f.short_name);
  }
  return words;
}

std::string Joined(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view w : words) out += (out.empty() ? "" : " ") + std::string(w);
  return out;
}

// The names of every flag, any command's or global, that `wanted` picks, as a case pattern
// "a|b|c".
std::string FlagPattern(bool (*wanted)(const FlagSpec&)) {
  std::set<std::string_view> names;
  const auto add = [&](const std::vector<FlagSpec>& flags) {
    for (const auto& f : flags) {
      if (!wanted(f)) continue;
      names.insert(f.name);
      if (!f.short_name.empty()) names.insert(f.short_name);
    }
  };
  add(GlobalFlags());
  for (const auto& c : Commands()) add(c.flags);
  std::string pattern;
  for (std::string_view n : names) pattern += (pattern.empty() ? "" : "|") + std::string(n);
  return pattern;
}

std::vector<std::string_view> TopLevelCommands() {
  std::vector<std::string_view> names;
  for (const auto& c : Commands()) {
    if (c.name.find(' ') == std::string_view::npos) names.push_back(c.name);
  }
  return names;
}

}  // namespace

std::string BashCompletion() {
  const std::string global_flags = FlagWords(GlobalFlags());
  std::string formats;
  for (std::string_view f : kOutputFormats)
    formats += (formats.empty() ? "" : " ") + std::string(f);

  std::string s =
      "# bash completion for hermesctl, made by `hermesctl completion bash`.\n"
      "# Load it with: source <(hermesctl completion bash)\n"
      "_hermesctl() {\n"
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\"\n"
      "  local prev=\"\"\n"
      "  if (( COMP_CWORD > 0 )); then prev=\"${COMP_WORDS[COMP_CWORD-1]}\"; fi\n"
      "  # --flag=value: bash splits at '=', so the flag is the word before it.\n"
      "  if [[ \"$cur\" == \"=\" ]]; then cur=\"\"; fi\n"
      "  if [[ \"$prev\" == \"=\" ]] && (( COMP_CWORD > 1 )); then\n"
      "    prev=\"${COMP_WORDS[COMP_CWORD-2]}\"\n"
      "  fi\n"
      "  case \"$prev\" in\n"
      "    " +
      FlagPattern([](const FlagSpec& f) { return f.value == FlagValue::kOutputFormat; }) +
      ")\n"
      "      COMPREPLY=($(compgen -W \"" +
      formats +
      "\" -- \"$cur\")); return 0 ;;\n"
      "    " +
      FlagPattern([](const FlagSpec& f) { return f.value == FlagValue::kFile; }) +
      ")\n"
      "      compopt -o filenames 2>/dev/null\n"
      "      COMPREPLY=($(compgen -f -- \"$cur\")); return 0 ;;\n"
      "    " +
      FlagPattern([](const FlagSpec& f) { return f.value == FlagValue::kText; }) +
      ")\n"
      "      COMPREPLY=(); return 0 ;;\n"
      "  esac\n"
      "  # The command (\"rollout start\" for a subcommand): the words before the cursor that are\n"
      "  # neither flags nor flag values.\n"
      "  local command=\"\" i=1 w\n"
      "  while (( i < COMP_CWORD )); do\n"
      "    w=\"${COMP_WORDS[i]}\"\n"
      "    case \"$w\" in\n"
      "      " +
      FlagPattern([](const FlagSpec& f) { return f.takes_value(); }) +
      ")\n"
      "        if [[ \"${COMP_WORDS[i+1]}\" == \"=\" ]]; then (( i += 3 )); else (( i += 2 )); fi\n"
      "        continue ;;\n"
      "      -*|=) ;;\n"
      "      *)\n"
      "        if [[ -z \"$command\" ]]; then\n"
      "          command=\"$w\"\n";
  // A group's first argument picks its subcommand.
  for (const auto& c : Commands()) {
    if (!c.group) continue;
    s += "        elif [[ \"$command\" == \"" + std::string(c.name) +
         "\" ]]; then\n"
         "          command=\"" +
         std::string(c.name) + " $w\"\n";
  }
  s += "        fi ;;\n"
       "    esac\n"
       "    (( i += 1 ))\n"
       "  done\n"
       "  local flags=\"\" words=\"\"\n"
       "  case \"$command\" in\n"
       "    \"\") words=\"" +
       Joined(TopLevelCommands()) + "\" ;;\n";
  for (const auto& c : Commands()) {
    std::vector<std::string_view> words = c.words;
    if (c.group) words = Subcommands(c.name);
    if (c.name == "help") words = TopLevelCommands();
    s += "    \"" + std::string(c.name) + "\") flags=\"" + FlagWords(c.flags) + "\"; words=\"" +
         Joined(words) + "\" ;;\n";
  }
  s += "  esac\n"
       "  if [[ \"$cur\" == -* ]]; then\n"
       "    COMPREPLY=($(compgen -W \"$flags " +
       global_flags +
       "\" -- \"$cur\"))\n"
       "  else\n"
       "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
       "  fi\n"
       "  return 0\n"
       "}\n"
       "complete -F _hermesctl hermesctl\n";
  return s;
}

}  // namespace hermes::ctl
