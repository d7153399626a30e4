// What a failed call to the control plane tells the operator: a message naming what to do, and
// hermesctl's exit code.
#pragma once

#include <grpcpp/support/status.h>

#include <chrono>
#include <string>

namespace hermes::ctl {

// What the failed call was sent with, for messages that point at the flag to change.
struct CallTarget {
  std::string server;
  bool sent_token = false;
  std::chrono::nanoseconds timeout{};
  std::string command;  // the hermesctl command that made the call ("status"); may be empty
  // What to do next, added in parentheses after the control plane's message unless that message
  // already says what to do (it names a hermesctl command or --force).
  // To a FAILED_PRECONDITION that says a rollout is "in progress" (apply, rollback: "add --force
  // to abort the rollout first"); other refusals (no previous version) get none.
  std::string in_progress_hint;
  // To a NOT_FOUND ("hermesctl history lists the stored versions").
  std::string not_found_hint;
};

struct Failure {
  std::string message;  // one or more lines, "hermesctl: " first, no final newline
  int exit_code = 1;
};

Failure DescribeRpcError(const grpc::Status& status, const CallTarget& target);

// Whether a call that failed so may work when tried again (a watch goes on after it): the
// control plane unreachable or slow.
bool IsTransient(const grpc::Status& status);

}  // namespace hermes::ctl
