// hermesctl's commands: each reads what it needs, calls the control plane's AdminService and
// prints the answer (again every interval with --watch). Dispatch() runs a parsed command line.
#pragma once

#include <ostream>
#include <string>

#include "ctl/command_line.h"
#include "ctl/watch.h"
#include "hermes/common/clock.h"
#include "hermes/common/result.h"
#include "hermes/v1/admin.grpc.pb.h"

namespace hermes::ctl {

// What every call carries besides its request.
struct Session {
  GlobalOptions global;
  std::string token;  // resolved from --token-file or HERMES_TOKEN; empty = none
  const Clock& clock;
  Waiter& waiter;         // between --watch rounds and drain --wait polls
  bool terminal = false;  // stdout is a terminal: --watch clears the screen before each round
};

// A file's text, or why it could not be read ("cannot read fleet.yaml: No such file or
// directory"), or that it is over max_bytes ("fleet.yaml: 5242880 bytes is over the
// 4194304-byte limit (--max-config-bytes)"; a regular file is not read then). "-" is standard
// input.
Result<std::string> ReadConfigFile(const std::string& path,
                                   uint64_t max_bytes = config::DocumentLimits::kDefaultMaxBytes);

// The bearer token: --token-file's content or HERMES_TOKEN, surrounding white space trimmed
// (hermes/common/bearer_token.h, as the daemons read theirs); "" for none.
Result<std::string> ResolveToken(const GlobalOptions& global);

using AdminStub = v1::AdminService::StubInterface;

int RunApply(const ApplyArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
             std::ostream& err);
int RunGetConfig(const GetConfigArgs& args, const Session& session, AdminStub& stub,
                 std::ostream& out, std::ostream& err);
int RunHistory(const HistoryArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
               std::ostream& err);
int RunDiff(const DiffArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
            std::ostream& err);
int RunRollback(const RollbackArgs& args, const Session& session, AdminStub& stub,
                std::ostream& out, std::ostream& err);
int RunRolloutStart(const RolloutStartArgs& args, const Session& session, AdminStub& stub,
                    std::ostream& out, std::ostream& err);
// promote, pause, resume, abort.
int RunRolloutAction(const RolloutActionArgs& args, const Session& session, AdminStub& stub,
                     std::ostream& out, std::ostream& err);
// With --watch: until Ctrl-C (0), the rollout completed (0) or aborted (1).
int RunRolloutStatus(const RolloutStatusArgs& args, const Session& session, AdminStub& stub,
                     std::ostream& out, std::ostream& err);
int RunRolloutList(const RolloutListArgs& args, const Session& session, AdminStub& stub,
                   std::ostream& out, std::ostream& err);
int RunProxies(const ProxiesArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
               std::ostream& err);
int RunDrain(const DrainArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
             std::ostream& err);
// Exit 0, or with --exit-status 3 when the fleet is degraded and 4 when it is unhealthy.
int RunStatus(const StatusArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
              std::ostream& err);
int RunBackends(const BackendsArgs& args, const Session& session, AdminStub& stub,
                std::ostream& out, std::ostream& err);
int RunStats(const StatsArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
             std::ostream& err);
int RunCircuits(const CircuitsArgs& args, const Session& session, AdminStub& stub,
                std::ostream& out, std::ostream& err);
int RunHealthEvents(const HealthEventsArgs& args, const Session& session, AdminStub& stub,
                    std::ostream& out, std::ostream& err);

// Runs a parsed command line against the control plane at --server; returns the exit code.
// `out` is standard output (--watch asks whether it is a terminal).
int Dispatch(const Invocation& invocation, std::ostream& out, std::ostream& err);

}  // namespace hermes::ctl
