// hermesctl's help: every command has a page with an example, and a usage error shows what was
// wrong followed by the usage of the command it was about.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ctl/usage.h"

namespace hermes::ctl {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(UsageTest, EveryCommandHasAHelpPageWithAnExample) {
  for (const char* command : {"apply", "get", "history", "diff", "rollback", "proxies", "status",
                              "backends", "stats", "circuits", "health-events", "help"}) {
    const std::string page = HelpText(command);
    EXPECT_THAT(page, StartsWith(std::string("Usage: hermesctl ") + command)) << command;
    EXPECT_THAT(page, AnyOf(HasSubstr("Example:\n  hermesctl " + std::string(command)),
                            HasSubstr("Examples:\n  hermesctl " + std::string(command))))
        << command;
    EXPECT_THAT(page, HasSubstr("--server ADDR")) << command;
  }
}

TEST(UsageTest, StatusPageSaysDegradedStillExitsZero) {
  EXPECT_THAT(HelpText("status"), HasSubstr("A degraded or unhealthy fleet still exits 0"));
  EXPECT_THAT(HelpText("status"), HasSubstr("exits 3 when degraded and 4 when unhealthy"));
}

TEST(UsageTest, WindowFlagsNameTheirLimits) {
  EXPECT_THAT(HelpText("backends"),
              HasSubstr("--window DURATION    the window of the rates, 1s to 1h (default 1m)"));
  EXPECT_THAT(HelpText("stats"), HasSubstr("1s to 1h (30s, 5m, 1h)"));
}

TEST(UsageTest, OverviewListsTheCommandsAndExitCodes) {
  const std::string overview = HelpText("");
  EXPECT_THAT(overview, HasSubstr("  apply -f FILE"));
  EXPECT_THAT(overview, HasSubstr("  proxies"));
  for (const char* command : {"status", "backends", "stats", "circuits", "health-events"}) {
    EXPECT_THAT(overview, HasSubstr(std::string("\n  ") + command + " ")) << command;
  }
  EXPECT_THAT(overview, HasSubstr("Exit codes: 0 ok, 1 failed"));
}

TEST(UsageTest, UsageErrorShowsTheErrorThenTheCommandsUsage) {
  const std::string text = UsageErrorText("apply needs the config file: -f FILE", "apply");
  EXPECT_THAT(text, StartsWith("hermesctl: apply needs the config file: -f FILE\n\n"
                               "Usage: hermesctl apply -f FILE"));
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
