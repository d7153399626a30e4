// What each command prints for the control plane's answer, as a table (plain text) or as the
// JSON or YAML documents described in ctl/README.md. Pure functions: `now` is only for ages.
#pragma once

#include <chrono>
#include <optional>
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

// A -o json (two-space indented) or -o yaml document.
std::string Document(const Json& doc, OutputFormat format);
// One document of a --watch: JSON on one line, or YAML after a "---" line.
std::string WatchedDocument(const Json& doc, OutputFormat format);

Rendered RenderApply(const v1::ApplyConfigResponse& response, const ApplyArgs& args,
                     OutputFormat format);
std::string RenderConfig(const v1::GetConfigResponse& response, OutputFormat format, TimePoint now);
std::string RenderHistory(const v1::ListVersionsResponse& response, OutputFormat format,
                          TimePoint now);
std::string RenderDiff(const v1::DiffVersionsResponse& response, const DiffArgs& args,
                       OutputFormat format);
std::string RenderRollback(const v1::RollbackResponse& response, const RollbackArgs& args,
                           OutputFormat format);

// `proxies` and `drain`: render_proxies.cpp.
Json ProxiesDocument(const v1::ListProxiesResponse& response);
std::string RenderProxies(const v1::ListProxiesResponse& response, OutputFormat format,
                          TimePoint now);
// `drain`: "draining edge-1: 12 connections open" or "drained edge-1", or {"proxy": PROXY}.
std::string RenderDrain(const v1::Proxy& proxy, OutputFormat format);
std::string DrainLine(const v1::Proxy& proxy);
Json DrainDocument(const v1::Proxy& proxy);

// Fleet health and stats: render_status.cpp, render_backends.cpp, render_stats.cpp,
// render_circuits.cpp. `status` can fail on its answer (--exit-status).
Json StatusDocument(const v1::GetStatusResponse& response, TimePoint now);
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

// Rollouts: render_rollout.cpp.
std::string RolloutStateWord(v1::RolloutState state);  // "running", ..., "unknown"
// "#3 v13 step 1/3 (20%), running, 1/5 proxies moved": the status line of a rollout.
std::string RolloutSummary(const v1::Rollout& rollout);
Json RolloutJson(const v1::Rollout& rollout);  // ROLLOUT, without its proxies
Json RolloutStatusDocument(const v1::Rollout& rollout);
std::string RenderRolloutStatus(const v1::Rollout& rollout, OutputFormat format, TimePoint now);
std::string RenderRolloutList(const v1::ListRolloutsResponse& response, OutputFormat format,
                              TimePoint now);
std::string RenderRolloutStarted(const v1::Rollout& rollout, OutputFormat format);
std::string RenderRolloutAction(const v1::Rollout& rollout, RolloutAction action,
                                OutputFormat format);
// How `rollout status --watch` ends on this answer: nullopt while the rollout goes on, else the
// exit code (0 completed, 1 aborted) and what to print.
struct RolloutEnd {
  int exit_code = 0;
  std::string out;  // table output only
  std::string err;
};
std::optional<RolloutEnd> RolloutEnded(const v1::Rollout& rollout, OutputFormat format);

// `status --exit-status`: 0 healthy, 3 degraded, 4 unhealthy (or a health hermesctl does not
// know).
inline constexpr int kExitDegraded = 3;
inline constexpr int kExitUnhealthy = 4;

// The JSON of one config version (without its config body).
Json VersionJson(const v1::ConfigVersion& version);

// A time as -o json writes it: RFC 3339 with milliseconds, or null for 0 (unknown) and for a
// time RFC 3339 cannot write.
Json TimeJson(int64_t unix_ms);

// "location: path: message", leaving out the parts the control plane did not know.
std::string FormatConfigError(const v1::ConfigError& error);

// "SYNCED", "STALE", "NACKED", "DISCONNECTED" or "UNKNOWN".
std::string SyncStateName(v1::SyncState state);

// "v12"; "-" for 0 (none).
std::string VersionCell(uint64_t version);

}  // namespace hermes::ctl
