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

// The JSON of one config version (without its config body).
Json VersionJson(const v1::ConfigVersion& version);

// "location: path: message", leaving out the parts the control plane did not know.
std::string FormatConfigError(const v1::ConfigError& error);

}  // namespace hermes::ctl
