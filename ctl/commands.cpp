#include "ctl/commands.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "ctl/render.h"
#include "ctl/rpc_error.h"
#include "ctl/usage.h"

namespace hermes::ctl {
namespace {

// All of `f`, or errno of the failed read.
FileText ReadAll(std::FILE* f) {
  FileText result;
  char buf[64 * 1024];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) result.text.append(buf, n);
  if (std::ferror(f)) result.error = std::strerror(errno);
  return result;
}

FileText ReadFile(const std::string& path, std::string_view what) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  FileText result;
  if (!f) {
    result.error = std::strerror(errno);
  } else {
    result = ReadAll(f);
    if (f != stdin) std::fclose(f);
  }
  if (!result.error.empty()) {
    return FileText{"", "cannot read " + std::string(what) + path + ": " + result.error};
  }
  return result;
}

void PrepareContext(grpc::ClientContext& context, const Session& session) {
  context.set_deadline(std::chrono::system_clock::now() + session.global.timeout);
  if (!session.token.empty()) context.AddMetadata("authorization", "Bearer " + session.token);
}

// `command` names what the control plane lacks when it does not know the call.
int Fail(const grpc::Status& status, const Session& session, std::string_view command,
         std::ostream& err) {
  const Failure f =
      DescribeRpcError(status, CallTarget{session.global.server, !session.token.empty(),
                                          session.global.timeout, std::string(command)});
  err << f.message << "\n";
  return f.exit_code;
}

}  // namespace

FileText ReadConfigFile(const std::string& path) { return ReadFile(path, ""); }

Token ResolveToken(const GlobalOptions& global) {
  if (global.token_file.empty()) return Token{global.token, ""};
  const FileText file = ReadFile(global.token_file, "token file ");
  if (!file.error.empty()) return Token{"", file.error};
  const size_t begin = file.text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return Token{"", "token file " + global.token_file + " is empty"};
  const size_t end = file.text.find_last_not_of(" \t\r\n");
  return Token{file.text.substr(begin, end - begin + 1), ""};
}

int RunApply(const ApplyArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
             std::ostream& err) {
  const FileText file = ReadConfigFile(args.file);
  if (!file.error.empty()) {
    err << "hermesctl: " << file.error << "\n";
    return 1;
  }
  v1::ApplyConfigRequest request;
  request.set_yaml(file.text);
  request.set_source_name(args.file == "-" ? "<stdin>" : args.file);
  request.set_author(args.author);
  request.set_message(args.message);
  request.set_dry_run(args.dry_run);
  v1::ApplyConfigResponse response;
  grpc::ClientContext context;
  PrepareContext(context, session);
  if (auto status = stub.ApplyConfig(&context, request, &response); !status.ok()) {
    return Fail(status, session, "apply", err);
  }
  const Rendered r = RenderApply(response, args, session.global.output);
  out << r.out;
  err << r.err;
  return r.exit_code;
}

int RunGetConfig(const GetConfigArgs& args, const Session& session, AdminStub& stub,
                 std::ostream& out, std::ostream& err) {
  v1::GetConfigRequest request;
  request.set_version(args.version);
  v1::GetConfigResponse response;
  grpc::ClientContext context;
  PrepareContext(context, session);
  if (auto status = stub.GetConfig(&context, request, &response); !status.ok()) {
    return Fail(status, session, "get config", err);
  }
  out << RenderConfig(response, session.global.output, session.clock.Now());
  return 0;
}

int RunHistory(const HistoryArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
               std::ostream& err) {
  v1::ListVersionsRequest request;
  request.set_limit(args.limit);
  v1::ListVersionsResponse response;
  grpc::ClientContext context;
  PrepareContext(context, session);
  if (auto status = stub.ListVersions(&context, request, &response); !status.ok()) {
    return Fail(status, session, "history", err);
  }
  out << RenderHistory(response, session.global.output, session.clock.Now());
  return 0;
}

int RunDiff(const DiffArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
            std::ostream& err) {
  v1::DiffVersionsRequest request;
  request.set_from(args.from);
  request.set_to(args.to);
  v1::DiffVersionsResponse response;
  grpc::ClientContext context;
  PrepareContext(context, session);
  if (auto status = stub.DiffVersions(&context, request, &response); !status.ok()) {
    return Fail(status, session, "diff", err);
  }
  out << RenderDiff(response, args, session.global.output);
  return 0;
}

int RunRollback(const RollbackArgs& args, const Session& session, AdminStub& stub,
                std::ostream& out, std::ostream& err) {
  v1::RollbackRequest request;
  request.set_version(args.version);
  request.set_author(args.author);
  v1::RollbackResponse response;
  grpc::ClientContext context;
  PrepareContext(context, session);
  if (auto status = stub.Rollback(&context, request, &response); !status.ok()) {
    return Fail(status, session, "rollback", err);
  }
  out << RenderRollback(response, args, session.global.output);
  return 0;
}

int RunProxies(const Session& session, AdminStub& stub, std::ostream& out, std::ostream& err) {
  v1::ListProxiesResponse response;
  grpc::ClientContext context;
  PrepareContext(context, session);
  if (auto status = stub.ListProxies(&context, v1::ListProxiesRequest(), &response); !status.ok()) {
    return Fail(status, session, "proxies", err);
  }
  out << RenderProxies(response, session.global.output, session.clock.Now());
  return 0;
}

int RunStatus(const StatusArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
              std::ostream& err) {
  v1::GetStatusResponse response;
  grpc::ClientContext context;
  PrepareContext(context, session);
  if (auto status = stub.GetStatus(&context, v1::GetStatusRequest(), &response); !status.ok()) {
    return Fail(status, session, "status", err);
  }
  const Rendered r = RenderStatus(response, args, session.global.output, session.clock.Now());
  out << r.out;
  return r.exit_code;
}

int RunBackends(const BackendsArgs& args, const Session& session, AdminStub& stub,
                std::ostream& out, std::ostream& err) {
  v1::ListBackendsRequest request;
  request.set_cluster(args.cluster);
  request.set_window_seconds(args.window_seconds);
  v1::ListBackendsResponse response;
  grpc::ClientContext context;
  PrepareContext(context, session);
  if (auto status = stub.ListBackends(&context, request, &response); !status.ok()) {
    return Fail(status, session, "backends", err);
  }
  out << RenderBackends(response, args, session.global.output, session.clock.Now());
  return 0;
}

int RunStats(const StatsArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
             std::ostream& err) {
  v1::GetStatsRequest request;
  request.set_proxy(args.proxy);
  request.set_cluster(args.cluster);
  request.set_window_seconds(args.window_seconds);
  v1::GetStatsResponse response;
  grpc::ClientContext context;
  PrepareContext(context, session);
  if (auto status = stub.GetStats(&context, request, &response); !status.ok()) {
    return Fail(status, session, "stats", err);
  }
  out << RenderStats(response, args, session.global.output);
  return 0;
}

int RunCircuits(const CircuitsArgs& args, const Session& session, AdminStub& stub,
                std::ostream& out, std::ostream& err) {
  v1::ListCircuitsRequest request;
  request.set_cluster(args.cluster);
  v1::ListCircuitsResponse response;
  grpc::ClientContext context;
  PrepareContext(context, session);
  if (auto status = stub.ListCircuits(&context, request, &response); !status.ok()) {
    return Fail(status, session, "circuits", err);
  }
  out << RenderCircuits(response, args, session.global.output);
  return 0;
}

int RunHealthEvents(const HealthEventsArgs& args, const Session& session, AdminStub& stub,
                    std::ostream& out, std::ostream& err) {
  v1::ListHealthEventsRequest request;
  request.set_cluster(args.cluster);
  request.set_limit(args.limit);
  v1::ListHealthEventsResponse response;
  grpc::ClientContext context;
  PrepareContext(context, session);
  if (auto status = stub.ListHealthEvents(&context, request, &response); !status.ok()) {
    return Fail(status, session, "health-events", err);
  }
  out << RenderHealthEvents(response, args, session.global.output, session.clock.Now());
  return 0;
}

int Dispatch(const Invocation& invocation, std::ostream& out, std::ostream& err) {
  const GlobalOptions& global = invocation.global;
  if (const auto* help = std::get_if<HelpArgs>(&invocation.args)) {
    out << HelpText(help->topic);
    return 0;
  }
  if (global.version || std::holds_alternative<std::monostate>(invocation.args)) {
    out << VersionText();
    return 0;
  }

  const Token token = ResolveToken(global);
  if (!token.error.empty()) {
    err << "hermesctl: " << token.error << "\n";
    return 1;
  }
  // Plain-text gRPC, like the control plane's admin listener; keep it on a trusted network.
  const auto channel = grpc::CreateChannel(global.server, grpc::InsecureChannelCredentials());
  const auto stub = v1::AdminService::NewStub(channel);
  const SystemClock clock;
  const Session session{global, token.value, clock};

  if (const auto* a = std::get_if<ApplyArgs>(&invocation.args)) {
    return RunApply(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<GetConfigArgs>(&invocation.args)) {
    return RunGetConfig(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<HistoryArgs>(&invocation.args)) {
    return RunHistory(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<DiffArgs>(&invocation.args)) {
    return RunDiff(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<RollbackArgs>(&invocation.args)) {
    return RunRollback(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<StatusArgs>(&invocation.args)) {
    return RunStatus(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<BackendsArgs>(&invocation.args)) {
    return RunBackends(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<StatsArgs>(&invocation.args)) {
    return RunStats(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<CircuitsArgs>(&invocation.args)) {
    return RunCircuits(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<HealthEventsArgs>(&invocation.args)) {
    return RunHealthEvents(*a, session, *stub, out, err);
  }
  return RunProxies(session, *stub, out, err);
}

}  // namespace hermes::ctl
