#include "ctl/rpc_error.h"

#include "hermes/common/duration.h"

namespace hermes::ctl {
namespace {

std::string CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return "code " + std::to_string(static_cast<int>(code));
  }
}

// ": detail", or nothing when the server sent no message.
std::string Detail(const grpc::Status& status) {
  return status.error_message().empty() ? "" : ": " + status.error_message();
}

// The control plane's own message, or the code when it sent none.
std::string ServerMessage(const grpc::Status& status, const std::string& at) {
  if (!status.error_message().empty()) return "hermesctl: " + status.error_message();
  return "hermesctl: " + at + " answered " + CodeName(status.error_code());
}

// " (hint)", unless the control plane's own message already says what to do.
std::string Hint(const grpc::Status& status, const std::string& hint) {
  const std::string& message = status.error_message();
  if (hint.empty() || message.find("hermesctl ") != std::string::npos ||
      message.find("--force") != std::string::npos) {
    return "";
  }
  return " (" + hint + ")";
}

}  // namespace

bool IsTransient(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

Failure DescribeRpcError(const grpc::Status& status, const CallTarget& target) {
  const std::string at = "the control plane at " + target.server;
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return {"hermesctl: cannot reach " + at + Detail(status) +
              "\nhint: pass --server HOST:PORT or set HERMES_SERVER"};
    case grpc::StatusCode::UNAUTHENTICATED:
      if (!target.sent_token) {
        return {"hermesctl: " + at + " wants a token (--token-file / HERMES_TOKEN)" +
                Detail(status)};
      }
      return {"hermesctl: " + at + " refused the token (--token-file / HERMES_TOKEN)" +
              Detail(status)};
    case grpc::StatusCode::PERMISSION_DENIED:
      return {"hermesctl: " + at +
              " does not allow this with the token (--token-file / "
              "HERMES_TOKEN)" +
              Detail(status)};
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return {"hermesctl: " + at + " did not answer within " + FormatDuration(target.timeout) +
              " (raise --timeout)" + Detail(status)};
    case grpc::StatusCode::UNIMPLEMENTED:
      // A control plane older than hermesctl: the call is not in its AdminService.
      if (!target.command.empty()) {
        return {"hermesctl: " + at + " does not support " + target.command + "; upgrade it"};
      }
      return {"hermesctl: " + at + " does not know this call (is it older than hermesctl?)" +
              Detail(status)};
    case grpc::StatusCode::ABORTED:
      // The control plane answers ABORTED to a check-and-set that lost (apply --if-version).
      if (!status.error_message().empty()) {
        return {"hermesctl: version conflict: " + status.error_message()};
      }
      return {"hermesctl: version conflict (" + at + " answered ABORTED)"};
    case grpc::StatusCode::FAILED_PRECONDITION:
      if (status.error_message().find("in progress") == std::string::npos) {
        return {ServerMessage(status, at)};
      }
      return {ServerMessage(status, at) + Hint(status, target.in_progress_hint)};
    case grpc::StatusCode::NOT_FOUND:
      return {ServerMessage(status, at) + Hint(status, target.not_found_hint)};
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::ALREADY_EXISTS:
    case grpc::StatusCode::OUT_OF_RANGE:
      return {ServerMessage(status, at)};
    default:
      return {"hermesctl: " + at + " failed (" + CodeName(status.error_code()) + ")" +
              Detail(status)};
  }
}

}  // namespace hermes::ctl
