// LoadConfigFile / LoadConfigString: the whole path from text to a valid config or located errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "hermes/common/config.h"

namespace hermes::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string SourcePath(std::string_view relative) {
  return std::string(HERMES_SOURCE_DIR) + "/" + std::string(relative);
}

std::vector<std::string> ErrorsOf(const LoadResult& result) {
  std::vector<std::string> errors;
  for (const ConfigError& error : result.errors) errors.push_back(error.ToString());
  return errors;
}

TEST(ConfigLoadTest, LoadsTheShippedOriginalFormatFile) {
  const LoadResult result = LoadConfigFile(SourcePath("config/hermes.yaml"));
  EXPECT_THAT(ErrorsOf(result), IsEmpty());
  EXPECT_EQ(result.format, SourceFormat::kLegacy);
  ASSERT_EQ(result.config.clusters_size(), 1);
  ASSERT_EQ(result.config.clusters(0).endpoints_size(), 2);
  EXPECT_EQ(result.config.clusters(0).endpoints(0).address(), "localhost:9001");
  EXPECT_EQ(result.config.clusters(0).endpoints(1).address(), "localhost:9002");
}

TEST(ConfigLoadTest, LoadsTheShippedNativeExample) {
  const LoadResult result = LoadConfigFile(SourcePath("config/example.yaml"));
  EXPECT_THAT(ErrorsOf(result), IsEmpty());
  EXPECT_EQ(result.format, SourceFormat::kNative);
  const v1::Config& config = result.config;
  ASSERT_EQ(config.listeners_size(), 1);
  EXPECT_EQ(config.listeners(0).address(), ":8080");
  EXPECT_EQ(config.admin().address(), "127.0.0.1:8081");
  ASSERT_EQ(config.clusters_size(), 2);
  EXPECT_EQ(config.clusters(0).name(), "web");
  EXPECT_EQ(config.clusters(0).endpoints(0).weight(), 2u);
  EXPECT_EQ(config.clusters(0).endpoints(1).weight(), 1u);
  EXPECT_EQ(config.clusters(1).name(), "api");
  EXPECT_EQ(config.clusters(1).endpoints(0).address(), "127.0.0.1:9003");
  ASSERT_GE(config.routes_size(), 4);
  EXPECT_EQ(config.routes(0).match().host(), "api.example.com");
  EXPECT_EQ(config.routes(1).prefix_rewrite(), "/");
  EXPECT_EQ(config.routes(config.routes_size() - 1).cluster(), "web");
}

TEST(ConfigLoadTest, ReadsNativeFormatAndAppliesDefaults) {
  const LoadResult result = LoadConfigString(R"(
clusters: [ { name: web, endpoints: [ { address: "127.0.0.1:9001" } ] } ]
routes: [ { cluster: web } ]
)");
  EXPECT_THAT(ErrorsOf(result), IsEmpty());
  EXPECT_EQ(result.format, SourceFormat::kNative);
  EXPECT_EQ(result.config.listeners(0).address(), ":8080");
  EXPECT_EQ(result.config.clusters(0).health_check().path(), "/health");
}

TEST(ConfigLoadTest, NativeFileWithoutAdminPutsAdminOnLoopback) {
  const LoadResult result = LoadConfigString(R"(
clusters: [ { name: web, endpoints: [ { address: "127.0.0.1:9001" } ] } ]
routes: [ { cluster: web } ]
)");
  EXPECT_THAT(ErrorsOf(result), IsEmpty());
  EXPECT_EQ(result.config.admin().address(), "127.0.0.1:8081");
  EXPECT_EQ(result.config.admin().max_connections(), 64u);
}

TEST(ConfigLoadTest, AdminAddressWrittenOutOnEveryInterfaceStays) {
  const LoadResult result = LoadConfigString("admin: { address: \":8081\" }\n");
  EXPECT_THAT(ErrorsOf(result), IsEmpty());
  EXPECT_EQ(result.config.admin().address(), ":8081");
}

TEST(ConfigLoadTest, PlacesValidationErrorsAtTheirYamlPosition) {
  const LoadResult result = LoadConfigString(R"(clusters:
  - name: web
    endpoints:
      - address: "127.0.0.1:9001"
      - address: "localhost"
    health_check:
      interval: 0s
)",
                                             "web.yaml");
  EXPECT_THAT(ErrorsOf(result),
              ElementsAre("web.yaml:5:18: clusters[0].endpoints[1].address: \"localhost\" is "
                          "missing a port (expected host:port)",
                          "web.yaml:7:17: clusters[0].health_check.interval: must be > 0 (got 0s)",
                          "web.yaml:6:5: clusters[0].health_check.timeout: 2s must be <= "
                          "interval (0s)"));
}

TEST(ConfigLoadTest, PlacesErrorsOnDefaultedFieldsAtTheNearestWrittenParent) {
  const LoadResult result = LoadConfigString("routes:\n  - match: { prefix: / }\n", "r.yaml");
  EXPECT_THAT(ErrorsOf(result),
              ElementsAre("r.yaml:2:5: routes[0].cluster: must be set (expected the name of a "
                          "cluster)"));
}

TEST(ConfigLoadTest, LeavesLocationEmptyForWhatTheFileNeverMentioned) {
  const LoadResult result = LoadConfigString("admin: { address: \":8080\" }");
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_EQ(result.errors[0].path, "admin.address");
  EXPECT_EQ(result.errors[0].location, "<config>:1:19");
}

TEST(ConfigLoadTest, StopsAfterReadingErrorsWithoutValidating) {
  const LoadResult result = LoadConfigString("clusters: [ { name: web, endpoint: [] } ]");
  EXPECT_THAT(ErrorsOf(result),
              ElementsAre("<config>:1:26: clusters[0]: unknown key 'endpoint'; did you mean "
                          "'endpoints'?"));
}

TEST(ConfigLoadTest, RejectsEmptyFile) {
  for (std::string_view text : {"", "# only a comment\n", "---\n"}) {
    EXPECT_THAT(ErrorsOf(LoadConfigString(text, "e.yaml")),
                ElementsAre(HasSubstr("the config is empty (expected a map with listeners")))
        << text;
  }
}

TEST(ConfigLoadTest, RejectsTopLevelThatIsNotAMap) {
  EXPECT_THAT(ErrorsOf(LoadConfigString("- a\n- b\n", "l.yaml")),
              ElementsAre(HasSubstr("l.yaml:1:1: the top level is a list (expected a map")));
  EXPECT_THAT(ErrorsOf(LoadConfigString("hello", "s.yaml")),
              ElementsAre(HasSubstr("the top level is a single value")));
}

TEST(ConfigLoadTest, ReportsYamlSyntaxErrors) {
  const LoadResult result = LoadConfigString("clusters: [\n", "bad.yaml");
  ASSERT_THAT(result.errors, SizeIs(1));
  EXPECT_THAT(result.errors[0].ToString(), ::testing::StartsWith("bad.yaml:"));
  EXPECT_THAT(result.errors[0].message, HasSubstr("invalid YAML"));
}

TEST(ConfigLoadTest, NamesTheFileAndReasonWhenUnreadable) {
  const LoadResult result = LoadConfigFile("/nonexistent/hermes.yaml");
  EXPECT_THAT(ErrorsOf(result),
              ElementsAre("cannot read config file \"/nonexistent/hermes.yaml\": No such file or "
                          "directory"));
}

TEST(ConfigLoadTest, ReportsADirectoryAsUnreadable) {
  const LoadResult result = LoadConfigFile(SourcePath("config"));
  EXPECT_THAT(ErrorsOf(result), ElementsAre(HasSubstr("Is a directory")));
}

TEST(ConfigLoadTest, UsesTheFilePathInPositions) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() /
      ("hermes_config_load_test_" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "admin: { address: nowhere }\n";
  const LoadResult result = LoadConfigFile(path.string());
  std::filesystem::remove(path);
  EXPECT_THAT(ErrorsOf(result),
              ElementsAre(path.string() + ":1:19: admin.address: \"nowhere\" is missing a port "
                                          "(expected host:port, :port or [v6]:port)"));
}

TEST(ConfigErrorTest, JoinsLocationPathAndMessage) {
  EXPECT_EQ(
      (ConfigError{"clusters[1].health_check.interval", "must be > 0", "f.yaml:12:5"}).ToString(),
      "f.yaml:12:5: clusters[1].health_check.interval: must be > 0");
}

TEST(ConfigErrorTest, LeavesOutWhatIsUnknown) {
  EXPECT_EQ((ConfigError{"admin.address", "bad", ""}).ToString(), "admin.address: bad");
  EXPECT_EQ((ConfigError{"", "bad", "f.yaml:1:1"}).ToString(), "f.yaml:1:1: bad");
}

TEST(ConfigLoadTest, NeverThrowsOnGarbage) {
  std::string binary;
  for (int i = 0; i < 1024; ++i) binary.push_back(static_cast<char>(i * 37 % 256));
  for (const std::string& text :
       {binary, std::string(3000, '['), std::string("\t\tclusters:\n\t- x"), std::string("["),
        std::string("server: {listen: [1, {a: b}]}"), std::string("clusters: [[[]]]"),
        std::string("listeners: [ { max_connections: 99999999999999999999999999 } ]")}) {
    LoadResult result;
    EXPECT_NO_THROW(result = LoadConfigString(text));
    EXPECT_FALSE(result.ok());
  }
}

}  // namespace
}  // namespace hermes::config
