// MergeConfigString (hermesctl apply --merge): a partial config merged into the fleet's version by
// resource name, then defaulted and validated whole like any config.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <google/protobuf/util/message_differencer.h>

#include "hermes/common/config.h"
#include "hermes/common/yaml_writer.h"

namespace hermes::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr std::string_view kBase = R"(
listeners: [ { name: main, address: "127.0.0.1:8080" } ]
clusters:
  - { name: web, endpoints: [ { address: "10.0.0.1:80" } ] }
  - { name: api, endpoints: [ { address: "10.0.0.2:80" } ] }
  - { name: old, endpoints: [ { address: "10.0.0.3:80" } ] }
routes:
  - { name: api, match: { prefix: /api }, cluster: api }
  - { name: old, match: { prefix: /old }, cluster: old }
  - { name: all, match: { prefix: / }, cluster: web }
)";

v1::Config Load(std::string_view yaml) {
  LoadResult loaded = LoadConfigString(yaml, "base.yaml");
  EXPECT_THAT(loaded.errors, IsEmpty());
  return loaded.config;
}

std::vector<std::string> ErrorsOf(const MergeResult& result) {
  std::vector<std::string> errors;
  for (const ConfigError& error : result.merged.errors) errors.push_back(error.ToString());
  return errors;
}

MergeResult Merge(std::string_view fragment, const std::vector<std::string>& remove = {}) {
  return MergeConfigString(Load(kBase), fragment, "part.yaml", remove, "v7");
}

std::vector<std::string> Names(const google::protobuf::RepeatedPtrField<v1::Cluster>& clusters) {
  std::vector<std::string> names;
  for (const auto& c : clusters) names.push_back(c.name());
  return names;
}

std::vector<std::string> Names(const google::protobuf::RepeatedPtrField<v1::Route>& routes) {
  std::vector<std::string> names;
  for (const auto& r : routes) names.push_back(r.name());
  return names;
}

TEST(ConfigMergeTest, AMergedClusterIsWhatTheWholeDocumentWithThatChangeLoadsTo) {
  const MergeResult merged = Merge("clusters: [ { name: api, endpoints: [ { address: \"10.0.9.9:81\" } ] } ]\n");
  ASSERT_THAT(ErrorsOf(merged), IsEmpty());
  std::string whole(kBase);
  whole.replace(whole.find("10.0.0.2:80"), 11, "10.0.9.9:81");
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(merged.merged.config, Load(whole)))
      << ToYaml(merged.merged.config);
}

TEST(ConfigMergeTest, AReplacedClusterKeepsItsPlaceAndANewOneGoesLast) {
  const MergeResult merged = Merge(R"(
clusters:
  - { name: extra, endpoints: [ { address: "10.0.0.4:80" } ] }
  - { name: api, lb_policy: least_request, endpoints: [ { address: "10.0.0.2:80" } ] }
)");
  ASSERT_THAT(ErrorsOf(merged), IsEmpty());
  EXPECT_THAT(Names(merged.merged.config.clusters()), ElementsAre("web", "api", "old", "extra"));
  EXPECT_EQ(merged.merged.config.clusters(1).lb_policy(), v1::LEAST_REQUEST);
  EXPECT_THAT(Names(merged.merged.config.routes()), ElementsAre("api", "old", "all"));
}

TEST(ConfigMergeTest, AMergedEntryGetsTheDefaults) {
  const MergeResult merged = Merge("clusters: [ { name: extra, endpoints: [ { address: \"10.0.0.4:80\" } ] } ]\n");
  ASSERT_THAT(ErrorsOf(merged), IsEmpty());
  const v1::Cluster& extra = merged.merged.config.clusters(3);
  EXPECT_EQ(extra.lb_policy(), v1::ROUND_ROBIN);
  EXPECT_EQ(extra.connect_timeout().seconds(), 5);
  EXPECT_EQ(extra.endpoints(0).weight(), 1u);
}

TEST(ConfigMergeTest, ANewRouteGoesAfterTheOthersAndAReplacedOneStaysInPlace) {
  // Without the catch-all, a new route is reachable at the end.
  const MergeResult merged = Merge(R"(
routes:
  - { name: new, match: { prefix: /new }, cluster: api }
  - { name: api, match: { prefix: /v2/api }, cluster: api }
)", {"routes/all"});
  ASSERT_THAT(ErrorsOf(merged), IsEmpty());
  EXPECT_THAT(Names(merged.merged.config.routes()), ElementsAre("api", "old", "new"));
  EXPECT_EQ(merged.merged.config.routes(0).match().prefix(), "/v2/api");
}

TEST(ConfigMergeTest, ANewRouteACatchAllBeforeItWouldTakeEveryRequestOfIsRefused) {
  const MergeResult merged = Merge("routes:\n  - { name: new, match: { prefix: /new }, cluster: api }\n");
  ASSERT_EQ(merged.merged.errors.size(), 1u) << ::testing::PrintToString(ErrorsOf(merged));
  EXPECT_EQ(merged.merged.errors[0].path, "routes[0]");
  EXPECT_THAT(merged.merged.errors[0].message,
              ::testing::HasSubstr("\"new\" would go last, after \"all\" (routes[2] in v7)"));
  EXPECT_EQ(merged.merged.errors[0].location.rfind("part.yaml:2:", 0), 0u) << merged.merged.errors[0].location;
  // A catch-all of another host does not take it; one of the same host does.
  const v1::Config hosts = Load(R"(
clusters: [ { name: web, endpoints: [ { address: "10.0.0.1:80" } ] } ]
routes: [ { name: a, match: { host: a.example.com }, cluster: web } ]
)");
  EXPECT_TRUE(MergeConfigString(hosts, "routes: [ { name: b, match: { host: b.example.com, prefix: /x }, cluster: web } ]\n",
                                "part.yaml", {}, "v7")
                  .merged.ok());
  EXPECT_FALSE(MergeConfigString(hosts, "routes: [ { name: b, match: { host: a.example.com, prefix: /x }, cluster: web } ]\n",
                                 "part.yaml", {}, "v7")
                   .merged.ok());
}

TEST(ConfigMergeTest, RemoveTakesResourcesOutAndTheRestStays) {
  const MergeResult merged = Merge("", {"routes/old", "clusters/old"});
  ASSERT_THAT(ErrorsOf(merged), IsEmpty());
  EXPECT_THAT(Names(merged.merged.config.clusters()), ElementsAre("web", "api"));
  EXPECT_THAT(Names(merged.merged.config.routes()), ElementsAre("api", "all"));
  EXPECT_THAT(Names(merged.replaced.clusters()), ElementsAre("old"));
  EXPECT_THAT(merged.added.clusters(), IsEmpty());
}

TEST(ConfigMergeTest, TheDiffPartsHoldOnlyWhatTheMergeTouched) {
  const MergeResult merged = Merge("clusters: [ { name: api, endpoints: [ { address: \"10.0.9.9:81\" } ] } ]\n");
  ASSERT_THAT(ErrorsOf(merged), IsEmpty());
  EXPECT_THAT(Names(merged.replaced.clusters()), ElementsAre("api"));
  EXPECT_EQ(merged.replaced.clusters(0).endpoints(0).address(), "10.0.0.2:80");
  EXPECT_THAT(Names(merged.added.clusters()), ElementsAre("api"));
  EXPECT_EQ(merged.added.clusters(0).endpoints(0).address(), "10.0.9.9:81");
  EXPECT_THAT(merged.added.routes(), IsEmpty());
  EXPECT_THAT(merged.added.listeners(), IsEmpty());
}

TEST(ConfigMergeTest, RemovingAClusterARouteStillNamesIsAnErrorPlacedInTheBase) {
  const MergeResult merged = Merge("", {"clusters/old"});
  ASSERT_EQ(merged.merged.errors.size(), 1u) << ::testing::PrintToString(ErrorsOf(merged));
  EXPECT_EQ(merged.merged.errors[0].location, "v7");
  EXPECT_EQ(merged.merged.errors[0].path, "routes[1].cluster");
  EXPECT_THAT(merged.merged.errors[0].message, ::testing::HasSubstr("no cluster named \"old\""));
}

TEST(ConfigMergeTest, AnErrorInAMergedEntryIsPlacedInTheFragment) {
  // The bad entry is new: merged index 3, fragment index 1.
  const MergeResult merged = Merge(R"(clusters:
  - { name: api, endpoints: [ { address: "10.0.0.5:80" } ] }
  - name: extra
    endpoints: []
)");
  ASSERT_EQ(merged.merged.errors.size(), 1u) << ::testing::PrintToString(ErrorsOf(merged));
  EXPECT_EQ(merged.merged.errors[0].path, "clusters[1].endpoints");
  EXPECT_EQ(merged.merged.errors[0].location.rfind("part.yaml:4:", 0), 0u) << merged.merged.errors[0].location;
}

TEST(ConfigMergeTest, AnErrorInAnEntryOfTheBaseHasItsIndexInTheBase) {
  // Route "old" is routes[1] in v7 and routes[0] once "api" is removed.
  const MergeResult merged = Merge("", {"routes/api", "clusters/old"});
  ASSERT_EQ(merged.merged.errors.size(), 1u) << ::testing::PrintToString(ErrorsOf(merged));
  EXPECT_EQ(merged.merged.errors[0].path, "routes[1].cluster");
  EXPECT_EQ(merged.merged.errors[0].location, "v7");
}

TEST(ConfigMergeTest, TheMergedConfigIsHeldToTheDocumentSizeLimit) {
  DocumentLimits limits;
  limits.max_bytes = 400;
  std::string fragment = "clusters:\n";
  for (int i = 0; i < 4; ++i)
    fragment += "  - { name: c" + std::to_string(i) + ", endpoints: [ { address: \"10.0.0.1:80\" } ] }\n";
  ASSERT_LT(fragment.size(), limits.max_bytes);
  const MergeResult merged = MergeConfigString(Load(kBase), fragment, "part.yaml", {}, "v7", limits);
  ASSERT_EQ(merged.merged.errors.size(), 1u) << ::testing::PrintToString(ErrorsOf(merged));
  EXPECT_THAT(merged.merged.errors[0].message, ::testing::HasSubstr("-byte limit (--max-config-bytes)"));
}

TEST(ConfigMergeTest, RemovingTheLastListenerShowsTheDefaultOneInTheDiff) {
  const MergeResult merged = Merge("", {"listeners/main"});
  ASSERT_THAT(ErrorsOf(merged), IsEmpty());
  ASSERT_EQ(merged.added.listeners_size(), 1);
  EXPECT_EQ(merged.added.listeners(0).address(), ":8080");
  ASSERT_EQ(merged.replaced.listeners_size(), 1);
  EXPECT_EQ(merged.replaced.listeners(0).name(), "main");
}

TEST(ConfigMergeTest, ADocumentOfCommentsOnlyIsAnEmptyFragment) {
  const MergeResult merged = Merge("# nothing but\n---\n", {"routes/old"});
  ASSERT_THAT(ErrorsOf(merged), IsEmpty());
  EXPECT_THAT(Names(merged.merged.config.routes()), ElementsAre("api", "all"));
}

TEST(ConfigMergeTest, AnEntryWithoutANameIsRefusedAtItsPosition) {
  const MergeResult merged = Merge("routes:\n  - { match: { prefix: /x }, cluster: api }\n");
  ASSERT_EQ(merged.merged.errors.size(), 1u);
  EXPECT_EQ(merged.merged.errors[0].path, "routes[0].name");
  EXPECT_THAT(merged.merged.errors[0].message, ::testing::HasSubstr("required in a merge"));
  EXPECT_EQ(merged.merged.errors[0].location.rfind("part.yaml:2:", 0), 0u) << merged.merged.errors[0].location;
}

TEST(ConfigMergeTest, TheSameNameTwiceInTheFragmentIsRefused) {
  const MergeResult merged = Merge(R"(clusters:
  - { name: api, endpoints: [ { address: "10.0.0.5:80" } ] }
  - { name: api, endpoints: [ { address: "10.0.0.6:80" } ] }
)");
  ASSERT_EQ(merged.merged.errors.size(), 1u);
  EXPECT_EQ(merged.merged.errors[0].path, "clusters[1].name");
  EXPECT_THAT(merged.merged.errors[0].message, ::testing::HasSubstr("also clusters[0]"));
}

TEST(ConfigMergeTest, RemoveNamesMustExistBeWellFormedAndNotRepeat) {
  const MergeResult merged =
      Merge("", {"clusters/nope", "cluster/api", "routes/", "routes/api", "routes/api"});
  EXPECT_THAT(ErrorsOf(merged),
              ElementsAre("remove[1]: \"cluster/api\": want clusters/NAME, routes/NAME or listeners/NAME",
                          "remove[2]: \"routes/\": want clusters/NAME, routes/NAME or listeners/NAME",
                          "remove[4]: \"routes/api\" is named twice",
                          "remove[0]: no cluster named \"nope\" in v7"));
}

TEST(ConfigMergeTest, AnEntryBothMergedAndRemovedIsRefused) {
  const MergeResult merged =
      Merge("clusters: [ { name: old, endpoints: [ { address: \"10.0.0.5:80\" } ] } ]\n", {"clusters/old"});
  ASSERT_EQ(merged.merged.errors.size(), 1u);
  EXPECT_EQ(merged.merged.errors[0].path, "clusters[0].name");
  EXPECT_THAT(merged.merged.errors[0].message, ::testing::HasSubstr("also removed"));
}

TEST(ConfigMergeTest, AdminAndTheStickySecretAreNotMerged) {
  const MergeResult merged = Merge("admin: { address: off }\nsticky_secret: \"0123456789abcdef0123\"\n");
  ASSERT_EQ(merged.merged.errors.size(), 2u);
  EXPECT_EQ(merged.merged.errors[0].path, "admin");
  EXPECT_EQ(merged.merged.errors[1].path, "sticky_secret");
}

TEST(ConfigMergeTest, TheOriginalHermesFormatIsAppliedWholeNotMerged) {
  const MergeResult merged = Merge("backends: [ { address: \"localhost:9001\" } ]\n");
  ASSERT_EQ(merged.merged.errors.size(), 1u);
  EXPECT_THAT(merged.merged.errors[0].message, ::testing::HasSubstr("original Hermes format"));
}

TEST(ConfigMergeTest, ABlankDocumentWithNothingToRemoveIsRefused) {
  EXPECT_THAT(ErrorsOf(Merge("  \n")),
              ElementsAre("nothing to merge: the document names no listener, route or cluster and "
                          "nothing is removed"));
}

TEST(ConfigMergeTest, ASyntaxErrorIsPlacedAndNothingIsMerged) {
  const MergeResult merged = Merge("clusters: [ { name: api\n");
  ASSERT_FALSE(merged.merged.ok());
  EXPECT_EQ(merged.merged.errors[0].location.rfind("part.yaml:", 0), 0u) << merged.merged.errors[0].location;
}

TEST(ConfigMergeTest, IntoNoVersionAtAllAMergeIsAWholeConfigWithItsDefaults) {
  const MergeResult merged = MergeConfigString(
      v1::Config{}, "clusters: [ { name: web, endpoints: [ { address: \"10.0.0.1:80\" } ] } ]\n"
                    "routes: [ { name: all, match: { prefix: / }, cluster: web } ]\n",
      "part.yaml", {}, "(none)");
  ASSERT_THAT(ErrorsOf(merged), IsEmpty());
  ASSERT_EQ(merged.merged.config.listeners_size(), 1);  // the default listener
  EXPECT_EQ(merged.merged.config.admin().address(), "127.0.0.1:8081");
}

TEST(ConfigMergeTest, TheDocumentLimitsHoldForAFragment) {
  DocumentLimits limits;
  limits.max_nodes = 10;
  std::string fragment = "clusters:\n";
  for (int i = 0; i < 10; ++i)
    fragment += "  - { name: c" + std::to_string(i) + ", endpoints: [ { address: \"10.0.0.1:80\" } ] }\n";
  const MergeResult merged = MergeConfigString(Load(kBase), fragment, "part.yaml", {}, "v7", limits);
  ASSERT_FALSE(merged.merged.ok());
  EXPECT_THAT(merged.merged.errors[0].message, ::testing::HasSubstr("values, lists and maps"));
}

}  // namespace
}  // namespace hermes::config
