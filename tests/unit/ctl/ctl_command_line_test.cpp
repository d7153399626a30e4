// hermesctl's command line: global flags anywhere, environment defaults, each command's
// arguments, and every usage error (exit code 2 in main).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ctl/command_line.h"

namespace hermes::ctl {
namespace {

using namespace std::chrono_literals;

ParseResult Parse(std::vector<std::string> args, Environment env = {}) {
  return ParseCommandLine(args, env);
}

// The usage error of a command line that must not parse.
std::string ErrorOf(std::vector<std::string> args) {
  const ParseResult r = Parse(std::move(args));
  EXPECT_FALSE(r.error.empty());
  return r.error;
}

TEST(CommandLineTest, DefaultsWithoutFlagsOrEnvironment) {
  const ParseResult r = Parse({"proxies"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.invocation.command, "proxies");
  EXPECT_TRUE(std::holds_alternative<ProxiesArgs>(r.invocation.args));
  EXPECT_EQ(r.invocation.global.server, "localhost:9090");
  EXPECT_EQ(r.invocation.global.output, OutputFormat::kTable);
  EXPECT_EQ(r.invocation.global.timeout, 10s);
  EXPECT_EQ(r.invocation.global.token, "");
  EXPECT_EQ(r.invocation.global.token_file, "");
}

TEST(CommandLineTest, GlobalFlagsBeforeTheCommand) {
  const ParseResult r = Parse({"--server", "cp:7000", "-o", "json", "--timeout", "3s", "proxies"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.invocation.global.server, "cp:7000");
  EXPECT_EQ(r.invocation.global.output, OutputFormat::kJson);
  EXPECT_EQ(r.invocation.global.timeout, 3s);
}

TEST(CommandLineTest, GlobalFlagsAfterTheCommandAndBetweenArguments) {
  const ParseResult r = Parse({"diff", "3", "--server=cp:7000", "5", "--output=json"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.invocation.global.server, "cp:7000");
  EXPECT_EQ(r.invocation.global.output, OutputFormat::kJson);
  const auto& d = std::get<DiffArgs>(r.invocation.args);
  EXPECT_EQ(d.from, 3u);
  EXPECT_EQ(d.to, 5u);
}

TEST(CommandLineTest, ServerComesFromHermesServerWhenNotGiven) {
  const ParseResult r = Parse({"proxies"}, Environment{"cp.internal:9090", "", ""});
  EXPECT_EQ(r.invocation.global.server, "cp.internal:9090");
}

TEST(CommandLineTest, ServerFlagWinsOverHermesServer) {
  const ParseResult r = Parse({"proxies", "--server", "other:1"}, Environment{"cp:9090", "", ""});
  EXPECT_EQ(r.invocation.global.server, "other:1");
}

TEST(CommandLineTest, TokenComesFromHermesToken) {
  const ParseResult r = Parse({"proxies"}, Environment{"", "s3cret", ""});
  EXPECT_EQ(r.invocation.global.token, "s3cret");
}

TEST(CommandLineTest, TokenFileFlagIsKept) {
  const ParseResult r = Parse({"--token-file", "/etc/hermes/token", "proxies"});
  EXPECT_EQ(r.invocation.global.token_file, "/etc/hermes/token");
}

TEST(CommandLineTest, ApplyTakesFileMessageAuthorAndDryRun) {
  const ParseResult r =
      Parse({"apply", "-f", "fleet.yaml", "-m", "raise timeout", "--author", "ana", "--dry-run"});
  ASSERT_EQ(r.error, "");
  const auto& a = std::get<ApplyArgs>(r.invocation.args);
  EXPECT_EQ(a.file, "fleet.yaml");
  EXPECT_EQ(a.message, "raise timeout");
  EXPECT_EQ(a.author, "ana");
  EXPECT_TRUE(a.dry_run);
}

TEST(CommandLineTest, ApplyAuthorDefaultsToUser) {
  const ParseResult r = Parse({"apply", "--filename=fleet.yaml"}, Environment{"", "", "maria"});
  const auto& a = std::get<ApplyArgs>(r.invocation.args);
  EXPECT_EQ(a.author, "maria");
  EXPECT_FALSE(a.dry_run);
}

TEST(CommandLineTest, ApplyAuthorIsUnknownWithoutUser) {
  const ParseResult r = Parse({"apply", "-f", "fleet.yaml"});
  EXPECT_EQ(std::get<ApplyArgs>(r.invocation.args).author, "unknown");
}

TEST(CommandLineTest, ApplyReadsStandardInputFromDash) {
  const ParseResult r = Parse({"apply", "-f", "-"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(std::get<ApplyArgs>(r.invocation.args).file, "-");
}

TEST(CommandLineTest, GetConfigVersionIsTheCommandsFlagNotTheGlobalOne) {
  const ParseResult r = Parse({"get", "config", "--version", "12"});
  ASSERT_EQ(r.error, "");
  EXPECT_FALSE(r.invocation.global.version);
  EXPECT_EQ(std::get<GetConfigArgs>(r.invocation.args).version, 12u);
}

TEST(CommandLineTest, GetConfigWithoutVersionAsksForTheCurrentOne) {
  const ParseResult r = Parse({"get", "config"});
  EXPECT_EQ(std::get<GetConfigArgs>(r.invocation.args).version, 0u);
}

TEST(CommandLineTest, VersionsMayBeWrittenWithAV) {
  const ParseResult r = Parse({"diff", "v3", "V5"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(std::get<DiffArgs>(r.invocation.args).from, 3u);
  EXPECT_EQ(std::get<DiffArgs>(r.invocation.args).to, 5u);
}

TEST(CommandLineTest, HistoryLimit) {
  const ParseResult r = Parse({"history", "--limit", "5"});
  EXPECT_EQ(std::get<HistoryArgs>(r.invocation.args).limit, 5u);
}

TEST(CommandLineTest, RollbackWithoutVersionMeansThePreviousOne) {
  const ParseResult r = Parse({"rollback"}, Environment{"", "", "ana"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(std::get<RollbackArgs>(r.invocation.args).version, 0u);
  EXPECT_EQ(std::get<RollbackArgs>(r.invocation.args).author, "ana");
}

TEST(CommandLineTest, RollbackToAVersion) {
  const ParseResult r = Parse({"rollback", "7"});
  EXPECT_EQ(std::get<RollbackArgs>(r.invocation.args).version, 7u);
}

TEST(CommandLineTest, HelpFlagOnACommandAsksForItsHelpWithoutItsRequiredArguments) {
  const ParseResult r = Parse({"apply", "--help"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(std::get<HelpArgs>(r.invocation.args).topic, "apply");
}

TEST(CommandLineTest, HelpCommandNamesItsTopic) {
  const ParseResult r = Parse({"help", "rollback"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(std::get<HelpArgs>(r.invocation.args).topic, "rollback");
}

TEST(CommandLineTest, HelpAloneAsksForTheOverview) {
  const ParseResult r = Parse({"-h"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(std::get<HelpArgs>(r.invocation.args).topic, "");
}

TEST(CommandLineTest, VersionFlagAloneNeedsNoCommand) {
  const ParseResult r = Parse({"--version"});
  ASSERT_EQ(r.error, "");
  EXPECT_TRUE(r.invocation.global.version);
}

TEST(CommandLineTest, DoubleDashEndsFlags) {
  const ParseResult r = Parse({"rollback", "--", "v4"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(std::get<RollbackArgs>(r.invocation.args).version, 4u);
}

TEST(CommandLineTest, StatusExitsZeroUnlessAskedForAnExitStatus) {
  EXPECT_FALSE(std::get<StatusArgs>(Parse({"status"}).invocation.args).exit_status);
  EXPECT_TRUE(std::get<StatusArgs>(Parse({"status", "--exit-status"}).invocation.args).exit_status);
}

TEST(CommandLineTest, BackendsWithoutFlagsAsksForEveryClusterAndTheDefaultWindow) {
  const ParseResult r = Parse({"backends"});
  ASSERT_EQ(r.error, "");
  const auto& a = std::get<BackendsArgs>(r.invocation.args);
  EXPECT_EQ(a.cluster, "");
  EXPECT_EQ(a.window_seconds, 0u);
}

TEST(CommandLineTest, BackendsClusterAndWindow) {
  const ParseResult r = Parse({"backends", "--cluster", "api", "--window=5m"});
  ASSERT_EQ(r.error, "");
  const auto& a = std::get<BackendsArgs>(r.invocation.args);
  EXPECT_EQ(a.cluster, "api");
  EXPECT_EQ(a.window_seconds, 300u);
}

TEST(CommandLineTest, StatsWithoutWindowAsksForTheTotals) {
  const ParseResult r = Parse({"stats"});
  ASSERT_EQ(r.error, "");
  const auto& a = std::get<StatsArgs>(r.invocation.args);
  EXPECT_EQ(a.proxy, "");
  EXPECT_EQ(a.cluster, "");
  EXPECT_EQ(a.window_seconds, 0u);
}

TEST(CommandLineTest, StatsProxyClusterAndWindow) {
  const ParseResult r =
      Parse({"stats", "--proxy", "edge-1", "--cluster", "api", "--window", "1h", "-o", "json"});
  ASSERT_EQ(r.error, "");
  const auto& a = std::get<StatsArgs>(r.invocation.args);
  EXPECT_EQ(a.proxy, "edge-1");
  EXPECT_EQ(a.cluster, "api");
  EXPECT_EQ(a.window_seconds, 3600u);
  EXPECT_EQ(r.invocation.global.output, OutputFormat::kJson);
}

TEST(CommandLineTest, CircuitsCluster) {
  const ParseResult r = Parse({"circuits", "--cluster=payments"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(std::get<CircuitsArgs>(r.invocation.args).cluster, "payments");
}

TEST(CommandLineTest, HealthEventsClusterAndLimit) {
  const ParseResult r = Parse({"health-events", "--cluster", "api", "--limit", "10"});
  ASSERT_EQ(r.error, "");
  const auto& a = std::get<HealthEventsArgs>(r.invocation.args);
  EXPECT_EQ(a.cluster, "api");
  EXPECT_EQ(a.limit, 10u);
  EXPECT_EQ(std::get<HealthEventsArgs>(Parse({"health-events"}).invocation.args).limit, 0u);
}

TEST(CommandLineTest, ParseWindowTakesGoDurationsInWholeSeconds) {
  EXPECT_EQ(ParseWindow("30s").seconds, 30u);
  EXPECT_EQ(ParseWindow("1m30s").seconds, 90u);
  EXPECT_EQ(ParseWindow("5m").seconds, 300u);
  EXPECT_EQ(ParseWindow("1h").seconds, 3600u);
  EXPECT_EQ(ParseWindow("1s").seconds, 1u);
  EXPECT_EQ(ParseWindow("1h").error, "");
}

// Usage errors: the message names what was wrong.

TEST(CommandLineTest, NoArgumentsIsAMissingCommand) { EXPECT_EQ(ErrorOf({}), "missing command"); }

TEST(CommandLineTest, UnknownCommand) { EXPECT_EQ(ErrorOf({"aply"}), "unknown command 'aply'"); }

TEST(CommandLineTest, UnknownGlobalFlag) {
  EXPECT_EQ(ErrorOf({"--sever", "x"}), "unknown flag --sever");
}

TEST(CommandLineTest, UnknownFlagNamesTheCommand) {
  EXPECT_EQ(ErrorOf({"proxies", "--limit", "3"}), "unknown flag --limit for proxies");
}

TEST(CommandLineTest, CommandFlagBeforeTheCommandIsUnknown) {
  EXPECT_EQ(ErrorOf({"-f", "fleet.yaml", "apply"}), "unknown flag -f");
}

TEST(CommandLineTest, FlagWithoutItsValue) {
  EXPECT_EQ(ErrorOf({"proxies", "--server"}), "flag --server needs a value");
}

TEST(CommandLineTest, FlagWithAnEmptyValue) {
  EXPECT_EQ(ErrorOf({"proxies", "--server="}), "flag --server needs a non-empty value");
}

TEST(CommandLineTest, BooleanFlagWithAValue) {
  EXPECT_EQ(ErrorOf({"apply", "-f", "x.yaml", "--dry-run=yes"}), "flag --dry-run takes no value");
}

TEST(CommandLineTest, UnknownOutputFormat) {
  EXPECT_EQ(ErrorOf({"-o", "yaml", "proxies"}), "-o wants table or json, got 'yaml'");
}

TEST(CommandLineTest, BadTimeout) {
  EXPECT_EQ(ErrorOf({"--timeout", "10", "proxies"}),
            "--timeout wants a duration above zero like 10s or 500ms, got '10'");
}

TEST(CommandLineTest, ZeroTimeout) {
  EXPECT_EQ(ErrorOf({"--timeout", "0s", "proxies"}),
            "--timeout wants a duration above zero like 10s or 500ms, got '0s'");
}

TEST(CommandLineTest, ApplyWithoutFile) {
  EXPECT_EQ(ErrorOf({"apply", "-m", "x"}), "apply needs the config file: -f FILE");
}

TEST(CommandLineTest, ApplyWithAnArgument) {
  EXPECT_EQ(ErrorOf({"apply", "fleet.yaml"}), "apply takes no arguments, got 1: 'fleet.yaml'");
}

TEST(CommandLineTest, GetWithoutResource) {
  EXPECT_EQ(ErrorOf({"get"}), "get takes one argument (the resource: config), got 0");
}

TEST(CommandLineTest, GetUnknownResource) {
  EXPECT_EQ(ErrorOf({"get", "clusters"}), "get knows one resource, config; got 'clusters'");
}

TEST(CommandLineTest, GetConfigBadVersion) {
  EXPECT_EQ(ErrorOf({"get", "config", "--version", "latest"}),
            "--version wants a version number like 7 or v7, got 'latest'");
}

TEST(CommandLineTest, HistoryBadLimit) {
  EXPECT_EQ(ErrorOf({"history", "--limit", "0"}), "--limit wants a count above zero, got '0'");
  EXPECT_EQ(ErrorOf({"history", "--limit", "ten"}), "--limit wants a count above zero, got 'ten'");
}

TEST(CommandLineTest, HistoryWithAnArgument) {
  EXPECT_EQ(ErrorOf({"history", "5"}), "history takes no arguments, got 1: '5'");
}

TEST(CommandLineTest, DiffWithOneVersion) {
  EXPECT_EQ(ErrorOf({"diff", "3"}), "diff takes two versions (FROM TO), got 1: '3'");
}

TEST(CommandLineTest, DiffWithABadVersion) {
  EXPECT_EQ(ErrorOf({"diff", "3", "head"}), "diff wants a version number like 7 or v7, got 'head'");
}

TEST(CommandLineTest, RollbackWithTwoVersions) {
  EXPECT_EQ(ErrorOf({"rollback", "3", "4"}), "rollback takes at most one version, got 2: '3' '4'");
}

TEST(CommandLineTest, RollbackWithABadVersion) {
  EXPECT_EQ(ErrorOf({"rollback", "-3"}), "unknown flag -3 for rollback");
  EXPECT_EQ(ErrorOf({"rollback", "x"}), "rollback wants a version number like 7 or v7, got 'x'");
}

TEST(CommandLineTest, ProxiesWithAnArgument) {
  EXPECT_EQ(ErrorOf({"proxies", "edge"}), "proxies takes no arguments, got 1: 'edge'");
}

TEST(CommandLineTest, HelpForAnUnknownCommand) {
  EXPECT_EQ(ErrorOf({"help", "stat"}), "no help for unknown command 'stat'");
}

TEST(CommandLineTest, WindowWithoutAUnit) {
  EXPECT_EQ(ErrorOf({"stats", "--window", "5"}),
            "--window wants a duration above zero like 30s, 5m or 1h, got '5'");
}

TEST(CommandLineTest, WindowOfZeroOrBelow) {
  EXPECT_EQ(ErrorOf({"backends", "--window", "0s"}),
            "--window wants a duration above zero like 30s, 5m or 1h, got '0s'");
  EXPECT_EQ(ErrorOf({"backends", "--window", "-5m"}),
            "--window wants a duration above zero like 30s, 5m or 1h, got '-5m'");
}

TEST(CommandLineTest, WindowLongerThanTheHourTheControlPlaneKeeps) {
  EXPECT_EQ(ErrorOf({"stats", "--window", "2h"}),
            "--window can be at most 1h (the control plane keeps an hour of stats), got '2h'");
  EXPECT_EQ(ErrorOf({"stats", "--window", "1h0m1s"}),
            "--window can be at most 1h (the control plane keeps an hour of stats), got '1h0m1s'");
}

TEST(CommandLineTest, WindowInFractionsOfASecond) {
  EXPECT_EQ(ErrorOf({"stats", "--window", "1500ms"}),
            "--window counts whole seconds (like 90s or 1m30s), got '1500ms'");
}

TEST(CommandLineTest, WindowIsNotAFlagOfCircuits) {
  EXPECT_EQ(ErrorOf({"circuits", "--window", "5m"}), "unknown flag --window for circuits");
}

TEST(CommandLineTest, FleetCommandsTakeNoArguments) {
  EXPECT_EQ(ErrorOf({"status", "api"}), "status takes no arguments, got 1: 'api'");
  EXPECT_EQ(ErrorOf({"backends", "api"}), "backends takes no arguments, got 1: 'api'");
  EXPECT_EQ(ErrorOf({"stats", "edge-1"}), "stats takes no arguments, got 1: 'edge-1'");
  EXPECT_EQ(ErrorOf({"circuits", "api"}), "circuits takes no arguments, got 1: 'api'");
  EXPECT_EQ(ErrorOf({"health-events", "api"}), "health-events takes no arguments, got 1: 'api'");
}

TEST(CommandLineTest, HealthEventsBadLimit) {
  EXPECT_EQ(ErrorOf({"health-events", "--limit", "0"}),
            "--limit wants a count above zero, got '0'");
}

TEST(CommandLineTest, StatusExitStatusTakesNoValue) {
  EXPECT_EQ(ErrorOf({"status", "--exit-status=1"}), "flag --exit-status takes no value");
}

TEST(CommandLineTest, ParseVersionNumber) {
  EXPECT_EQ(ParseVersionNumber("7"), 7u);
  EXPECT_EQ(ParseVersionNumber("v7"), 7u);
  EXPECT_EQ(ParseVersionNumber("v"), std::nullopt);
  EXPECT_EQ(ParseVersionNumber("7a"), std::nullopt);
  EXPECT_EQ(ParseVersionNumber(""), std::nullopt);
}

}  // namespace
}  // namespace hermes::ctl
