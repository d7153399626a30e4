// Output of `hermesctl status`: the fleet's health in one word, why, and its counts.
#include <optional>

#include "ctl/render.h"
#include "ctl/table.h"
#include "ctl/time_text.h"
#include "hermes/common/duration.h"

namespace hermes::ctl {
namespace {

std::string HealthWord(v1::FleetHealth health) {
  switch (health) {
    case v1::HEALTHY:
      return "healthy";
    case v1::DEGRADED:
      return "degraded";
    case v1::UNHEALTHY:
      return "unhealthy";
    default:
      return "unknown";
  }
}

int ExitCode(v1::FleetHealth health) {
  switch (health) {
    case v1::HEALTHY:
      return 0;
    case v1::DEGRADED:
      return kExitDegraded;
    default:
      return kExitUnhealthy;
  }
}

// Seconds the control plane has been up; nullopt when its start time is unknown.
std::optional<int64_t> UptimeSeconds(int64_t started_unix_ms, TimePoint now) {
  if (started_unix_ms == 0) return std::nullopt;
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  return now_ms > started_unix_ms ? (now_ms - started_unix_ms) / 1000 : 0;
}

std::string Fraction(uint32_t part, uint32_t whole) {
  return std::to_string(part) + "/" + std::to_string(whole);
}

}  // namespace

Rendered RenderStatus(const v1::GetStatusResponse& response, const StatusArgs& args,
                      OutputFormat format, TimePoint now) {
  Rendered r;
  r.exit_code = args.exit_status ? ExitCode(response.health()) : 0;
  const std::optional<int64_t> uptime = UptimeSeconds(response.started_unix_ms(), now);

  if (format == OutputFormat::kJson) {
    Json reasons = Json::MakeArray();
    for (const auto& reason : response.reasons()) reasons.Push(Json(reason));
    Json proxies = Json::MakeObject();
    proxies.Set("total", Json(uint64_t{response.proxies_total()}))
        .Set("connected", Json(uint64_t{response.proxies_connected()}))
        .Set("in_sync", Json(uint64_t{response.proxies_in_sync()}));
    Json backends = Json::MakeObject();
    backends.Set("total", Json(uint64_t{response.backends_total()}))
        .Set("healthy", Json(uint64_t{response.backends_healthy()}));
    Json control_plane = Json::MakeObject();
    control_plane.Set("started_at", TimeJson(response.started_unix_ms()))
        .Set("uptime_seconds", uptime ? Json(*uptime) : Json());
    Json j = Json::MakeObject();
    j.Set("health", Json(HealthWord(response.health())))
        .Set("reasons", std::move(reasons))
        .Set("proxies", std::move(proxies))
        .Set("backends", std::move(backends))
        .Set("config_version", Json(uint64_t{response.config_version()}))
        .Set("control_plane", std::move(control_plane));
    r.out = j.Dump();
    return r;
  }

  // The first line is the verdict alone, so `hermesctl status | head -1` is a health probe.
  r.out = HealthWord(response.health()) + "\n";
  for (const auto& reason : response.reasons()) r.out += "  - " + Truncate(reason, 200) + "\n";
  r.out += "proxies:        " + Fraction(response.proxies_connected(), response.proxies_total()) +
           " connected, " + Fraction(response.proxies_in_sync(), response.proxies_total()) +
           " in sync\n";
  r.out += "backends:       " + Fraction(response.backends_healthy(), response.backends_total()) +
           " healthy\n";
  r.out += "config:         " +
           (response.config_version() == 0 ? std::string("none stored yet")
                                           : "v" + std::to_string(response.config_version())) +
           "\n";
  r.out += "control plane:  ";
  if (uptime) {
    r.out += "up " + FormatDuration(std::chrono::seconds(*uptime)) + " (since " +
             FormatRfc3339(response.started_unix_ms()) + ")\n";
  } else {
    r.out += "start time unknown\n";
  }
  return r;
}

}  // namespace hermes::ctl
