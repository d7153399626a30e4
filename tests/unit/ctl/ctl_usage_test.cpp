// hermesctl's help: every command and subcommand of the command table has a page that shows
// each of its flags and two to four examples, and a usage error shows what was wrong followed by
// the usage of the command it was about.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "ctl/command_table.h"
#include "ctl/usage.h"

namespace hermes::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The lines of a page's "Examples:" section, up to the blank line that ends it.
std::vector<std::string> Examples(const std::string& page) {
  std::vector<std::string> lines;
  const size_t start = page.find("\nExamples:\n");
  if (start == std::string::npos) return lines;
  std::istringstream in(page.substr(start + 11));
  std::string line;
  while (std::getline(in, line) && !line.empty()) lines.push_back(line);
  return lines;
}

TEST(UsageTest, EveryCommandInTheTableHasAPageWithTwoToFourExamples) {
  for (const auto& command : Commands()) {
    const std::string name(command.name);
    const std::string page = HelpText(name);
    EXPECT_THAT(page, StartsWith("Usage: hermesctl " + name)) << name;
    const std::vector<std::string> examples = Examples(page);
    EXPECT_GE(examples.size(), 2u) << name;
    EXPECT_LE(examples.size(), 4u) << name;
    for (const auto& example : examples) {
      EXPECT_THAT(example, StartsWith("  ")) << name;
      EXPECT_THAT(example, HasSubstr("hermesctl " + name)) << name;
    }
    // The examples show the command itself (the first one at least).
    if (!examples.empty()) {
      EXPECT_THAT(examples[0], StartsWith("  hermesctl " + name)) << name;
    }
    EXPECT_THAT(page, HasSubstr("--server ADDR")) << name;
  }
}

TEST(UsageTest, EveryFlagInTheTableIsOnItsCommandsPage) {
  for (const auto& command : Commands()) {
    const std::string page = HelpText(command.name);
    for (const auto& flag : command.flags) {
      const std::string listed = flag.short_name.empty() ? "\n  " + std::string(flag.name)
                                                         : "\n  " + std::string(flag.short_name) +
                                                               ", " + std::string(flag.name);
      EXPECT_THAT(page, HasSubstr(listed)) << command.name;
    }
  }
}

TEST(UsageTest, EveryGlobalFlagIsInTheGlobalFlagsSection) {
  const std::string overview = HelpText("");
  for (const auto& flag : GlobalFlags()) {
    EXPECT_THAT(overview, HasSubstr(std::string(flag.name))) << flag.name;
  }
  EXPECT_THAT(overview, HasSubstr("table (default), json or yaml"));
}

TEST(UsageTest, OverviewListsEveryCommandAndExitCodes) {
  const std::string overview = HelpText("");
  for (const auto& command : Commands()) {
    if (command.name.find(' ') != std::string_view::npos) continue;
    EXPECT_THAT(overview, HasSubstr("\n  " + std::string(command.name) + " ")) << command.name;
  }
  EXPECT_THAT(overview, HasSubstr("start, promote, pause, resume, abort, status, list"));
  EXPECT_THAT(overview, HasSubstr("Exit codes: 0 ok, 1 failed"));
}

TEST(UsageTest, RolloutPageListsItsSubcommands) {
  const std::string page = HelpText("rollout");
  for (std::string_view sub : Subcommands("rollout")) {
    EXPECT_THAT(page, HasSubstr("\n  " + std::string(sub) + " ")) << sub;
  }
}

TEST(UsageTest, StatusPageSaysDegradedStillExitsZero) {
  EXPECT_THAT(HelpText("status"), HasSubstr("A degraded or unhealthy fleet still exits 0"));
  EXPECT_THAT(HelpText("status"), HasSubstr("exits 3 when degraded and 4 when unhealthy"));
}

TEST(UsageTest, RolloutStatusPageGivesTheWatchsExitCodes) {
  EXPECT_THAT(HelpText("rollout status"),
              HasSubstr("the rollout completes (exit 0) or aborts (exit 1, with the reason)"));
}

TEST(UsageTest, WindowFlagsNameTheirLimits) {
  EXPECT_THAT(HelpText("backends"),
              HasSubstr("--window DURATION    the window of the rates, 1s to 1h (default 1m)"));
  EXPECT_THAT(HelpText("stats"), HasSubstr("1s to 1h (30s, 5m, 1h)"));
}

TEST(UsageTest, UnknownCommandHasNoPage) { EXPECT_EQ(HelpText("rollout go"), ""); }

TEST(UsageTest, UsageErrorShowsTheErrorThenTheCommandsUsage) {
  const std::string text = UsageErrorText("apply needs the config file: -f FILE", "apply");
  EXPECT_THAT(text, StartsWith("hermesctl: apply needs the config file: -f FILE\n\n"
                               "Usage: hermesctl apply -f FILE"));
}

TEST(UsageTest, UsageErrorOfASubcommandShowsItsUsage) {
  const std::string text = UsageErrorText(
      "--steps must end at 100% (every selected proxy), got '50' last", "rollout start");
  EXPECT_THAT(text, StartsWith("hermesctl: --steps must end at 100% (every selected proxy), got "
                               "'50' last\n\nUsage: hermesctl rollout start VERSION"));
}

TEST(UsageTest, UsageErrorWithoutACommandShowsTheOverview) {
  const std::string text = UsageErrorText("unknown command 'aply'", "");
  EXPECT_THAT(text, StartsWith("hermesctl: unknown command 'aply'\n\nhermesctl: operate a Hermes"));
}

TEST(UsageTest, VersionNamesTheProgramAndVersion) {
  EXPECT_EQ(VersionText(), "hermesctl " HERMES_VERSION "\n");
}

}  // namespace
}  // namespace hermes::ctl
