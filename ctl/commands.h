// hermesctl's commands: each reads what it needs, makes one call to the control plane's
// AdminService and prints the answer. Dispatch() runs a parsed command line.
#pragma once

#include <ostream>
#include <string>

#include "ctl/command_line.h"
#include "hermes/common/clock.h"
#include "hermes/v1/admin.grpc.pb.h"

namespace hermes::ctl {

// What every call carries besides its request.
struct Session {
  GlobalOptions global;
  std::string token;  // resolved from --token-file or HERMES_TOKEN; empty = none
  const Clock& clock;
};

// A file's text, or why it could not be read ("cannot read fleet.yaml: No such file or
// directory"). "-" is standard input.
struct FileText {
  std::string text;
  std::string error;
};
FileText ReadConfigFile(const std::string& path);

// The bearer token: --token-file's content (surrounding white space trimmed) or HERMES_TOKEN.
struct Token {
  std::string value;
  std::string error;
};
Token ResolveToken(const GlobalOptions& global);

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
int RunProxies(const Session& session, AdminStub& stub, std::ostream& out, std::ostream& err);
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
int Dispatch(const Invocation& invocation, std::ostream& out, std::ostream& err);

}  // namespace hermes::ctl
