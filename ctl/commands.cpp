#include "ctl/commands.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>

#include "ctl/completion.h"
#include "ctl/drain_wait.h"
#include "ctl/render.h"
#include "ctl/rpc_error.h"
#include "ctl/usage.h"
#include "hermes/common/bearer_token.h"

namespace hermes::ctl {
namespace {

// All of `f` up to one byte past `max_bytes`, or strerror of the failed read.
Result<std::string> ReadAll(std::FILE* f, uint64_t max_bytes) {
  std::string text;
  char buf[64 * 1024];
  size_t n = 0;
  while (text.size() <= max_bytes && (n = std::fread(buf, 1, sizeof buf, f)) > 0)
    text.append(buf, n);
  if (std::ferror(f)) return hermes::Failure(std::string(std::strerror(errno)));
  return text;
}

Result<std::string> ReadFile(const std::string& path, uint64_t max_bytes) {
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (!f) return hermes::Failure("cannot read " + path + ": " + std::strerror(errno));
  struct stat info {};
  if (fstat(fileno(f), &info) == 0 && S_ISREG(info.st_mode) &&
      static_cast<uint64_t>(info.st_size) > max_bytes) {
    if (f != stdin) std::fclose(f);
    return hermes::Failure(
        config::CheckDocumentSize(static_cast<uint64_t>(info.st_size), max_bytes, path)
            ->ToString());
  }
  Result<std::string> read = ReadAll(f, max_bytes);
  if (f != stdin) std::fclose(f);
  if (!read) return hermes::Failure("cannot read " + path + ": " + read.error());
  if (auto oversize = config::CheckDocumentSize(read->size(), max_bytes, path)) {
    return hermes::Failure(oversize->ToString());
  }
  return read;
}

// One call of `method` with the session's deadline and token.
template <typename Request, typename Response>
grpc::Status Call(grpc::Status (AdminStub::*method)(grpc::ClientContext*, const Request&,
                                                    Response*),
                  AdminStub& stub, const Session& session, const Request& request,
                  Response& response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + session.global.timeout);
  if (!session.token.empty()) context.AddMetadata("authorization", "Bearer " + session.token);
  return (stub.*method)(&context, request, &response);
}

// `command` names what the control plane lacks when it does not know the call.
CallTarget Target(const Session& session, std::string_view command) {
  return CallTarget{session.global.server, !session.token.empty(), session.global.timeout,
                    std::string(command)};
}

int Fail(const grpc::Status& status, const CallTarget& target, std::ostream& err) {
  const Failure f = DescribeRpcError(status, target);
  err << f.message << "\n";
  return f.exit_code;
}

int Fail(const grpc::Status& status, const Session& session, std::string_view command,
         std::ostream& err) {
  return Fail(status, Target(session, command), err);
}

Round FailedRound(const grpc::Status& status, const CallTarget& target) {
  Round r;
  r.failed = true;
  r.transient = IsTransient(status);
  r.error = DescribeRpcError(status, target).message;
  return r;
}

TimePoint Now(const Session& session) { return session.clock.Now(); }

WatchSettings Watching(const Session& session, const WatchArgs& watch, std::string command) {
  return WatchSettings{watch.interval, session.global.output == OutputFormat::kTable,
                       session.terminal, std::move(command)};
}

// A failed apply or rollback during a rollout: --force would have aborted it first.
constexpr std::string_view kForceHint = "add --force to abort the rollout first";

// The control plane's refusals of promote, pause, resume and abort say what to do themselves.
CallTarget RolloutTarget(const Session& session, std::string_view command) {
  CallTarget target = Target(session, command);
  target.not_found_hint = "start one with: hermesctl rollout start VERSION";
  return target;
}

}  // namespace

Result<std::string> ReadConfigFile(const std::string& path, uint64_t max_bytes) {
  return ReadFile(path, max_bytes);
}

Result<std::string> ResolveToken(const GlobalOptions& global) {
  if (global.token_file.empty()) return TrimmedToken(global.token);
  return ReadTokenFile(global.token_file);
}

int RunApply(const ApplyArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
             std::ostream& err) {
  v1::ApplyConfigRequest request;
  if (!args.file.empty()) {
    const Result<std::string> file = ReadConfigFile(args.file, args.max_config_bytes);
    if (!file) {
      err << "hermesctl: " << file.error() << "\n";
      return 1;
    }
    request.set_yaml(*file);
    request.set_source_name(args.file == "-" ? "<stdin>" : args.file);
  }
  request.set_merge(args.merge);
  for (const std::string& ref : args.remove) request.add_remove(ref);
  request.set_author(args.author);
  request.set_message(args.message);
  request.set_dry_run(args.dry_run);
  request.set_stage(args.stage);
  request.set_if_version(args.if_version);
  request.set_force(args.force);
  v1::ApplyConfigResponse response;
  if (auto status = Call(&AdminStub::ApplyConfig, stub, session, request, response); !status.ok()) {
    CallTarget target = Target(session, "apply");
    if (!args.force && !args.stage) target.in_progress_hint = kForceHint;
    return Fail(status, target, err);
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
  if (auto status = Call(&AdminStub::GetConfig, stub, session, request, response); !status.ok()) {
    return Fail(status, session, "get config", err);
  }
  out << RenderConfig(response, session.global.output, Now(session));
  return 0;
}

int RunHistory(const HistoryArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
               std::ostream& err) {
  v1::ListVersionsRequest request;
  request.set_limit(args.limit);
  v1::ListVersionsResponse response;
  if (auto status = Call(&AdminStub::ListVersions, stub, session, request, response);
      !status.ok()) {
    return Fail(status, session, "history", err);
  }
  out << RenderHistory(response, session.global.output, Now(session));
  return 0;
}

int RunDiff(const DiffArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
            std::ostream& err) {
  v1::DiffVersionsRequest request;
  request.set_from(args.from);
  request.set_to(args.to);
  v1::DiffVersionsResponse response;
  if (auto status = Call(&AdminStub::DiffVersions, stub, session, request, response);
      !status.ok()) {
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
  request.set_force(args.force);
  v1::RollbackResponse response;
  if (auto status = Call(&AdminStub::Rollback, stub, session, request, response); !status.ok()) {
    CallTarget target = Target(session, "rollback");
    if (!args.force) target.in_progress_hint = kForceHint;
    return Fail(status, target, err);
  }
  out << RenderRollback(response, args, session.global.output);
  return 0;
}

int RunRolloutStart(const RolloutStartArgs& args, const Session& session, AdminStub& stub,
                    std::ostream& out, std::ostream& err) {
  v1::StartRolloutRequest request;
  request.set_version(args.version);
  for (const auto& [label, value] : args.selector) (*request.mutable_selector())[label] = value;
  for (double percent : args.steps_percent) request.add_steps_percent(percent);
  request.set_interval_ms(args.interval.count());
  if (args.max_error_rate) {
    request.set_max_error_rate(*args.max_error_rate);
    request.set_set_max_error_rate(true);
  }
  request.set_auto_promote(args.auto_promote);
  request.set_author(args.author);
  v1::RolloutResponse response;
  if (auto status = Call(&AdminStub::StartRollout, stub, session, request, response);
      !status.ok()) {
    CallTarget target = Target(session, "rollout start");
    target.not_found_hint = "hermesctl history lists the stored versions";
    target.in_progress_hint = "see it with: hermesctl rollout status";
    return Fail(status, target, err);
  }
  out << RenderRolloutStarted(response.rollout(), session.global.output);
  return 0;
}

int RunRolloutAction(const RolloutActionArgs& args, const Session& session, AdminStub& stub,
                     std::ostream& out, std::ostream& err) {
  using Method = grpc::Status (AdminStub::*)(grpc::ClientContext*, const v1::RolloutActionRequest&,
                                             v1::RolloutResponse*);
  Method method = &AdminStub::PromoteRollout;
  std::string command = "rollout promote";
  switch (args.action) {
    case RolloutAction::kPromote:
      break;
    case RolloutAction::kPause:
      method = &AdminStub::PauseRollout;
      command = "rollout pause";
      break;
    case RolloutAction::kResume:
      method = &AdminStub::ResumeRollout;
      command = "rollout resume";
      break;
    case RolloutAction::kAbort:
      method = &AdminStub::AbortRollout;
      command = "rollout abort";
      break;
  }
  v1::RolloutActionRequest request;
  request.set_author(args.author);
  request.set_reason(args.reason);
  v1::RolloutResponse response;
  if (auto status = Call(method, stub, session, request, response); !status.ok()) {
    return Fail(status, RolloutTarget(session, command), err);
  }
  out << RenderRolloutAction(response.rollout(), args.action, session.global.output);
  return 0;
}

int RunRolloutStatus(const RolloutStatusArgs& args, const Session& session, AdminStub& stub,
                     std::ostream& out, std::ostream& err) {
  CallTarget target = Target(session, "rollout status");
  target.not_found_hint = args.id != 0 ? "hermesctl rollout list shows the rollouts on record"
                                       : "start one with: hermesctl rollout start VERSION";
  const OutputFormat format = session.global.output;
  v1::GetRolloutRequest request;
  request.set_id(args.id);
  if (!args.watch.watch) {
    v1::RolloutResponse response;
    if (auto status = Call(&AdminStub::GetRollout, stub, session, request, response);
        !status.ok()) {
      return Fail(status, target, err);
    }
    out << RenderRolloutStatus(response.rollout(), format, Now(session));
    return 0;
  }
  const auto round = [&] {
    v1::RolloutResponse response;
    if (auto status = Call(&AdminStub::GetRollout, stub, session, request, response);
        !status.ok()) {
      return FailedRound(status, target);
    }
    const v1::Rollout& rollout = response.rollout();
    // Follow the rollout first shown, even when another one starts after it ends.
    if (request.id() == 0) request.set_id(rollout.id());
    Round r;
    r.frame = format == OutputFormat::kTable
                  ? RenderRolloutStatus(rollout, format, Now(session))
                  : WatchedDocument(RolloutStatusDocument(rollout), format);
    if (const auto end = RolloutEnded(rollout, format)) {
      r.end = end->exit_code;
      r.end_out = end->out;
      r.end_err = end->err;
    }
    return r;
  };
  return Watch(Watching(session, args.watch, "rollout status"), round, session.waiter,
               session.clock, out, err);
}

int RunRolloutList(const RolloutListArgs& args, const Session& session, AdminStub& stub,
                   std::ostream& out, std::ostream& err) {
  v1::ListRolloutsRequest request;
  request.set_limit(args.limit);
  v1::ListRolloutsResponse response;
  if (auto status = Call(&AdminStub::ListRollouts, stub, session, request, response);
      !status.ok()) {
    return Fail(status, session, "rollout list", err);
  }
  out << RenderRolloutList(response, session.global.output, Now(session));
  return 0;
}

int RunProxies(const ProxiesArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
               std::ostream& err) {
  const OutputFormat format = session.global.output;
  if (!args.watch.watch) {
    v1::ListProxiesResponse response;
    if (auto status =
            Call(&AdminStub::ListProxies, stub, session, v1::ListProxiesRequest(), response);
        !status.ok()) {
      return Fail(status, session, "proxies", err);
    }
    out << RenderProxies(response, format, Now(session));
    return 0;
  }
  const auto round = [&] {
    v1::ListProxiesResponse response;
    if (auto status =
            Call(&AdminStub::ListProxies, stub, session, v1::ListProxiesRequest(), response);
        !status.ok()) {
      return FailedRound(status, Target(session, "proxies"));
    }
    Round r;
    r.frame = format == OutputFormat::kTable ? RenderProxies(response, format, Now(session))
                                             : WatchedDocument(ProxiesDocument(response), format);
    return r;
  };
  return Watch(Watching(session, args.watch, "proxies"), round, session.waiter, session.clock, out,
               err);
}

int RunDrain(const DrainArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
             std::ostream& err) {
  v1::DrainProxyRequest request;
  request.set_node(args.node);
  v1::DrainProxyResponse response;
  if (auto status = Call(&AdminStub::DrainProxy, stub, session, request, response); !status.ok()) {
    CallTarget target = Target(session, "drain");
    target.not_found_hint = "hermesctl proxies lists the proxies and whether they are connected";
    return Fail(status, target, err);
  }
  v1::Proxy proxy = response.proxy();
  if (proxy.node().id().empty()) proxy.mutable_node()->set_id(args.node);
  if (!args.wait) {
    out << RenderDrain(proxy, session.global.output);
    return 0;
  }
  const ListProxiesCall list = [&]() -> std::optional<v1::ListProxiesResponse> {
    v1::ListProxiesResponse answer;
    if (auto status =
            Call(&AdminStub::ListProxies, stub, session, v1::ListProxiesRequest(), answer);
        !status.ok()) {
      Fail(status, session, "drain", err);
      return std::nullopt;
    }
    return answer;
  };
  return WaitForDrain(DrainWait{args.node, args.wait_timeout, session.global.output}, proxy, list,
                      session.waiter, session.clock, out, err);
}

int RunStatus(const StatusArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
              std::ostream& err) {
  const OutputFormat format = session.global.output;
  if (!args.watch.watch) {
    v1::GetStatusResponse response;
    if (auto status = Call(&AdminStub::GetStatus, stub, session, v1::GetStatusRequest(), response);
        !status.ok()) {
      return Fail(status, session, "status", err);
    }
    const Rendered r = RenderStatus(response, args, format, Now(session));
    out << r.out;
    return r.exit_code;
  }
  const auto round = [&] {
    v1::GetStatusResponse response;
    if (auto status = Call(&AdminStub::GetStatus, stub, session, v1::GetStatusRequest(), response);
        !status.ok()) {
      return FailedRound(status, Target(session, "status"));
    }
    Round r;
    r.frame = format == OutputFormat::kTable
                  ? RenderStatus(response, args, format, Now(session)).out
                  : WatchedDocument(StatusDocument(response, Now(session)), format);
    return r;
  };
  return Watch(Watching(session, args.watch, "status"), round, session.waiter, session.clock, out,
               err);
}

int RunBackends(const BackendsArgs& args, const Session& session, AdminStub& stub,
                std::ostream& out, std::ostream& err) {
  v1::ListBackendsRequest request;
  request.set_cluster(args.cluster);
  request.set_window_seconds(args.window_seconds);
  v1::ListBackendsResponse response;
  if (auto status = Call(&AdminStub::ListBackends, stub, session, request, response);
      !status.ok()) {
    return Fail(status, session, "backends", err);
  }
  out << RenderBackends(response, args, session.global.output, Now(session));
  return 0;
}

int RunStats(const StatsArgs& args, const Session& session, AdminStub& stub, std::ostream& out,
             std::ostream& err) {
  v1::GetStatsRequest request;
  request.set_proxy(args.proxy);
  request.set_cluster(args.cluster);
  request.set_window_seconds(args.window_seconds);
  v1::GetStatsResponse response;
  if (auto status = Call(&AdminStub::GetStats, stub, session, request, response); !status.ok()) {
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
  if (auto status = Call(&AdminStub::ListCircuits, stub, session, request, response);
      !status.ok()) {
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
  if (auto status = Call(&AdminStub::ListHealthEvents, stub, session, request, response);
      !status.ok()) {
    return Fail(status, session, "health-events", err);
  }
  out << RenderHealthEvents(response, args, session.global.output, Now(session));
  return 0;
}

int Dispatch(const Invocation& invocation, std::ostream& out, std::ostream& err) {
  const GlobalOptions& global = invocation.global;
  const CommandArgs& args = invocation.args;
  if (const auto* help = std::get_if<HelpArgs>(&args)) {
    out << HelpText(help->topic);
    return 0;
  }
  if (std::holds_alternative<CompletionArgs>(args)) {
    out << BashCompletion();
    return 0;
  }
  if (global.version || std::holds_alternative<std::monostate>(args)) {
    out << VersionText();
    return 0;
  }

  const Result<std::string> token = ResolveToken(global);
  if (!token) {
    err << "hermesctl: " << token.error() << "\n";
    return 1;
  }
  // Plain-text gRPC, like the control plane's admin listener; keep it on a trusted network.
  const auto channel = grpc::CreateChannel(global.server, grpc::InsecureChannelCredentials());
  const auto stub = v1::AdminService::NewStub(channel);
  const SystemClock clock;
  SleepingWaiter waiter;
  // Ctrl-C ends a watch (exit 0) or a drain --wait (exit 1) instead of killing hermesctl.
  std::optional<CatchInterrupt> catch_interrupt;
  if (Waits(args)) catch_interrupt.emplace();
  const Session session{global, *token, clock, waiter, ::isatty(STDOUT_FILENO) == 1};

  if (const auto* a = std::get_if<ApplyArgs>(&args)) return RunApply(*a, session, *stub, out, err);
  if (const auto* a = std::get_if<GetConfigArgs>(&args)) {
    return RunGetConfig(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<HistoryArgs>(&args)) {
    return RunHistory(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<DiffArgs>(&args)) return RunDiff(*a, session, *stub, out, err);
  if (const auto* a = std::get_if<RollbackArgs>(&args)) {
    return RunRollback(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<RolloutStartArgs>(&args)) {
    return RunRolloutStart(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<RolloutActionArgs>(&args)) {
    return RunRolloutAction(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<RolloutStatusArgs>(&args)) {
    return RunRolloutStatus(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<RolloutListArgs>(&args)) {
    return RunRolloutList(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<ProxiesArgs>(&args)) {
    return RunProxies(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<DrainArgs>(&args)) return RunDrain(*a, session, *stub, out, err);
  if (const auto* a = std::get_if<StatusArgs>(&args)) {
    return RunStatus(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<BackendsArgs>(&args)) {
    return RunBackends(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<StatsArgs>(&args)) return RunStats(*a, session, *stub, out, err);
  if (const auto* a = std::get_if<CircuitsArgs>(&args)) {
    return RunCircuits(*a, session, *stub, out, err);
  }
  if (const auto* a = std::get_if<HealthEventsArgs>(&args)) {
    return RunHealthEvents(*a, session, *stub, out, err);
  }
  err << "hermesctl: nothing to run\n";
  return 2;
}

}  // namespace hermes::ctl
