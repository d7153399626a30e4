// hermes' command line: standalone and managed mode, and what is refused with which message.
#include <gtest/gtest.h>

#include "dataplane/server/options.h"

namespace hermes::dataplane {
namespace {

ParsedOptions Parse(std::vector<std::string> args) { return ParseOptions(args); }

TEST(OptionsTest, GoStyleConfigFlagIsAccepted) {
  auto p = Parse({"-config", "c.yaml", "--workers", "2"});
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.options.config_path, "c.yaml");
  EXPECT_EQ(p.options.workers, 2u);
}

TEST(OptionsTest, MaxConfigBytesIsUnsetUntilGivenAndMustBeABoundedCount) {
  EXPECT_EQ(Parse({"-config", "c.yaml"}).options.max_config_bytes, std::nullopt);
  EXPECT_EQ(Parse({"-config", "c.yaml", "--max-config-bytes", "6000000"}).options.max_config_bytes,
            6000000u);
  EXPECT_EQ(Parse({"-config", "c.yaml", "--max-config-bytes=0"}).error,
            "--max-config-bytes: \"0\" is not a number of bytes from 1 to 1073741824");
  EXPECT_EQ(Parse({"-config", "c.yaml", "--max-config-bytes", "2GiB"}).error,
            "--max-config-bytes: \"2GiB\" is not a number of bytes from 1 to 1073741824");
}

TEST(OptionsTest, ManagedModeTakesNodeGroupLabelsCacheAndOverrides) {
  auto p = Parse({"--control-plane", "cp:9090", "--node-id", "web-1", "--group", "edge", "--label",
                  "zone=a", "--label=tier=front", "--cache-dir", "/var/cache/hermes", "--listen",
                  "127.0.0.1:8080", "--admin-listen", "127.0.0.1:8081", "--token-file", "/t"});
  ASSERT_EQ(p.error, "");
  EXPECT_EQ(p.options.control_plane, "cp:9090");
  EXPECT_EQ(p.options.node_id, "web-1");
  EXPECT_EQ(p.options.group, "edge");
  ASSERT_EQ(p.options.labels.size(), 2u);
  EXPECT_EQ(p.options.labels[1], (std::pair<std::string, std::string>{"tier", "front"}));
  EXPECT_EQ(p.options.cache_dir, "/var/cache/hermes");
  EXPECT_EQ(p.options.listen, "127.0.0.1:8080");
  EXPECT_EQ(p.options.admin_listen, "127.0.0.1:8081");
  EXPECT_EQ(p.options.token_file, "/t");
}

TEST(OptionsTest, CacheDirDefaultsToHermesCache) {
  EXPECT_EQ(Parse({"--control-plane", "cp:9090", "--node-id", "n"}).options.cache_dir, "./hermes-cache");
}

TEST(OptionsTest, ManagedModeNeedsANodeId) {
  EXPECT_EQ(Parse({"--control-plane", "cp:9090"}).error, "--control-plane needs --node-id ID");
}

TEST(OptionsTest, ConfigFileAndControlPlaneExcludeEachOther) {
  EXPECT_EQ(Parse({"-config", "c.yaml", "--control-plane", "cp:9090", "--node-id", "n"}).error,
            "-config and --control-plane exclude each other");
}

TEST(OptionsTest, LabelMustBeKeyEqualsValue) {
  EXPECT_EQ(Parse({"--control-plane", "cp:9090", "--node-id", "n", "--label", "zone"}).error,
            "--label: \"zone\" is not key=value");
}

TEST(OptionsTest, NeitherConfigNorControlPlaneIsAnError) {
  EXPECT_EQ(Parse({"--workers", "1"}).error, "missing -config FILE (or --control-plane HOST:PORT)");
}

TEST(OptionsTest, UsageNamesManagedMode) {
  EXPECT_NE(UsageText().find("--control-plane HOST:PORT --node-id ID"), std::string::npos);
}

}  // namespace
}  // namespace hermes::dataplane
