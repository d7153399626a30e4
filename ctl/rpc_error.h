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
};

struct Failure {
  std::string message;  // one or more lines, "hermesctl: " first, no final newline
  int exit_code = 1;
};

Failure DescribeRpcError(const grpc::Status& status, const CallTarget& target);

}  // namespace hermes::ctl
