// What apply, get config, history, diff and rollback print, as text and as -o json.
#include <gtest/gtest.h>

#include "ctl/render.h"
#include "golden.h"

namespace hermes::ctl {
namespace {

using namespace std::chrono;

constexpr int64_t kMay1Noon = 1714564800000;  // 2024-05-01T12:00:00Z
const system_clock::time_point kNow{milliseconds(kMay1Noon + 180'000)};

v1::ConfigVersion Version(uint64_t id, uint64_t parent, std::string message) {
  v1::ConfigVersion v;
  v.set_id(id);
  v.set_parent(parent);
  v.set_hash("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  v.set_author("ana");
  v.set_message(std::move(message));
  v.set_created_unix_ms(kMay1Noon);
  return v;
}

ApplyArgs Apply(bool dry_run = false) { return ApplyArgs{"fleet.yaml", "", "ana", dry_run}; }

v1::ApplyConfigResponse Refused() {
  v1::ApplyConfigResponse r;
  auto* e = r.add_errors();
  e->set_location("fleet.yaml:12:5");
  e->set_path("clusters[1].health_check.interval");
  e->set_message("must be more than 0s");
  e = r.add_errors();
  e->set_path("routes[0].cluster");
  e->set_message("unknown cluster \"api\"");
  return r;
}

TEST(RenderApplyTest, CreatedPrintsTheNewVersion) {
  v1::ApplyConfigResponse r;
  *r.mutable_version() = Version(7, 6, "");
  r.set_created(true);
  const Rendered out = RenderApply(r, Apply(), OutputFormat::kTable);
  EXPECT_EQ(out.out, "applied: v7\n");
  EXPECT_EQ(out.err, "");
  EXPECT_EQ(out.exit_code, 0);
}

TEST(RenderApplyTest, SameContentPrintsUnchanged) {
  v1::ApplyConfigResponse r;
  *r.mutable_version() = Version(6, 5, "");
  const Rendered out = RenderApply(r, Apply(), OutputFormat::kTable);
  EXPECT_EQ(out.out, "unchanged: v6\n");
  EXPECT_EQ(out.exit_code, 0);
}

TEST(RenderApplyTest, ContentStoredBeforeThatNowBecameTheFleetsPrintsDeployed) {
  v1::ApplyConfigResponse r;
  *r.mutable_version() = Version(7, 6, "");
  r.set_deployed(true);
  r.set_fleet_version(7);
  const Rendered out = RenderApply(r, Apply(), OutputFormat::kTable);
  EXPECT_EQ(out.out, "deployed: v7 (stored before; now every proxy's)\n");
  EXPECT_EQ(out.exit_code, 0);
  const Rendered json = RenderApply(r, Apply(), OutputFormat::kJson);
  EXPECT_NE(json.out.find("\"result\": \"deployed\""), std::string::npos) << json.out;
}

TEST(RenderApplyTest, RefusedPrintsEveryErrorAndFails) {
  const Rendered out = RenderApply(Refused(), Apply(), OutputFormat::kTable);
  EXPECT_EQ(out.out, "");
  EXPECT_EQ(out.err,
            "hermesctl: the control plane refused fleet.yaml (2 errors):\n"
            "fleet.yaml:12:5: clusters[1].health_check.interval: must be more than 0s\n"
            "routes[0].cluster: unknown cluster \"api\"\n");
  EXPECT_EQ(out.exit_code, 1);
}

TEST(RenderApplyTest, AMergeWithoutAFileIsCalledTheMerge) {
  ApplyArgs args;
  args.merge = true;
  args.remove = {"clusters/old"};
  const Rendered out = RenderApply(Refused(), args, OutputFormat::kTable);
  EXPECT_EQ(out.err.rfind("hermesctl: the control plane refused the merge (2 errors):\n", 0), 0u) << out.err;
}

TEST(RenderApplyTest, DryRunPrintsTheDiffAndWhatWouldHappen) {
  v1::ApplyConfigResponse r;
  r.set_created(true);
  r.set_diff("-  timeout: 1s\n+  timeout: 5s");
  const Rendered out = RenderApply(r, Apply(true), OutputFormat::kTable);
  EXPECT_EQ(out.out,
            "-  timeout: 1s\n+  timeout: 5s\n"
            "dry run: fleet.yaml is valid and would become a new version; nothing stored\n");
  EXPECT_EQ(out.exit_code, 0);
}

TEST(RenderApplyTest, DryRunOfTheCurrentContentSaysSo) {
  v1::ApplyConfigResponse r;
  *r.mutable_version() = Version(6, 5, "");
  const Rendered out = RenderApply(r, Apply(true), OutputFormat::kTable);
  EXPECT_EQ(out.out,
            "dry run: fleet.yaml is valid and equals the current version v6; nothing stored\n");
}

TEST(RenderApplyTest, ErrorLineLeavesOutUnknownParts) {
  v1::ConfigError e;
  e.set_message("not YAML");
  EXPECT_EQ(FormatConfigError(e), "not YAML");
  e.set_location("fleet.yaml:1:1");
  EXPECT_EQ(FormatConfigError(e), "fleet.yaml:1:1: not YAML");
}

TEST(RenderApplyTest, JsonOfAnAppliedConfig) {
  v1::ApplyConfigResponse r;
  *r.mutable_version() = Version(7, 6, "raise timeout");
  r.set_created(true);
  r.set_diff("+x\n");
  EXPECT_EQ(RenderApply(r, Apply(), OutputFormat::kJson).out, R"({
  "result": "applied",
  "dry_run": false,
  "staged": false,
  "version": {
    "id": 7,
    "parent": 6,
    "hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "author": "ana",
    "message": "raise timeout",
    "created_at": "2024-05-01T12:00:00.000Z"
  },
  "fleet_version": 0,
  "aborted_rollout": 0,
  "diff": "+x\n",
  "errors": []
}
)");
}

TEST(RenderApplyTest, JsonOfARefusedConfigGoesToStdoutAndFails) {
  const Rendered out = RenderApply(Refused(), Apply(), OutputFormat::kJson);
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.err, "");
  EXPECT_EQ(out.out, R"({
  "result": "refused",
  "dry_run": false,
  "staged": false,
  "version": null,
  "fleet_version": 0,
  "aborted_rollout": 0,
  "diff": "",
  "errors": [
    {
      "location": "fleet.yaml:12:5",
      "path": "clusters[1].health_check.interval",
      "message": "must be more than 0s"
    },
    {
      "location": "",
      "path": "routes[0].cluster",
      "message": "unknown cluster \"api\""
    }
  ]
}
)");
}

TEST(RenderApplyTest, JsonResultOfADryRunThatWouldApply) {
  v1::ApplyConfigResponse r;
  r.set_created(true);
  EXPECT_EQ(RenderApply(r, Apply(true), OutputFormat::kJson).out, R"({
  "result": "would_apply",
  "dry_run": true,
  "staged": false,
  "version": null,
  "fleet_version": 0,
  "aborted_rollout": 0,
  "diff": "",
  "errors": []
}
)");
}

// apply --stage: stored, and the fleet stays where it is until a rollout moves it.
v1::ApplyConfigResponse Staged() {
  v1::ApplyConfigResponse r;
  *r.mutable_version() = Version(13, 12, "new payments cluster");
  r.set_created(true);
  r.set_staged(true);
  r.set_fleet_version(12);
  r.set_diff("+  - name: payments\n");
  return r;
}

ApplyArgs Stage() {
  ApplyArgs a = Apply();
  a.stage = true;
  return a;
}

TEST(RenderApplyTest, StagedTextMatchesGolden) {
  const Rendered out = RenderApply(Staged(), Stage(), OutputFormat::kTable);
  EXPECT_EQ(out.out, Golden("apply-staged.txt"));
  EXPECT_EQ(out.exit_code, 0);
}

TEST(RenderApplyTest, StagedJsonMatchesGolden) {
  EXPECT_EQ(RenderApply(Staged(), Stage(), OutputFormat::kJson).out, Golden("apply-staged.json"));
}

TEST(RenderApplyTest, StagedBeforeAnyFleetVersionSaysNoProxyRunsOne) {
  v1::ApplyConfigResponse r = Staged();
  r.set_fleet_version(0);
  EXPECT_EQ(RenderApply(r, Stage(), OutputFormat::kTable).out,
            "staged: v13 (no proxy runs a stored version yet; roll it out with: hermesctl rollout "
            "start 13)\n");
}

TEST(RenderApplyTest, StagedSameContentIsUnchanged) {
  v1::ApplyConfigResponse r = Staged();
  r.set_created(false);
  EXPECT_EQ(RenderApply(r, Stage(), OutputFormat::kTable).out, "unchanged: v13\n");
}

TEST(RenderApplyTest, ForceSaysWhichRolloutItAbortedFirst) {
  v1::ApplyConfigResponse r;
  *r.mutable_version() = Version(14, 12, "");
  r.set_created(true);
  r.set_fleet_version(14);
  r.set_aborted_rollout(4);
  ApplyArgs args = Apply();
  args.force = true;
  EXPECT_EQ(RenderApply(r, args, OutputFormat::kTable).out,
            "aborted rollout #4 first (--force)\n"
            "applied: v14\n");
}

TEST(RenderApplyTest, YamlOfARefusedConfigQuotesWhatYamlWouldMisread) {
  const Rendered out = RenderApply(Refused(), Apply(), OutputFormat::kYaml);
  EXPECT_EQ(out.exit_code, 1);
  EXPECT_EQ(out.out,
            "result: refused\n"
            "dry_run: false\n"
            "staged: false\n"
            "version: null\n"
            "fleet_version: 0\n"
            "aborted_rollout: 0\n"
            "diff: \"\"\n"
            "errors:\n"
            "  - location: fleet.yaml:12:5\n"
            "    path: clusters[1].health_check.interval\n"
            "    message: must be more than 0s\n"
            "  - location: \"\"\n"
            "    path: routes[0].cluster\n"
            "    message: unknown cluster \"api\"\n");
}

TEST(RenderConfigTest, YamlAfterACommentHeader) {
  v1::GetConfigResponse r;
  *r.mutable_version() = Version(7, 6, "raise timeout");
  r.set_yaml("listeners:\n  - address: 0.0.0.0:8080\n");
  EXPECT_EQ(RenderConfig(r, OutputFormat::kTable, kNow),
            "# hermes config v7 (parent v6)\n"
            "# author: ana\n"
            "# created: 2024-05-01T12:00:00Z (3m ago)\n"
            "# hash: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
            "# message: raise timeout\n"
            "listeners:\n  - address: 0.0.0.0:8080\n");
}

TEST(RenderConfigTest, MultiLineMessageStaysOneCommentLine) {
  v1::GetConfigResponse r;
  *r.mutable_version() = Version(1, 0, "first\nsecond");
  const std::string out = RenderConfig(r, OutputFormat::kTable, kNow);
  EXPECT_NE(out.find("# hermes config v1\n"), std::string::npos);
  EXPECT_NE(out.find("# message: first second\n"), std::string::npos);
}

TEST(RenderConfigTest, Json) {
  v1::GetConfigResponse r;
  *r.mutable_version() = Version(7, 6, "m");
  r.set_yaml("a: 1\n");
  EXPECT_EQ(RenderConfig(r, OutputFormat::kJson, kNow), R"({
  "version": {
    "id": 7,
    "parent": 6,
    "hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "author": "ana",
    "message": "m",
    "created_at": "2024-05-01T12:00:00.000Z"
  },
  "yaml": "a: 1\n"
}
)");
}

TEST(RenderHistoryTest, TableOfVersionsWithShortHashes) {
  v1::ListVersionsResponse r;
  *r.add_versions() = Version(12, 11, "raise api timeout");
  *r.add_versions() = Version(1, 0, "");
  EXPECT_EQ(
      RenderHistory(r, OutputFormat::kTable, kNow),
      "ID   PARENT   AUTHOR   CREATED                AGE      HASH           MESSAGE\n"
      "12   11       ana      2024-05-01T12:00:00Z   3m ago   9f86d081884c   raise api timeout\n"
      "1    -        ana      2024-05-01T12:00:00Z   3m ago   9f86d081884c\n");
}

TEST(RenderHistoryTest, LongMessagesAreTruncated) {
  v1::ListVersionsResponse r;
  *r.add_versions() = Version(2, 1, std::string(100, 'm'));
  const std::string out = RenderHistory(r, OutputFormat::kTable, kNow);
  EXPECT_NE(out.find(std::string(57, 'm') + "...\n"), std::string::npos);
  EXPECT_EQ(out.find(std::string(58, 'm')), std::string::npos);
}

TEST(RenderHistoryTest, NoVersionsSaysSo) {
  EXPECT_EQ(RenderHistory(v1::ListVersionsResponse(), OutputFormat::kTable, kNow),
            "no config versions stored yet\n");
}

TEST(RenderHistoryTest, Json) {
  v1::ListVersionsResponse r;
  *r.add_versions() = Version(1, 0, "");
  r.mutable_versions(0)->set_created_unix_ms(0);
  EXPECT_EQ(RenderHistory(r, OutputFormat::kJson, kNow), R"({
  "versions": [
    {
      "id": 1,
      "parent": 0,
      "hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
      "author": "ana",
      "message": "",
      "created_at": null
    }
  ]
}
)");
}

TEST(RenderHistoryTest, JsonOfNoVersionsIsAnEmptyList) {
  EXPECT_EQ(RenderHistory(v1::ListVersionsResponse(), OutputFormat::kJson, kNow),
            "{\n  \"versions\": []\n}\n");
}

TEST(RenderDiffTest, PrintsTheDiffEndingInANewline) {
  v1::DiffVersionsResponse r;
  r.set_diff("-a: 1\n+a: 2");
  EXPECT_EQ(RenderDiff(r, DiffArgs{3, 5}, OutputFormat::kTable), "-a: 1\n+a: 2\n");
}

TEST(RenderDiffTest, NoDifferencesSaysSo) {
  EXPECT_EQ(RenderDiff(v1::DiffVersionsResponse(), DiffArgs{3, 5}, OutputFormat::kTable),
            "no differences between v3 and v5\n");
}

TEST(RenderDiffTest, Json) {
  v1::DiffVersionsResponse r;
  r.set_diff("-a: 1\n+a: 2\n");
  EXPECT_EQ(RenderDiff(r, DiffArgs{3, 5}, OutputFormat::kJson), R"({
  "from": 3,
  "to": 5,
  "diff": "-a: 1\n+a: 2\n"
}
)");
}

TEST(RenderRollbackTest, NamesTheNewVersionAndWhoseContentItHas) {
  v1::RollbackResponse r;
  *r.mutable_version() = Version(9, 8, "");
  EXPECT_EQ(RenderRollback(r, RollbackArgs{5, "ana"}, OutputFormat::kTable),
            "rolled back: v9 is current, with the content of v5\n");
}

TEST(RenderRollbackTest, ToThePreviousVersion) {
  v1::RollbackResponse r;
  *r.mutable_version() = Version(9, 8, "");
  EXPECT_EQ(RenderRollback(r, RollbackArgs{0, "ana"}, OutputFormat::kTable),
            "rolled back: v9 is current, with the content of the version before v8\n");
}

TEST(RenderRollbackTest, ForceSaysWhichRolloutItAbortedFirst) {
  v1::RollbackResponse r;
  *r.mutable_version() = Version(9, 8, "");
  r.set_aborted_rollout(3);
  EXPECT_EQ(RenderRollback(r, RollbackArgs{5, "ana", true}, OutputFormat::kTable),
            "aborted rollout #3 first (--force)\n"
            "rolled back: v9 is current, with the content of v5\n");
}

TEST(RenderRollbackTest, Json) {
  v1::RollbackResponse r;
  *r.mutable_version() = Version(9, 8, "rollback to v5");
  EXPECT_EQ(RenderRollback(r, RollbackArgs{5, "ana"}, OutputFormat::kJson), R"({
  "version": {
    "id": 9,
    "parent": 8,
    "hash": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "author": "ana",
    "message": "rollback to v5",
    "created_at": "2024-05-01T12:00:00.000Z"
  },
  "aborted_rollout": 0
}
)");
}

}  // namespace
}  // namespace hermes::ctl
