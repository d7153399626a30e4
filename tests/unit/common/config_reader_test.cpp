// The YAML -> protobuf reader: types, enums, durations, unknown keys, paths, positions, bad input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "hermes/common/yaml_reader.h"

namespace hermes::config {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

struct Read {
  v1::Config config;
  YamlReadResult result;
};

Read ReadConfig(std::string_view yaml) {
  Read read;
  read.result = ReadYamlText(yaml, read.config, "test.yaml");
  return read;
}

// The single error reading `yaml` produced, as "location: path: message".
std::string OnlyError(std::string_view yaml) {
  Read read = ReadConfig(yaml);
  EXPECT_THAT(read.result.errors, SizeIs(1)) << yaml;
  return read.result.errors.empty() ? "" : read.result.errors.front().ToString();
}

TEST(ConfigReaderTest, ReadsNestedMessagesAndListsByFieldName) {
  Read read = ReadConfig(R"(
clusters:
  - name: web
    endpoints:
      - address: "127.0.0.1:9001"
      - address: "127.0.0.1:9002"
admin: { address: ":9999" }
)");
  ASSERT_THAT(read.result.errors, IsEmpty());
  ASSERT_EQ(read.config.clusters_size(), 1);
  EXPECT_EQ(read.config.clusters(0).name(), "web");
  ASSERT_EQ(read.config.clusters(0).endpoints_size(), 2);
  EXPECT_EQ(read.config.clusters(0).endpoints(1).address(), "127.0.0.1:9002");
  EXPECT_EQ(read.config.admin().address(), ":9999");
}

TEST(ConfigReaderTest, ReadsListsOfStrings) {
  Read read = ReadConfig("routes: [ { request_headers_to_remove: [x-a, X-B] } ]");
  ASSERT_THAT(read.result.errors, IsEmpty());
  EXPECT_THAT(read.config.routes(0).request_headers_to_remove(),
              ::testing::ElementsAre("x-a", "X-B"));
}

TEST(ConfigReaderTest, AcceptsAnyScalarForAString) {
  Read read = ReadConfig("clusters: [ { name: 123 }, { name: true } ]");
  ASSERT_THAT(read.result.errors, IsEmpty());
  EXPECT_EQ(read.config.clusters(0).name(), "123");
  EXPECT_EQ(read.config.clusters(1).name(), "true");
}

TEST(ConfigReaderTest, RejectsAListForAString) {
  EXPECT_EQ(OnlyError("clusters: [ { name: [a] } ]"),
            "test.yaml:1:21: clusters[0].name: expected a string, got a list");
}

TEST(ConfigReaderTest, ReadsUnsignedIntegers) {
  Read read = ReadConfig("listeners: [ { max_connections: 4294967295, max_request_body: 0 } ]");
  ASSERT_THAT(read.result.errors, IsEmpty());
  EXPECT_EQ(read.config.listeners(0).max_connections(), 4294967295u);
  EXPECT_TRUE(read.config.listeners(0).has_max_request_body());
  EXPECT_EQ(read.config.listeners(0).max_request_body(), 0u);
}

TEST(ConfigReaderTest, ReadsLargeUint64) {
  Read read = ReadConfig("listeners: [ { max_request_body: 18446744073709551615 } ]");
  ASSERT_THAT(read.result.errors, IsEmpty());
  EXPECT_EQ(read.config.listeners(0).max_request_body(), 18446744073709551615u);
}

TEST(ConfigReaderTest, RejectsNegativeNumberForUnsignedField) {
  EXPECT_EQ(OnlyError("listeners: [ { max_connections: -1 } ]"),
            "test.yaml:1:33: listeners[0].max_connections: -1 is out of range "
            "(expected 0..4294967295)");
}

TEST(ConfigReaderTest, RejectsUint32BeyondRangeEvenInExponentForm) {
  EXPECT_EQ(OnlyError("listeners: [ { max_connections: 5e9 } ]"),
            "test.yaml:1:33: listeners[0].max_connections: 5e9 is out of range "
            "(expected 0..4294967295)");
  EXPECT_THAT(OnlyError("listeners: [ { max_connections: 4294967296 } ]"),
              HasSubstr("4294967296 is out of range"));
}

TEST(ConfigReaderTest, RejectsUint64BeyondRange) {
  EXPECT_THAT(OnlyError("listeners: [ { max_request_body: 18446744073709551616 } ]"),
              HasSubstr("18446744073709551616 is out of range (expected 0..18446744073709551615)"));
}

TEST(ConfigReaderTest, AcceptsIntegralExponentForm) {
  Read read = ReadConfig("listeners: [ { max_connections: 1e3 } ]");
  ASSERT_THAT(read.result.errors, IsEmpty());
  EXPECT_EQ(read.config.listeners(0).max_connections(), 1000u);
}

TEST(ConfigReaderTest, RejectsFractionForInteger) {
  EXPECT_THAT(OnlyError("listeners: [ { max_connections: 1.5 } ]"),
              HasSubstr("expected an unsigned integer, got the fraction 1.5"));
}

TEST(ConfigReaderTest, RejectsTextForInteger) {
  EXPECT_THAT(
      OnlyError("listeners: [ { max_connections: lots } ]"),
      HasSubstr("listeners[0].max_connections: expected an unsigned integer, got \"lots\""));
}

TEST(ConfigReaderTest, ReadsBooleans) {
  Read read = ReadConfig(
      "clusters: [ { health_check: { enabled: false }, circuit_breaker: { enabled: True } } ]");
  ASSERT_THAT(read.result.errors, IsEmpty());
  EXPECT_TRUE(read.config.clusters(0).health_check().has_enabled());
  EXPECT_FALSE(read.config.clusters(0).health_check().enabled());
  EXPECT_TRUE(read.config.clusters(0).circuit_breaker().enabled());
}

TEST(ConfigReaderTest, RejectsYesForBoolean) {
  EXPECT_THAT(OnlyError("clusters: [ { health_check: { enabled: yes } } ]"),
              HasSubstr("clusters[0].health_check.enabled: expected true or false, got \"yes\""));
}

TEST(ConfigReaderTest, ReadsEnumNamesIgnoringCaseAndDashes) {
  for (const char* name : {"round_robin", "round-robin", "ROUND_ROBIN", "Round-Robin"}) {
    Read read = ReadConfig(std::string("clusters: [ { lb_policy: ") + name + " } ]");
    ASSERT_THAT(read.result.errors, IsEmpty()) << name;
    EXPECT_EQ(read.config.clusters(0).lb_policy(), v1::ROUND_ROBIN) << name;
  }
  Read read = ReadConfig("clusters: [ { lb_policy: least-request } ]");
  EXPECT_EQ(read.config.clusters(0).lb_policy(), v1::LEAST_REQUEST);
}

TEST(ConfigReaderTest, RejectsUnspecifiedEnumName) {
  EXPECT_THAT(OnlyError("clusters: [ { lb_policy: lb_policy_unspecified } ]"),
              HasSubstr("unknown value \"lb_policy_unspecified\""));
}

TEST(ConfigReaderTest, RejectsUnknownEnumNameListingTheAcceptedOnes) {
  EXPECT_EQ(OnlyError("clusters: [ { lb_policy: fastest } ]"),
            "test.yaml:1:26: clusters[0].lb_policy: unknown value \"fastest\" (expected one of: "
            "round_robin, least_request, random, ring_hash, maglev)");
}

TEST(ConfigReaderTest, RejectsEnumNumber) {
  EXPECT_THAT(OnlyError("clusters: [ { lb_policy: 1 } ]"), HasSubstr("unknown value \"1\""));
}

TEST(ConfigReaderTest, ReadsDurationText) {
  Read read = ReadConfig(R"(
listeners: [ { header_timeout: 1m30s, idle_timeout: 1.5s, drain_timeout: 0 } ]
)");
  ASSERT_THAT(read.result.errors, IsEmpty());
  EXPECT_EQ(read.config.listeners(0).header_timeout().seconds(), 90);
  EXPECT_EQ(read.config.listeners(0).idle_timeout().seconds(), 1);
  EXPECT_EQ(read.config.listeners(0).idle_timeout().nanos(), 500'000'000);
  EXPECT_TRUE(read.config.listeners(0).has_drain_timeout());
  EXPECT_EQ(read.config.listeners(0).drain_timeout().seconds(), 0);
}

TEST(ConfigReaderTest, RejectsBareIntegerDurationAskingForUnit) {
  EXPECT_EQ(OnlyError("listeners: [ { header_timeout: 10 } ]"),
            "test.yaml:1:32: listeners[0].header_timeout: 10 has no unit; add one, e.g. \"10s\" "
            "or \"10ms\"");
}

TEST(ConfigReaderTest, RejectsNegativeDuration) {
  EXPECT_THAT(OnlyError("listeners: [ { header_timeout: -5s } ]"),
              HasSubstr("\"-5s\" is negative (durations must be >= 0)"));
}

TEST(ConfigReaderTest, RejectsMalformedDuration) {
  EXPECT_THAT(OnlyError("listeners: [ { header_timeout: 10 seconds } ]"),
              HasSubstr("\"10 seconds\" is not a duration"));
}

TEST(ConfigReaderTest, RejectsMapForDuration) {
  EXPECT_THAT(OnlyError("listeners: [ { header_timeout: { seconds: 10 } } ]"),
              HasSubstr("expected a duration such as \"10s\", got a map"));
}

TEST(ConfigReaderTest, RejectsScalarForMessage) {
  EXPECT_EQ(OnlyError("admin: on"), "test.yaml:1:8: admin: expected a map, got \"on\"");
}

TEST(ConfigReaderTest, RejectsMapForList) {
  EXPECT_EQ(OnlyError("clusters: { name: web }"),
            "test.yaml:1:11: clusters: expected a list, got a map");
}

TEST(ConfigReaderTest, RejectsEmptyListElement) {
  EXPECT_THAT(OnlyError("clusters:\n  -\n  - name: a\n"),
              HasSubstr("clusters[0]: empty list element"));
}

TEST(ConfigReaderTest, LeavesFieldUnsetForKeyWithoutValue) {
  Read read = ReadConfig("admin:\nlisteners:\n  - max_connections:\n");
  ASSERT_THAT(read.result.errors, IsEmpty());
  EXPECT_FALSE(read.config.has_admin());
  EXPECT_FALSE(read.config.listeners(0).has_max_connections());
}

TEST(ConfigReaderTest, RejectsUnknownKeySuggestingTheNearestKnownOne) {
  EXPECT_EQ(OnlyError("clusters:\n  - name: web\n    helth_check: {}\n"),
            "test.yaml:3:5: clusters[0]: unknown key 'helth_check'; did you mean 'health_check'?");
}

TEST(ConfigReaderTest, SuggestsKeysRegardlessOfCase) {
  EXPECT_THAT(OnlyError("Listeners: []"),
              HasSubstr("unknown key 'Listeners'; did you mean 'listeners'?"));
}

TEST(ConfigReaderTest, RejectsUnknownKeyWithoutSuggestionWhenNothingIsClose) {
  EXPECT_EQ(OnlyError("frobnicate: 1"), "test.yaml:1:1: unknown key 'frobnicate'");
}

TEST(ConfigReaderTest, RejectsDuplicateKey) {
  EXPECT_EQ(OnlyError("admin:\n  address: ':1'\n  address: ':2'\n"),
            "test.yaml:3:3: admin.address: duplicate key 'address' (first at test.yaml:2:3)");
}

TEST(ConfigReaderTest, RejectsNonScalarKey) {
  EXPECT_THAT(OnlyError("{ [a]: 1 }"), HasSubstr("expected a key name, got a list"));
}

TEST(ConfigReaderTest, NamesTheFullFieldPathOfDeepErrors) {
  Read read = ReadConfig(R"(
clusters:
  - name: a
  - name: b
    health_check:
      interval: soon
)");
  ASSERT_THAT(read.result.errors, SizeIs(1));
  EXPECT_EQ(read.result.errors[0].path, "clusters[1].health_check.interval");
  EXPECT_EQ(read.result.errors[0].location, "test.yaml:6:17");
}

TEST(ConfigReaderTest, KeepsCollectingErrorsAfterTheFirst) {
  Read read = ReadConfig(R"(
listeners: [ { max_connections: -1, header_timeout: 5 } ]
clusters: [ { nmae: x, lb_policy: nope } ]
)");
  ASSERT_THAT(read.result.errors, SizeIs(4));
  EXPECT_EQ(read.result.errors[0].path, "listeners[0].max_connections");
  EXPECT_EQ(read.result.errors[1].path, "listeners[0].header_timeout");
  EXPECT_EQ(read.result.errors[2].message, "unknown key 'nmae'; did you mean 'name'?");
  EXPECT_EQ(read.result.errors[3].path, "clusters[0].lb_policy");
}

TEST(ConfigReaderTest, RecordsThePositionOfEveryFieldAndElementRead) {
  Read read = ReadConfig(R"(clusters:
  - name: web
    endpoints:
      - address: "a:1"
)");
  ASSERT_THAT(read.result.errors, IsEmpty());
  const SourceLocations& at = read.result.locations;
  EXPECT_EQ(at.at("clusters"), "test.yaml:1:1");
  EXPECT_EQ(at.at("clusters[0].endpoints"), "test.yaml:3:5");
  EXPECT_EQ(at.at("clusters[0]"), "test.yaml:2:5");
  EXPECT_EQ(at.at("clusters[0].name"), "test.yaml:2:11");
  EXPECT_EQ(at.at("clusters[0].endpoints[0]"), "test.yaml:4:9");
  EXPECT_EQ(at.at("clusters[0].endpoints[0].address"), "test.yaml:4:18");
}

TEST(ConfigReaderTest, FindsTheLocationOfTheNearestRecordedAncestor) {
  SourceLocations locations{{"clusters[0]", "f.yaml:2:5"}, {"clusters", "f.yaml:2:3"}};
  EXPECT_EQ(FindLocation(locations, "clusters[0].health_check.interval"), "f.yaml:2:5");
  EXPECT_EQ(FindLocation(locations, "clusters[3].name"), "f.yaml:2:3");
  EXPECT_EQ(FindLocation(locations, "routes[0]"), "");
}

TEST(ConfigReaderTest, ReportsSyntaxErrorsWithTheirPosition) {
  Read read = ReadConfig("clusters:\n  - name: [web\n");
  ASSERT_THAT(read.result.errors, SizeIs(1));
  EXPECT_THAT(read.result.errors[0].message, HasSubstr("invalid YAML"));
  EXPECT_THAT(read.result.errors[0].location, ::testing::StartsWith("test.yaml:"));
}

TEST(ConfigReaderTest, PointsOutTabIndentation) {
  EXPECT_THAT(OnlyError("admin:\n\taddress: x\n"),
              HasSubstr("this line is indented with a tab; YAML indentation must use spaces"));
}

TEST(ConfigReaderTest, RejectsSeveralDocuments) {
  EXPECT_THAT(OnlyError("admin: {}\n---\nadmin: {}\n"),
              HasSubstr("expected one YAML document, found 2"));
}

TEST(ConfigReaderTest, RejectsNonMapDocument) {
  EXPECT_EQ(OnlyError("- a\n- b\n"), "test.yaml:1:1: expected a map, got a list");
}

TEST(ConfigReaderTest, ReadsEmptyTextAsEmptyMessage) {
  Read read = ReadConfig("");
  EXPECT_THAT(read.result.errors, IsEmpty());
  EXPECT_EQ(read.config.ByteSizeLong(), 0u);
}

TEST(ConfigReaderTest, RefusesAliasesThatMultiplyIntoTooManyValues) {
  std::string yaml = "headers: &h [";
  for (int i = 0; i < 500; ++i) yaml += "a,";
  yaml += "a]\nroutes: [";
  for (int i = 0; i < 500; ++i) yaml += "{ request_headers_to_remove: *h },";
  yaml += "{}]\n";
  v1::Config config;
  // "headers" is not a Config field; the anchor is only there to be aliased. The parser counts
  // each alias as the 501 values it names and stops before the reader starts.
  YamlReadResult result = ReadYamlText(yaml, config, "big.yaml");
  EXPECT_THAT(result.errors,
              ::testing::ElementsAre(::testing::Field(
                  &ConfigError::message, HasSubstr("an alias counts as what it names"))));
}

class ConfigReaderGarbageTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConfigReaderGarbageTest, ReportsErrorsWithoutThrowing) {
  v1::Config config;
  YamlReadResult result;
  EXPECT_NO_THROW(result = ReadYamlText(GetParam(), config, "garbage.yaml"));
  EXPECT_THAT(result.errors, ::testing::Not(IsEmpty()));
  for (const ConfigError& error : result.errors)
    EXPECT_THAT(error.message, ::testing::Not(IsEmpty()));
}

std::string BinaryBytes() {
  std::string bytes;
  for (int i = 0; i < 512; ++i) bytes.push_back(static_cast<char>((i * 131 + 7) % 256));
  return bytes;
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ConfigReaderGarbageTest,
    ::testing::Values(std::string("["), std::string("{"), std::string("]]]"),
                      std::string("admin:\n\taddress: x\n"), std::string("\t- a\n"),
                      std::string("clusters: [ { name: \"x } ]"), std::string(1, '\0') + "abc",
                      BinaryBytes(), std::string(5000, '[') + std::string(5000, ']'),
                      std::string(5000, '{'), std::string("a: &a [*a]"),
                      std::string("*unknown_alias"), std::string("admin: !!binary 123")));

}  // namespace
}  // namespace hermes::config
