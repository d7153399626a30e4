// A failed call to the control plane becomes a message the operator can act on, and exit code 1.
#include <gtest/gtest.h>

#include "ctl/rpc_error.h"

namespace hermes::ctl {
namespace {

using namespace std::chrono_literals;

const CallTarget kTarget{"cp.internal:9090", true, 10s};

TEST(RpcErrorTest, UnavailableNamesTheAddressAndHowToChangeIt) {
  const Failure f =
      DescribeRpcError(grpc::Status(grpc::StatusCode::UNAVAILABLE, "Connection refused"), kTarget);
  EXPECT_EQ(f.message,
            "hermesctl: cannot reach the control plane at cp.internal:9090: Connection refused\n"
            "hint: pass --server HOST:PORT or set HERMES_SERVER");
  EXPECT_EQ(f.exit_code, 1);
}

TEST(RpcErrorTest, UnauthenticatedWithATokenSaysItWasRefused) {
  const Failure f =
      DescribeRpcError(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad token"), kTarget);
  EXPECT_EQ(f.message,
            "hermesctl: the control plane at cp.internal:9090 refused the token "
            "(--token-file / HERMES_TOKEN): bad token");
  EXPECT_EQ(f.exit_code, 1);
}

TEST(RpcErrorTest, UnauthenticatedWithoutATokenSaysOneIsNeeded) {
  const Failure f = DescribeRpcError(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, ""),
                                     CallTarget{"cp:9090", false, 10s});
  EXPECT_EQ(f.message,
            "hermesctl: the control plane at cp:9090 wants a token (--token-file / HERMES_TOKEN)");
}

TEST(RpcErrorTest, DeadlineExceededNamesTheTimeout) {
  const Failure f =
      DescribeRpcError(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"),
                       CallTarget{"cp:9090", false, 1500ms});
  EXPECT_EQ(f.message,
            "hermesctl: the control plane at cp:9090 did not answer within 1.5s (raise --timeout): "
            "Deadline Exceeded");
  EXPECT_EQ(f.exit_code, 1);
}

TEST(RpcErrorTest, InvalidArgumentIsTheServersMessage) {
  const Failure f = DescribeRpcError(
      grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "version 0 cannot be diffed"), kTarget);
  EXPECT_EQ(f.message, "hermesctl: version 0 cannot be diffed");
  EXPECT_EQ(f.exit_code, 1);
}

TEST(RpcErrorTest, NotFoundIsTheServersMessage) {
  const Failure f =
      DescribeRpcError(grpc::Status(grpc::StatusCode::NOT_FOUND, "no version 42"), kTarget);
  EXPECT_EQ(f.message, "hermesctl: no version 42");
  EXPECT_EQ(f.exit_code, 1);
}

TEST(RpcErrorTest, FailedPreconditionIsTheServersMessage) {
  const Failure f = DescribeRpcError(
      grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "no version before v1 to roll back to"),
      kTarget);
  EXPECT_EQ(f.message, "hermesctl: no version before v1 to roll back to");
  EXPECT_EQ(f.exit_code, 1);
}

TEST(RpcErrorTest, ServerErrorWithoutMessageNamesTheCode) {
  const Failure f = DescribeRpcError(grpc::Status(grpc::StatusCode::NOT_FOUND, ""), kTarget);
  EXPECT_EQ(f.message, "hermesctl: the control plane at cp.internal:9090 answered NOT_FOUND");
}

TEST(RpcErrorTest, UnimplementedNamesTheCommandAndSaysToUpgrade) {
  const Failure f = DescribeRpcError(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""),
                                     CallTarget{"cp.internal:9090", true, 10s, "circuits"});
  EXPECT_EQ(f.message,
            "hermesctl: the control plane at cp.internal:9090 does not support circuits; "
            "upgrade it");
  EXPECT_EQ(f.exit_code, 1);
}

TEST(RpcErrorTest, UnimplementedWithoutACommandSuggestsAnOlderControlPlane) {
  const Failure f = DescribeRpcError(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, ""), kTarget);
  EXPECT_EQ(f.message,
            "hermesctl: the control plane at cp.internal:9090 does not know this call "
            "(is it older than hermesctl?)");
}

TEST(RpcErrorTest, OtherCodesNameTheCodeAndMessage) {
  const Failure f =
      DescribeRpcError(grpc::Status(grpc::StatusCode::INTERNAL, "database is locked"), kTarget);
  EXPECT_EQ(
      f.message,
      "hermesctl: the control plane at cp.internal:9090 failed (INTERNAL): database is locked");
  EXPECT_EQ(f.exit_code, 1);
}

}  // namespace
}  // namespace hermes::ctl
