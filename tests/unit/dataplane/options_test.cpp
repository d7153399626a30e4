// hermes' command line: standalone and managed mode, and what is refused with which message.
#include <gtest/gtest.h>

#include "dataplane/server/options.h"

namespace hermes::dataplane {
namespace {

Result<Options> Parse(std::vector<std::string> args) { return ParseOptions(args); }

TEST(OptionsTest, GoStyleConfigFlagIsAccepted) {
  auto p = Parse({"-config", "c.yaml", "--workers", "2"});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->config_path, "c.yaml");
  EXPECT_EQ(p->workers, 2u);
}

TEST(OptionsTest, MaxConfigBytesIsUnsetUntilGivenAndMustBeABoundedCount) {
  EXPECT_EQ(Parse({"-config", "c.yaml"})->max_config_bytes, std::nullopt);
  EXPECT_EQ(Parse({"-config", "c.yaml", "--max-config-bytes", "6000000"})->max_config_bytes,
            6000000u);
  EXPECT_EQ(Parse({"-config", "c.yaml", "--max-config-bytes=0"}).error(),
            "--max-config-bytes: \"0\" is not a number of bytes from 1 to 1073741824");
  EXPECT_EQ(Parse({"-config", "c.yaml", "--max-config-bytes", "2GiB"}).error(),
            "--max-config-bytes: \"2GiB\" is not a number of bytes from 1 to 1073741824");
}

TEST(OptionsTest, ManagedModeTakesNodeGroupLabelsCacheAndOverrides) {
  auto p = Parse({"--control-plane", "cp:9090", "--node-id", "web-1", "--group", "edge", "--label",
                  "zone=a", "--label=tier=front", "--cache-dir", "/var/cache/hermes", "--listen",
                  "127.0.0.1:8080", "--admin-listen", "127.0.0.1:8081", "--token-file", "/t"});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->control_plane, "cp:9090");
  EXPECT_EQ(p->node_id, "web-1");
  EXPECT_EQ(p->group, "edge");
  ASSERT_EQ(p->labels.size(), 2u);
  EXPECT_EQ(p->labels[1], (std::pair<std::string, std::string>{"tier", "front"}));
  EXPECT_EQ(p->cache_dir, "/var/cache/hermes");
  EXPECT_EQ(p->listen, "127.0.0.1:8080");
  EXPECT_EQ(p->admin_listen, "127.0.0.1:8081");
  EXPECT_EQ(p->token_file, "/t");
}

TEST(OptionsTest, CacheDirDefaultsToHermesCache) {
  EXPECT_EQ(Parse({"--control-plane", "cp:9090", "--node-id", "n"})->cache_dir, "./hermes-cache");
}

TEST(OptionsTest, ManagedModeNeedsANodeId) {
  EXPECT_EQ(Parse({"--control-plane", "cp:9090"}).error(), "--control-plane needs --node-id ID");
}

TEST(OptionsTest, ConfigFileAndControlPlaneExcludeEachOther) {
  EXPECT_EQ(Parse({"-config", "c.yaml", "--control-plane", "cp:9090", "--node-id", "n"}).error(),
            "-config and --control-plane exclude each other");
}

TEST(OptionsTest, LabelMustBeKeyEqualsValue) {
  EXPECT_EQ(Parse({"--control-plane", "cp:9090", "--node-id", "n", "--label", "zone"}).error(),
            "--label: \"zone\" is not key=value");
}

TEST(OptionsTest, NeitherConfigNorControlPlaneIsAnError) {
  EXPECT_EQ(Parse({"--workers", "1"}).error(), "missing -config FILE (or --control-plane HOST:PORT)");
}

TEST(OptionsTest, EverySpellingOfTheConfigFlagIsAccepted) {
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"-config", "c.yaml"}, {"--config", "c.yaml"}, {"-config=c.yaml"}, {"--config=c.yaml"}, {"-c", "c.yaml"}}) {
    auto p = Parse(args);
    ASSERT_TRUE(p.ok()) << args[0] << ": " << p.error();
    EXPECT_EQ(p->config_path, "c.yaml") << args[0];
  }
}

TEST(OptionsTest, GoStyleSingleDashWorksForEveryLongFlag) {
  auto p = Parse({"-control-plane", "cp:9090", "-node-id", "n", "-label", "a=b", "-log-level", "debug"});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->control_plane, "cp:9090");
  EXPECT_EQ(p->node_id, "n");
  EXPECT_EQ(p->log_level, "debug");
  ASSERT_EQ(p->labels.size(), 1u);
}

TEST(OptionsTest, RepeatedLabelsAreAllKeptInOrderAndAValueMayHoldAnEqualsSign) {
  auto p = Parse({"--control-plane", "cp:9090", "--node-id", "n", "--label", "zone=a", "--label", "x=1=2"});
  ASSERT_TRUE(p.ok()) << p.error();
  ASSERT_EQ(p->labels.size(), 2u);
  EXPECT_EQ(p->labels[0], (std::pair<std::string, std::string>{"zone", "a"}));
  EXPECT_EQ(p->labels[1], (std::pair<std::string, std::string>{"x", "1=2"}));
}

TEST(OptionsTest, AFlagGivenTwiceTakesTheLastValue) {
  EXPECT_EQ(Parse({"-config", "a.yaml", "-config", "b.yaml"})->config_path, "b.yaml");
}

TEST(OptionsTest, AMisspelledLogLevelIsRefusedNamingTheAllowedValues) {
  EXPECT_EQ(Parse({"-config", "c.yaml", "--log-level", "debgu"}).error(),
            "--log-level: \"debgu\" is not one of trace, debug, info, warn, error");
  EXPECT_EQ(Parse({"-config", "c.yaml", "--log-level", "warn"})->log_level, "warn");
}

TEST(OptionsTest, AnUnknownFlagIsRefusedAsTheUserWroteIt) {
  EXPECT_EQ(Parse({"-config", "c.yaml", "--bogus"}).error(), "unknown argument \"--bogus\"");
  EXPECT_EQ(Parse({"-config", "c.yaml", "-bogus"}).error(), "unknown argument \"-bogus\"");
  EXPECT_EQ(Parse({"-config", "c.yaml", "stray"}).error(), "unknown argument \"stray\"");
}

TEST(OptionsTest, AFlagWithoutItsValueSaysSo) {
  EXPECT_EQ(Parse({"-config"}).error(), "--config needs a value");
  EXPECT_EQ(Parse({"-config", "c.yaml", "--workers"}).error(), "--workers needs a value");
}

TEST(OptionsTest, WorkersMustBeFrom1To256) {
  EXPECT_EQ(Parse({"-config", "c.yaml", "--workers", "0"}).error(),
            "--workers: \"0\" is not a number from 1 to 256");
  EXPECT_EQ(Parse({"-config", "c.yaml", "--workers", "257"}).error(),
            "--workers: \"257\" is not a number from 1 to 256");
  EXPECT_EQ(Parse({"-config", "c.yaml", "--workers=256"})->workers, 256u);
}

TEST(OptionsTest, HelpAndVersionNeedNoConfig) {
  EXPECT_TRUE(Parse({"--help"}).ok());
  EXPECT_TRUE(Parse({"--help"})->show_help);
  EXPECT_TRUE(Parse({"-h"})->show_help);
  EXPECT_TRUE(Parse({"--version"})->show_version);
  EXPECT_TRUE(Parse({"-version"})->show_version);
}

TEST(OptionsTest, ValidateNeedsAConfigFile) {
  auto p = Parse({"--validate", "-config", "c.yaml"});
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_TRUE(p->validate);
  EXPECT_EQ(Parse({"--validate", "--control-plane", "cp:1", "--node-id", "n"}).error(),
            "--validate needs -config FILE");
}

TEST(OptionsTest, UsageNamesManagedMode) {
  EXPECT_NE(UsageText().find("--control-plane HOST:PORT --node-id ID"), std::string::npos);
}

}  // namespace
}  // namespace hermes::dataplane
