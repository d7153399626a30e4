// What `hermesctl status` prints, as text, -o json and -o yaml, and its exit code.
#include <gtest/gtest.h>

#include <limits>

#include "ctl/render.h"
#include "golden.h"

namespace hermes::ctl {
namespace {

using namespace std::chrono;

constexpr int64_t kMay1Noon = 1714564800000;  // 2024-05-01T12:00:00Z
const system_clock::time_point kNow{milliseconds(kMay1Noon)};

// A fleet with one proxy gone and one backend down; the control plane up for 3h12m5s.
v1::GetStatusResponse Degraded() {
  v1::GetStatusResponse r;
  r.set_health(v1::DEGRADED);
  r.add_reasons("proxy edge-3 is disconnected (last seen 2024-05-01T11:52:10Z)");
  r.add_reasons("cluster payments: 1 of 3 backends unhealthy");
  r.set_proxies_total(5);
  r.set_proxies_connected(4);
  r.set_proxies_in_sync(3);
  r.set_backends_total(9);
  r.set_backends_healthy(8);
  r.set_config_version(12);
  r.set_newest_version(12);
  r.set_started_unix_ms(kMay1Noon - (3 * 3600 + 12 * 60 + 5) * 1000);
  return r;
}

TEST(RenderStatusTest, TextMatchesGolden) {
  const Rendered r = RenderStatus(Degraded(), StatusArgs{}, OutputFormat::kTable, kNow);
  EXPECT_EQ(r.out, Golden("status.txt"));
  EXPECT_EQ(r.err, "");
}

TEST(RenderStatusTest, JsonMatchesGolden) {
  const Rendered r = RenderStatus(Degraded(), StatusArgs{}, OutputFormat::kJson, kNow);
  EXPECT_EQ(r.out, Golden("status.json"));
}

TEST(RenderStatusTest, FirstLineIsTheLowercaseVerdict) {
  v1::GetStatusResponse healthy;
  healthy.set_health(v1::HEALTHY);
  v1::GetStatusResponse unhealthy;
  unhealthy.set_health(v1::UNHEALTHY);
  const auto first_line = [](const v1::GetStatusResponse& response) {
    const std::string out = RenderStatus(response, {}, OutputFormat::kTable, kNow).out;
    return out.substr(0, out.find('\n'));
  };
  EXPECT_EQ(first_line(healthy), "healthy");
  EXPECT_EQ(first_line(Degraded()), "degraded");
  EXPECT_EQ(first_line(unhealthy), "unhealthy");
  EXPECT_EQ(first_line(v1::GetStatusResponse()), "unknown");
}

TEST(RenderStatusTest, DegradedOrUnhealthyExitsZeroByDefault) {
  v1::GetStatusResponse unhealthy;
  unhealthy.set_health(v1::UNHEALTHY);
  EXPECT_EQ(RenderStatus(Degraded(), {}, OutputFormat::kTable, kNow).exit_code, 0);
  EXPECT_EQ(RenderStatus(unhealthy, {}, OutputFormat::kJson, kNow).exit_code, 0);
}

TEST(RenderStatusTest, ExitStatusFlagMapsHealthToExitCodes) {
  const StatusArgs args{true};
  v1::GetStatusResponse r;
  r.set_health(v1::HEALTHY);
  EXPECT_EQ(RenderStatus(r, args, OutputFormat::kTable, kNow).exit_code, 0);
  r.set_health(v1::DEGRADED);
  EXPECT_EQ(RenderStatus(r, args, OutputFormat::kTable, kNow).exit_code, kExitDegraded);
  r.set_health(v1::UNHEALTHY);
  EXPECT_EQ(RenderStatus(r, args, OutputFormat::kJson, kNow).exit_code, kExitUnhealthy);
  r.set_health(v1::FLEET_HEALTH_UNSPECIFIED);
  EXPECT_EQ(RenderStatus(r, args, OutputFormat::kTable, kNow).exit_code, kExitUnhealthy);
}

TEST(RenderStatusTest, NoConfigAndUnknownStartTime) {
  v1::GetStatusResponse r;
  r.set_health(v1::UNHEALTHY);
  r.add_reasons("no proxy connected");
  EXPECT_EQ(RenderStatus(r, {}, OutputFormat::kTable, kNow).out,
            "unhealthy\n"
            "  - no proxy connected\n"
            "proxies:        0/0 connected, 0/0 in sync\n"
            "backends:       0/0 healthy\n"
            "config:         none stored yet\n"
            "control plane:  start time unknown\n");
}

TEST(RenderStatusTest, JsonOfAnEmptyAnswerHasNullTimes) {
  EXPECT_EQ(RenderStatus(v1::GetStatusResponse(), {}, OutputFormat::kJson, kNow).out, R"({
  "health": "unknown",
  "reasons": [],
  "proxies": {
    "total": 0,
    "connected": 0,
    "in_sync": 0
  },
  "backends": {
    "total": 0,
    "healthy": 0
  },
  "config_version": 0,
  "newest_version": 0,
  "versions": [],
  "rollout": null,
  "control_plane": {
    "started_at": null,
    "uptime_seconds": null
  }
}
)");
}

// v13 staged and on its way: a rollout at its first step moved one of five proxies.
v1::GetStatusResponse InRollout() {
  v1::GetStatusResponse r;
  r.set_health(v1::HEALTHY);
  r.set_proxies_total(5);
  r.set_proxies_connected(5);
  r.set_proxies_in_sync(5);
  r.set_backends_total(9);
  r.set_backends_healthy(9);
  r.set_config_version(12);
  r.set_newest_version(13);
  r.set_started_unix_ms(kMay1Noon - 3600 * 1000);
  v1::Rollout* rollout = r.mutable_rollout();
  rollout->set_id(3);
  rollout->set_version(13);
  rollout->set_previous_version(12);
  for (double p : {20.0, 50.0, 100.0}) rollout->add_steps_percent(p);
  rollout->set_interval_ms(30'000);
  rollout->set_max_error_rate(0.01);
  rollout->set_state(v1::ROLLOUT_RUNNING);
  rollout->set_author("ana");
  rollout->set_started_unix_ms(kMay1Noon - 60'000);
  rollout->set_step_started_unix_ms(kMay1Noon - 60'000);
  rollout->set_updated_unix_ms(kMay1Noon - 60'000);
  rollout->add_moved("edge-3");
  rollout->set_selected_proxies(5);
  rollout->set_step_target(1);
  // Out of order: the output lists versions in order.
  v1::VersionShare* v13 = r.add_versions();
  v13->set_version(13);
  v13->set_proxies(1);
  v13->set_targeted(1);
  v1::VersionShare* v12 = r.add_versions();
  v12->set_version(12);
  v12->set_proxies(4);
  v12->set_targeted(4);
  return r;
}

TEST(RenderStatusTest, RolloutTextMatchesGolden) {
  EXPECT_EQ(RenderStatus(InRollout(), {}, OutputFormat::kTable, kNow).out,
            Golden("status-rollout.txt"));
}

TEST(RenderStatusTest, RolloutJsonMatchesGolden) {
  EXPECT_EQ(RenderStatus(InRollout(), {}, OutputFormat::kJson, kNow).out,
            Golden("status-rollout.json"));
}

TEST(RenderStatusTest, RolloutYamlMatchesGolden) {
  EXPECT_EQ(RenderStatus(InRollout(), {}, OutputFormat::kYaml, kNow).out,
            Golden("status-rollout.yaml"));
}

// --watch prints one document after another: JSON a line each, YAML after "---".
TEST(RenderStatusTest, WatchedDocumentsFollowOneAnother) {
  const Json doc = StatusDocument(InRollout(), kNow);
  const std::string json = WatchedDocument(doc, OutputFormat::kJson);
  EXPECT_EQ(json.find('\n'), json.size() - 1) << json;
  EXPECT_EQ(json.rfind("{\"health\":\"healthy\",\"reasons\":[],", 0), 0u) << json;
  EXPECT_EQ(WatchedDocument(doc, OutputFormat::kYaml), "---\n" + Golden("status-rollout.yaml"));
}

TEST(RenderStatusTest, VersionsLineNamesProxiesNotYetOnTheirTargetAndThoseWithNone) {
  v1::GetStatusResponse r = InRollout();
  r.mutable_versions(0)->set_targeted(2);
  v1::VersionShare* none = r.add_versions();
  none->set_proxies(1);
  none->set_targeted(0);
  r.mutable_versions(1)->set_proxies(1);
  r.mutable_versions(1)->set_targeted(1);
  const std::string out = RenderStatus(r, {}, OutputFormat::kTable, kNow).out;
  EXPECT_NE(
      out.find("\nversions:       v12 on 1 proxy, v13 on 1 of 2 targeted, no version yet on 1\n"),
      std::string::npos)
      << out;
}

TEST(RenderStatusTest, NewestStoredVersionBeforeAnyRolledOut) {
  v1::GetStatusResponse r;
  r.set_newest_version(1);
  const std::string out = RenderStatus(r, {}, OutputFormat::kTable, kNow).out;
  EXPECT_NE(out.find("\nconfig:         none rolled out yet (newest stored: v1)\n"),
            std::string::npos)
      << out;
}

TEST(RenderStatusTest, ReasonWithLineBreaksStaysOnOneLine) {
  v1::GetStatusResponse r;
  r.set_health(v1::DEGRADED);
  r.add_reasons("proxy edge-1 refused v12:\nroutes[0].cluster: unknown");
  const std::string out = RenderStatus(r, {}, OutputFormat::kTable, kNow).out;
  EXPECT_NE(out.find("  - proxy edge-1 refused v12: routes[0].cluster: unknown\n"),
            std::string::npos)
      << out;
}

TEST(RenderStatusTest, StartTimesAtTheLimitsOfInt64StillPrint) {
  for (const int64_t started :
       {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), int64_t{1}}) {
    v1::GetStatusResponse r = Degraded();
    r.set_started_unix_ms(started);
    EXPECT_NE(RenderStatus(r, {}, OutputFormat::kTable, kNow).out.find("control plane:  up "),
              std::string::npos);
    EXPECT_NE(RenderStatus(r, {}, OutputFormat::kJson, kNow).out.find("\"uptime_seconds\": "),
              std::string::npos);
  }
}

TEST(RenderStatusTest, StartTimeAfterNowIsZeroUptime) {
  v1::GetStatusResponse r = Degraded();
  r.set_started_unix_ms(kMay1Noon + 2'000);
  const std::string out = RenderStatus(r, {}, OutputFormat::kTable, kNow).out;
  EXPECT_NE(out.find("control plane:  up 0s (since 2024-05-01T12:00:02Z)\n"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace hermes::ctl
