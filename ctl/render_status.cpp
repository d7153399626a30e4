// Output of `hermesctl status`: the fleet's health in one word, why, and its counts.
#include <algorithm>
#include <limits>
#include <optional>
#include <vector>

#include "ctl/render.h"
#include "ctl/table.h"
#include "ctl/time_text.h"

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
std::optional<uint64_t> UptimeSeconds(int64_t started_unix_ms, TimePoint now) {
  if (started_unix_ms == 0) return std::nullopt;
  return SecondsSince(started_unix_ms, now);
}

std::string Fraction(uint32_t part, uint32_t whole) {
  return std::to_string(part) + "/" + std::to_string(whole);
}

// By version, the proxies that ACKed none yet (version 0) last.
std::vector<v1::VersionShare> SortedShares(const v1::GetStatusResponse& response) {
  std::vector<v1::VersionShare> shares(response.versions().begin(), response.versions().end());
  std::stable_sort(shares.begin(), shares.end(), [](const auto& a, const auto& b) {
    constexpr uint64_t kLast = std::numeric_limits<uint64_t>::max();
    return (a.version() == 0 ? kLast : a.version()) < (b.version() == 0 ? kLast : b.version());
  });
  return shares;
}

// "v12 on 4 proxies, v13 on 1 of 2 targeted, no version yet on 1"
std::string VersionsLine(const v1::GetStatusResponse& response) {
  std::string line;
  for (const auto& share : SortedShares(response)) {
    const bool first = line.empty();
    if (!first) line += ", ";
    line += share.version() == 0 ? "no version yet" : "v" + std::to_string(share.version());
    line += " on " + std::to_string(share.proxies());
    // The unit once, on the first: "v12 on 4 proxies, v13 on 1".
    if (first) line += share.proxies() == 1 ? " proxy" : " proxies";
    if (share.targeted() != share.proxies() && share.version() != 0) {
      line += " of " + std::to_string(share.targeted()) + " targeted";
    }
  }
  return line;
}

std::string ConfigLine(const v1::GetStatusResponse& response) {
  std::string line =
      response.config_version() == 0
          ? (response.newest_version() == 0 ? "none stored yet" : "none rolled out yet")
          : "v" + std::to_string(response.config_version());
  if (response.newest_version() > response.config_version()) {
    line += " (newest stored: v" + std::to_string(response.newest_version()) + ")";
  }
  return line;
}

}  // namespace

Json StatusDocument(const v1::GetStatusResponse& response, TimePoint now) {
  const std::optional<uint64_t> uptime = UptimeSeconds(response.started_unix_ms(), now);
  Json reasons = Json::MakeArray();
  for (const auto& reason : response.reasons()) reasons.Push(Json(reason));
  Json proxies = Json::MakeObject();
  proxies.Set("total", Json(uint64_t{response.proxies_total()}))
      .Set("connected", Json(uint64_t{response.proxies_connected()}))
      .Set("in_sync", Json(uint64_t{response.proxies_in_sync()}));
  Json backends = Json::MakeObject();
  backends.Set("total", Json(uint64_t{response.backends_total()}))
      .Set("healthy", Json(uint64_t{response.backends_healthy()}));
  Json versions = Json::MakeArray();
  for (const auto& share : SortedShares(response)) {
    Json v = Json::MakeObject();
    v.Set("version", Json(uint64_t{share.version()}))
        .Set("proxies", Json(uint64_t{share.proxies()}))
        .Set("targeted", Json(uint64_t{share.targeted()}));
    versions.Push(std::move(v));
  }
  Json control_plane = Json::MakeObject();
  control_plane.Set("started_at", TimeJson(response.started_unix_ms()))
      .Set("uptime_seconds", uptime ? Json(*uptime) : Json());
  Json j = Json::MakeObject();
  j.Set("health", Json(HealthWord(response.health())))
      .Set("reasons", std::move(reasons))
      .Set("proxies", std::move(proxies))
      .Set("backends", std::move(backends))
      .Set("config_version", Json(uint64_t{response.config_version()}))
      .Set("newest_version", Json(uint64_t{response.newest_version()}))
      .Set("versions", std::move(versions))
      .Set("rollout", response.rollout().id() == 0 ? Json() : RolloutJson(response.rollout()))
      .Set("control_plane", std::move(control_plane));
  return j;
}

Rendered RenderStatus(const v1::GetStatusResponse& response, const StatusArgs& args,
                      OutputFormat format, TimePoint now) {
  Rendered r;
  r.exit_code = args.exit_status ? ExitCode(response.health()) : 0;
  if (format != OutputFormat::kTable) {
    r.out = Document(StatusDocument(response, now), format);
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
  r.out += "config:         " + ConfigLine(response) + "\n";
  if (response.rollout().id() != 0) {
    r.out += "rollout:        " + RolloutSummary(response.rollout()) + "\n";
  }
  if (!response.versions().empty()) r.out += "versions:       " + VersionsLine(response) + "\n";
  r.out += "control plane:  ";
  const std::optional<uint64_t> uptime = UptimeSeconds(response.started_unix_ms(), now);
  if (uptime) {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    const int64_t ms =
        *uptime > static_cast<uint64_t>(kMax / 1000) ? kMax : static_cast<int64_t>(*uptime) * 1000;
    r.out +=
        "up " + FormatMillis(ms) + " (since " + FormatRfc3339(response.started_unix_ms()) + ")\n";
  } else {
    r.out += "start time unknown\n";
  }
  return r;
}

}  // namespace hermes::ctl
