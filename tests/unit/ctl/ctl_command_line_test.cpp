// hermesctl's command line: global flags anywhere, environment defaults, each command's
// arguments, and every usage error (exit code 2 in main).
#include <gtest/gtest.h>

#include <map>
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
  EXPECT_EQ(ErrorOf({"-o", "xml", "proxies"}), "-o wants table, json or yaml, got 'xml'");
}

TEST(CommandLineTest, OutputYaml) {
  const ParseResult r = Parse({"status", "-o", "yaml"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.invocation.global.output, OutputFormat::kYaml);
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

// apply --stage, --if-version, --force.

TEST(CommandLineTest, ApplyStageIfVersionAndForce) {
  const ParseResult r = Parse({"apply", "-f", "fleet.yaml", "--stage", "--if-version", "v12"});
  ASSERT_EQ(r.error, "");
  const auto& a = std::get<ApplyArgs>(r.invocation.args);
  EXPECT_TRUE(a.stage);
  EXPECT_EQ(a.if_version, 12u);
  EXPECT_FALSE(a.force);
  const auto forced = std::get<ApplyArgs>(Parse({"apply", "-f", "x", "--force"}).invocation.args);
  EXPECT_TRUE(forced.force);
  EXPECT_EQ(forced.if_version, 0u);
  EXPECT_EQ(
      std::get<ApplyArgs>(Parse({"apply", "-f", "x", "--if-version=7"}).invocation.args).if_version,
      7u);
}

TEST(CommandLineTest, ApplyMergeTakesAFileAndOrResourcesToRemove) {
  const auto merged = std::get<ApplyArgs>(Parse({"apply", "--merge", "-f", "part.yaml"}).invocation.args);
  EXPECT_TRUE(merged.merge);
  EXPECT_EQ(merged.file, "part.yaml");
  EXPECT_TRUE(merged.remove.empty());
  const auto removing = std::get<ApplyArgs>(
      Parse({"apply", "--merge", "--remove", "clusters/old,routes/old"}).invocation.args);
  EXPECT_EQ(removing.file, "");
  EXPECT_EQ(removing.remove, (std::vector<std::string>{"clusters/old", "routes/old"}));
  EXPECT_FALSE(std::get<ApplyArgs>(Parse({"apply", "-f", "x"}).invocation.args).merge);
}

TEST(CommandLineTest, ApplyMergeRefusesWhatItCannotDo) {
  EXPECT_EQ(ErrorOf({"apply", "-f", "x", "--remove", "clusters/old"}),
            "--remove takes resources out in a merge; add --merge");
  EXPECT_EQ(ErrorOf({"apply", "--merge"}),
            "apply --merge needs the resources to merge (-f FILE) or to remove (--remove)");
  EXPECT_EQ(ErrorOf({"apply", "--merge", "--remove", "cluster/old"}),
            "--remove wants TYPE/NAME (clusters, routes or listeners), comma-separated, got "
            "'cluster/old'");
  EXPECT_EQ(ErrorOf({"apply", "--merge", "--remove", "clusters/a,,routes/b"}),
            "--remove wants TYPE/NAME (clusters, routes or listeners), comma-separated, got ''");
  EXPECT_EQ(ErrorOf({"apply", "--merge", "--remove", "routes/"}),
            "--remove wants TYPE/NAME (clusters, routes or listeners), comma-separated, got "
            "'routes/'");
}

TEST(CommandLineTest, ApplyMaxConfigBytesDefaultsToTheControlPlanesLimit) {
  EXPECT_EQ(std::get<ApplyArgs>(Parse({"apply", "-f", "x"}).invocation.args).max_config_bytes,
            4194304u);
  EXPECT_EQ(std::get<ApplyArgs>(Parse({"apply", "-f", "x", "--max-config-bytes", "6000000"})
                                    .invocation.args)
                .max_config_bytes,
            6000000u);
  EXPECT_EQ(ErrorOf({"apply", "-f", "x", "--max-config-bytes", "4MiB"}),
            "--max-config-bytes wants a number of bytes above 0, got '4MiB'");
}

TEST(CommandLineTest, ApplyIfVersionMustBeAVersionAboveZero) {
  EXPECT_EQ(ErrorOf({"apply", "-f", "x", "--if-version", "latest"}),
            "--if-version wants the version you expect to be the newest stored, like 7 or v7, got "
            "'latest'");
  EXPECT_EQ(ErrorOf({"apply", "-f", "x", "--if-version", "0"}),
            "--if-version wants the version you expect to be the newest stored, like 7 or v7, got "
            "'0'");
}

TEST(CommandLineTest, ApplyFlagsThatContradictEachOther) {
  EXPECT_EQ(ErrorOf({"apply", "-f", "x", "--stage", "--dry-run"}),
            "--dry-run and --stage do not go together: a dry run stores nothing");
  EXPECT_EQ(ErrorOf({"apply", "-f", "x", "--stage", "--force"}),
            "--force and --stage do not go together: staging never touches the fleet");
  EXPECT_EQ(ErrorOf({"apply", "-f", "x", "--dry-run", "--force"}),
            "--force and --dry-run do not go together: a dry run changes nothing");
}

TEST(CommandLineTest, RollbackForce) {
  EXPECT_TRUE(std::get<RollbackArgs>(Parse({"rollback", "7", "--force"}).invocation.args).force);
  EXPECT_FALSE(std::get<RollbackArgs>(Parse({"rollback"}).invocation.args).force);
}

// rollout start.

TEST(CommandLineTest, RolloutStartWithDefaults) {
  const ParseResult r = Parse({"rollout", "start", "v13"}, Environment{"", "", "ana"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.invocation.command, "rollout start");
  const auto& a = std::get<RolloutStartArgs>(r.invocation.args);
  EXPECT_EQ(a.version, 13u);
  EXPECT_TRUE(a.selector.empty());
  EXPECT_TRUE(a.steps_percent.empty());
  EXPECT_EQ(a.interval, 0ms);
  EXPECT_FALSE(a.max_error_rate.has_value());
  EXPECT_FALSE(a.auto_promote);
  EXPECT_EQ(a.author, "ana");
}

TEST(CommandLineTest, RolloutStartWithEveryFlag) {
  const ParseResult r =
      Parse({"rollout", "start", "13", "--selector", "zone=b,group=edge", "--steps", "10%,50%,100%",
             "--interval", "2m", "--max-error-rate", "0.5%", "--auto", "--author", "ben"});
  ASSERT_EQ(r.error, "");
  const auto& a = std::get<RolloutStartArgs>(r.invocation.args);
  EXPECT_EQ(a.selector, (std::map<std::string, std::string>{{"group", "edge"}, {"zone", "b"}}));
  EXPECT_EQ(a.steps_percent, (std::vector<double>{10, 50, 100}));
  EXPECT_EQ(a.interval, 120s);
  ASSERT_TRUE(a.max_error_rate.has_value());
  EXPECT_DOUBLE_EQ(*a.max_error_rate, 0.005);
  EXPECT_TRUE(a.auto_promote);
  EXPECT_EQ(a.author, "ben");
}

TEST(CommandLineTest, RolloutStartZeroErrorRateIsAThreshold) {
  const auto a = std::get<RolloutStartArgs>(
      Parse({"rollout", "start", "13", "--max-error-rate", "0%"}).invocation.args);
  ASSERT_TRUE(a.max_error_rate.has_value());
  EXPECT_EQ(*a.max_error_rate, 0.0);
}

TEST(CommandLineTest, RolloutStartNeedsOneVersion) {
  EXPECT_EQ(ErrorOf({"rollout", "start"}),
            "rollout start takes one argument (the VERSION to roll out), got 0");
  EXPECT_EQ(ErrorOf({"rollout", "start", "12", "13"}),
            "rollout start takes one argument (the VERSION to roll out), got 2: '12' '13'");
  EXPECT_EQ(ErrorOf({"rollout", "start", "latest"}),
            "rollout start wants a stored version like 13 or v13, got 'latest'");
  EXPECT_EQ(ErrorOf({"rollout", "start", "0"}),
            "rollout start wants a stored version like 13 or v13, got '0'");
}

TEST(CommandLineTest, StepsTakeThePercentSignOrNot) {
  EXPECT_EQ(ParseSteps("10,50,100").percent, (std::vector<double>{10, 50, 100}));
  EXPECT_EQ(ParseSteps("12.5%,100").percent, (std::vector<double>{12.5, 100}));
  EXPECT_EQ(ParseSteps("100%").percent, (std::vector<double>{100}));
  EXPECT_EQ(ParseSteps("0.5,100").error, "");
}

TEST(CommandLineTest, StepsMustGrowStrictly) {
  EXPECT_EQ(ErrorOf({"rollout", "start", "13", "--steps", "50%,50%,100%"}),
            "--steps must grow from step to step, got '50%' after '50%'");
  EXPECT_EQ(ParseSteps("60,20,100").error,
            "--steps must grow from step to step, got '20' after '60'");
}

TEST(CommandLineTest, StepsMustBeAboveZeroAndAtMostAHundred) {
  EXPECT_EQ(ParseSteps("0%,100%").error,
            "--steps: each step is a share of the selected proxies above 0% and at most 100%, got "
            "'0%'");
  EXPECT_EQ(ParseSteps("50,150").error,
            "--steps: each step is a share of the selected proxies above 0% and at most 100%, got "
            "'150'");
}

TEST(CommandLineTest, StepsMustEndAtAHundred) {
  EXPECT_EQ(ErrorOf({"rollout", "start", "13", "--steps", "10,50"}),
            "--steps must end at 100% (every selected proxy), got '50' last");
}

TEST(CommandLineTest, StepsAreAtMostTwenty) {
  std::string twenty;
  for (int i = 1; i <= 20; ++i) twenty += (i > 1 ? "," : "") + std::to_string(i * 5);
  EXPECT_EQ(ParseSteps(twenty).percent.size(), 20u);
  EXPECT_EQ(ParseSteps("1," + twenty).error, "--steps takes at most 20 steps, got 21");
}

TEST(CommandLineTest, StepsThatAreNotPercentages) {
  EXPECT_EQ(ParseSteps("ten,100").error,
            "--steps wants percentages like 10%,50%,100%; 'ten' is not one");
  EXPECT_EQ(ParseSteps("-10,100").error,
            "--steps wants percentages like 10%,50%,100%; '-10' is not one");
  EXPECT_EQ(ParseSteps("1e1,100").error,
            "--steps wants percentages like 10%,50%,100%; '1e1' is not one");
  EXPECT_EQ(ParseSteps("nan,100").error,
            "--steps wants percentages like 10%,50%,100%; 'nan' is not one");
  EXPECT_EQ(ParseSteps("%,100").error,
            "--steps wants percentages like 10%,50%,100%; '%' is not one");
  EXPECT_EQ(ParseSteps("10,,100").error, "--steps has an empty step in '10,,100'");
  EXPECT_EQ(ParseSteps("10,100,").error, "--steps has an empty step in '10,100,'");
}

TEST(CommandLineTest, SelectorPairs) {
  EXPECT_EQ(ParseSelector("zone=b").labels, (std::map<std::string, std::string>{{"zone", "b"}}));
  // A label may be set to the empty value.
  EXPECT_EQ(ParseSelector("canary=").labels, (std::map<std::string, std::string>{{"canary", ""}}));
  EXPECT_EQ(ParseSelector("a=b=c").labels, (std::map<std::string, std::string>{{"a", "b=c"}}));
}

TEST(CommandLineTest, SelectorErrorsNameThePair) {
  EXPECT_EQ(ErrorOf({"rollout", "start", "13", "--selector", "zone"}),
            "--selector wants label=value pairs like zone=b,group=edge; 'zone' has no '='");
  EXPECT_EQ(ParseSelector("=b").error, "--selector: '=b' has no label name before '='");
  EXPECT_EQ(ParseSelector("zone=b,,group=edge").error,
            "--selector has an empty pair in 'zone=b,,group=edge'");
  EXPECT_EQ(ParseSelector("zone=b,zone=c").error, "--selector names label 'zone' twice");
}

TEST(CommandLineTest, RolloutIntervalIsAtLeastOneSecond) {
  EXPECT_EQ(std::get<RolloutStartArgs>(
                Parse({"rollout", "start", "13", "--interval", "1s"}).invocation.args)
                .interval,
            1s);
  const std::string wanted =
      " wants a duration of at least 1s like 30s or 5m (how long each step runs before its "
      "gate), got ";
  EXPECT_EQ(ErrorOf({"rollout", "start", "13", "--interval", "500ms"}),
            "--interval" + wanted + "'500ms'");
  EXPECT_EQ(ErrorOf({"rollout", "start", "13", "--interval", "30"}),
            "--interval" + wanted + "'30'");
  EXPECT_EQ(ErrorOf({"rollout", "start", "13", "--interval", "1.0005s"}),
            "--interval counts whole milliseconds, got '1.0005s'");
}

TEST(CommandLineTest, MaxErrorRateIsAPercentageUpToAHundred) {
  EXPECT_DOUBLE_EQ(ParseErrorRate("1%").fraction, 0.01);
  EXPECT_DOUBLE_EQ(ParseErrorRate("100%").fraction, 1.0);
  const std::string wanted =
      "--max-error-rate wants a percentage from 0% to 100% like 1% or 0.5%, got ";
  EXPECT_EQ(ErrorOf({"rollout", "start", "13", "--max-error-rate", "0.01"}), wanted + "'0.01'");
  EXPECT_EQ(ParseErrorRate("150%").error, wanted + "'150%'");
  EXPECT_EQ(ParseErrorRate("-1%").error, wanted + "'-1%'");
  EXPECT_EQ(ParseErrorRate("%").error, wanted + "'%'");
}

// The other rollout subcommands.

TEST(CommandLineTest, RolloutActions) {
  const ParseResult pause =
      Parse({"rollout", "pause", "--reason", "lunch"}, Environment{"", "", "ana"});
  ASSERT_EQ(pause.error, "");
  const auto& p = std::get<RolloutActionArgs>(pause.invocation.args);
  EXPECT_EQ(p.action, RolloutAction::kPause);
  EXPECT_EQ(p.reason, "lunch");
  EXPECT_EQ(p.author, "ana");
  EXPECT_EQ(std::get<RolloutActionArgs>(Parse({"rollout", "promote"}).invocation.args).action,
            RolloutAction::kPromote);
  EXPECT_EQ(std::get<RolloutActionArgs>(Parse({"rollout", "resume"}).invocation.args).action,
            RolloutAction::kResume);
  const auto abort = std::get<RolloutActionArgs>(
      Parse({"rollout", "abort", "--reason=errors", "--author", "ben"}).invocation.args);
  EXPECT_EQ(abort.action, RolloutAction::kAbort);
  EXPECT_EQ(abort.reason, "errors");
  EXPECT_EQ(abort.author, "ben");
}

TEST(CommandLineTest, ReasonIsForPauseAndAbortOnly) {
  EXPECT_EQ(ErrorOf({"rollout", "promote", "--reason", "x"}),
            "unknown flag --reason for rollout promote");
  EXPECT_EQ(ErrorOf({"rollout", "promote", "now"}),
            "rollout promote takes no arguments, got 1: 'now'");
}

TEST(CommandLineTest, RolloutStatusIdWatchAndInterval) {
  const ParseResult r = Parse({"rollout", "status", "#3", "-w", "--interval", "5s"});
  ASSERT_EQ(r.error, "");
  const auto& a = std::get<RolloutStatusArgs>(r.invocation.args);
  EXPECT_EQ(a.id, 3u);
  EXPECT_TRUE(a.watch.watch);
  EXPECT_EQ(a.watch.interval, 5s);
  const auto plain = std::get<RolloutStatusArgs>(Parse({"rollout", "status"}).invocation.args);
  EXPECT_EQ(plain.id, 0u);
  EXPECT_FALSE(plain.watch.watch);
  EXPECT_EQ(plain.watch.interval, 2s);
  EXPECT_EQ(std::get<RolloutStatusArgs>(Parse({"rollout", "status", "4"}).invocation.args).id, 4u);
}

TEST(CommandLineTest, RolloutStatusBadId) {
  EXPECT_EQ(ErrorOf({"rollout", "status", "v3"}),
            "rollout status wants a rollout id like 3 or #3, got 'v3'");
  EXPECT_EQ(ErrorOf({"rollout", "status", "#0"}),
            "rollout status wants a rollout id like 3 or #3, got '#0'");
  EXPECT_EQ(ErrorOf({"rollout", "status", "1", "2"}),
            "rollout status takes at most one rollout id, got 2: '1' '2'");
}

TEST(CommandLineTest, RolloutListLimit) {
  EXPECT_EQ(
      std::get<RolloutListArgs>(Parse({"rollout", "list", "--limit", "5"}).invocation.args).limit,
      5u);
  EXPECT_EQ(ErrorOf({"rollout", "list", "--limit", "-1"}),
            "--limit wants a count above zero, got '-1'");
}

TEST(CommandLineTest, RolloutNeedsAKnownSubcommand) {
  EXPECT_EQ(ErrorOf({"rollout"}),
            "rollout needs a subcommand: start, promote, pause, resume, abort, status or list");
  EXPECT_EQ(ErrorOf({"rollout", "stat"}),
            "unknown rollout subcommand 'stat' (start, promote, pause, resume, abort, status or "
            "list)");
}

TEST(CommandLineTest, RolloutFlagsComeAfterTheSubcommand) {
  EXPECT_EQ(ErrorOf({"rollout", "--reason", "x", "abort"}),
            "unknown flag --reason for rollout (a subcommand's flags come after it: rollout "
            "SUBCOMMAND --reason)");
}

TEST(CommandLineTest, RolloutHelp) {
  EXPECT_EQ(std::get<HelpArgs>(Parse({"rollout", "--help"}).invocation.args).topic, "rollout");
  EXPECT_EQ(std::get<HelpArgs>(Parse({"rollout", "start", "--help"}).invocation.args).topic,
            "rollout start");
  EXPECT_EQ(std::get<HelpArgs>(Parse({"help", "rollout", "start"}).invocation.args).topic,
            "rollout start");
  EXPECT_EQ(std::get<HelpArgs>(Parse({"help", "rollout"}).invocation.args).topic, "rollout");
  EXPECT_EQ(ErrorOf({"help", "rollout", "go"}), "no help for unknown command 'rollout go'");
}

// --watch and --interval.

TEST(CommandLineTest, WatchOnStatusAndProxies) {
  const auto status =
      std::get<StatusArgs>(Parse({"status", "--watch", "--interval=10s"}).invocation.args);
  EXPECT_TRUE(status.watch.watch);
  EXPECT_EQ(status.watch.interval, 10s);
  const auto proxies = std::get<ProxiesArgs>(Parse({"proxies", "-w"}).invocation.args);
  EXPECT_TRUE(proxies.watch.watch);
  EXPECT_EQ(proxies.watch.interval, 2s);
  EXPECT_FALSE(std::get<ProxiesArgs>(Parse({"proxies"}).invocation.args).watch.watch);
}

TEST(CommandLineTest, IntervalWithoutWatch) {
  EXPECT_EQ(ErrorOf({"proxies", "--interval", "5s"}),
            "--interval sets how often --watch refreshes; add --watch");
}

TEST(CommandLineTest, WatchIntervalIsAtLeastOneSecond) {
  EXPECT_EQ(ErrorOf({"status", "--watch", "--interval", "100ms"}),
            "--interval wants a duration of at least 1s like 2s or 1m, got '100ms'");
  EXPECT_EQ(ErrorOf({"status", "--watch", "--interval", "soon"}),
            "--interval wants a duration of at least 1s like 2s or 1m, got 'soon'");
}

TEST(CommandLineTest, ExitStatusAndWatchDoNotGoTogether) {
  EXPECT_EQ(ErrorOf({"status", "--watch", "--exit-status"}),
            "--exit-status and --watch do not go together: a watch ends with Ctrl-C");
}

TEST(CommandLineTest, WatchIsNotAFlagOfBackends) {
  EXPECT_EQ(ErrorOf({"backends", "--watch"}), "unknown flag --watch for backends");
}

TEST(CommandLineTest, WaitsIsTrueOnlyForWatchesAndDrainWait) {
  EXPECT_TRUE(Waits(Parse({"status", "-w"}).invocation.args));
  EXPECT_TRUE(Waits(Parse({"rollout", "status", "--watch"}).invocation.args));
  EXPECT_TRUE(Waits(Parse({"drain", "edge-1", "--wait"}).invocation.args));
  EXPECT_FALSE(Waits(Parse({"status"}).invocation.args));
  EXPECT_FALSE(Waits(Parse({"drain", "edge-1"}).invocation.args));
  EXPECT_FALSE(Waits(Parse({"apply", "-f", "x"}).invocation.args));
}

// drain.

TEST(CommandLineTest, DrainNodeWaitAndTimeout) {
  const ParseResult r = Parse({"drain", "edge-3", "--wait", "--wait-timeout", "90s"});
  ASSERT_EQ(r.error, "");
  const auto& a = std::get<DrainArgs>(r.invocation.args);
  EXPECT_EQ(a.node, "edge-3");
  EXPECT_TRUE(a.wait);
  EXPECT_EQ(a.wait_timeout, 90s);
  const auto plain = std::get<DrainArgs>(Parse({"drain", "edge-3"}).invocation.args);
  EXPECT_FALSE(plain.wait);
  EXPECT_EQ(plain.wait_timeout, 5min);
}

TEST(CommandLineTest, DrainUsageErrors) {
  EXPECT_EQ(ErrorOf({"drain"}), "drain takes one argument (the NODE to drain), got 0");
  EXPECT_EQ(ErrorOf({"drain", "a", "b"}),
            "drain takes one argument (the NODE to drain), got 2: 'a' 'b'");
  EXPECT_EQ(ErrorOf({"drain", ""}), "drain wants a node id, got ''");
  EXPECT_EQ(ErrorOf({"drain", "edge-3", "--wait-timeout", "1m"}),
            "--wait-timeout limits --wait; add --wait");
  EXPECT_EQ(ErrorOf({"drain", "edge-3", "--wait", "--wait-timeout", "0s"}),
            "--wait-timeout wants a duration above zero like 5m or 90s, got '0s'");
}

// completion.

TEST(CommandLineTest, CompletionBash) {
  const ParseResult r = Parse({"completion", "bash"});
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(std::get<CompletionArgs>(r.invocation.args).shell, "bash");
  EXPECT_EQ(ErrorOf({"completion", "zsh"}), "completion knows one shell, bash; got 'zsh'");
  EXPECT_EQ(ErrorOf({"completion"}), "completion takes one argument (the shell: bash), got 0");
}

}  // namespace
}  // namespace hermes::ctl
