// What each command prints for the control plane's answer, as a table (plain text) or as the
// JSON documents described in ctl/README.md. Pure functions: `now` is only for ages.
#pragma once

#include <chrono>
#include <string>

#include "ctl/command_line.h"
#include "ctl/json.h"
#include "hermes/v1/admin.pb.h"

namespace hermes::ctl {

using TimePoint = std::chrono::system_clock::time_point;

// A command's output when it can also fail on an answer (a refused config).
struct Rendered {
  std::string out;
  std::string err;
  int exit_code = 0;
};

Rendered RenderApply(const v1::ApplyConfigResponse& response, const ApplyArgs& args,
                     OutputFormat format);
std::string RenderConfig(const v1::GetConfigResponse& response, OutputFormat format, TimePoint now);
std::string RenderHistory(const v1::ListVersionsResponse& response, OutputFormat format,
                          TimePoint now);
std::string RenderDiff(const v1::DiffVersionsResponse& response, const DiffArgs& args,
                       OutputFormat format);
std::string RenderRollback(const v1::RollbackResponse& response, const RollbackArgs& args,
                           OutputFormat format);
std::string RenderProxies(const v1::ListProxiesResponse& response, OutputFormat format,
                          TimePoint now);

// Fleet health and stats: render_status.cpp, render_backends.cpp, render_stats.cpp,
// render_circuits.cpp. `status` can fail on its answer (--exit-status).
Rendered RenderStatus(const v1::GetStatusResponse& response, const StatusArgs& args,
                      OutputFormat format, TimePoint now);
std::string RenderBackends(const v1::ListBackendsResponse& response, const BackendsArgs& args,
                           OutputFormat format, TimePoint now);
std::string RenderHealthEvents(const v1::ListHealthEventsResponse& response,
                               const HealthEventsArgs& args, OutputFormat format, TimePoint now);
std::string RenderStats(const v1::GetStatsResponse& response, const StatsArgs& args,
                        OutputFormat format);
std::string RenderCircuits(const v1::ListCircuitsResponse& response, const CircuitsArgs& args,
                           OutputFormat format);

// `status --exit-status`: 0 healthy, 3 degraded, 4 unhealthy (or a health hermesctl does not
// know).
inline constexpr int kExitDegraded = 3;
inline constexpr int kExitUnhealthy = 4;

// The JSON of one config version (without its config body).
Json VersionJson(const v1::ConfigVersion& version);

// A time as -o json writes it: RFC 3339 with milliseconds, or null for 0 (unknown).
Json TimeJson(int64_t unix_ms);

// "location: path: message", leaving out the parts the control plane did not know.
std::string FormatConfigError(const v1::ConfigError& error);

}  // namespace hermes::ctl
