// What `hermesctl status` prints, as text and as -o json, and its exit code.
#include <gtest/gtest.h>

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
  "control_plane": {
    "started_at": null,
    "uptime_seconds": null
  }
}
)");
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

TEST(RenderStatusTest, StartTimeAfterNowIsZeroUptime) {
  v1::GetStatusResponse r = Degraded();
  r.set_started_unix_ms(kMay1Noon + 2'000);
  const std::string out = RenderStatus(r, {}, OutputFormat::kTable, kNow).out;
  EXPECT_NE(out.find("control plane:  up 0s (since 2024-05-01T12:00:02Z)\n"), std::string::npos)
      << out;
}

}  // namespace
}  // namespace hermes::ctl
