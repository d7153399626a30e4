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

TEST(RpcErrorTest, AbortedIsAVersionConflict) {
  const Failure f = DescribeRpcError(
      grpc::Status(grpc::StatusCode::ABORTED, "the newest stored version is v14, not v12"),
      kTarget);
  EXPECT_EQ(f.message, "hermesctl: version conflict: the newest stored version is v14, not v12");
  EXPECT_EQ(f.exit_code, 1);
}

TEST(RpcErrorTest, AbortedWithoutMessageNamesTheCode) {
  const Failure f = DescribeRpcError(grpc::Status(grpc::StatusCode::ABORTED, ""), kTarget);
  EXPECT_EQ(f.message,
            "hermesctl: version conflict (the control plane at cp.internal:9090 answered ABORTED)");
}

CallTarget WithHints() {
  CallTarget target = kTarget;
  target.in_progress_hint = "add --force to abort the rollout first";
  target.not_found_hint = "start one with: hermesctl rollout start VERSION";
  return target;
}

TEST(RpcErrorTest, RolloutInProgressAddsTheHint) {
  const Failure f = DescribeRpcError(
      grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "rollout 4 of v13 is in progress"),
      WithHints());
  EXPECT_EQ(f.message,
            "hermesctl: rollout 4 of v13 is in progress (add --force to abort the rollout first)");
  EXPECT_EQ(f.exit_code, 1);
}

TEST(RpcErrorTest, OtherFailedPreconditionsGetNoRolloutHint) {
  const Failure f = DescribeRpcError(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                                  "there is no previous version to roll back to"),
                                     WithHints());
  EXPECT_EQ(f.message, "hermesctl: there is no previous version to roll back to");
}

TEST(RpcErrorTest, NoHintWhenTheControlPlaneAlreadySaysWhatToDo) {
  const Failure in_progress = DescribeRpcError(
      grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                   "rollout 4 of v13 is in progress (running): abort it first or use --force"),
      WithHints());
  EXPECT_EQ(in_progress.message,
            "hermesctl: rollout 4 of v13 is in progress (running): abort it first or use --force");
  const Failure not_found =
      DescribeRpcError(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                    "proxy edge-9 is not connected (hermesctl proxies lists them)"),
                       WithHints());
  EXPECT_EQ(not_found.message,
            "hermesctl: proxy edge-9 is not connected (hermesctl proxies lists them)");
}

TEST(RpcErrorTest, NotFoundAddsTheHint) {
  const Failure f = DescribeRpcError(
      grpc::Status(grpc::StatusCode::NOT_FOUND, "no rollout has been started"), WithHints());
  EXPECT_EQ(f.message,
            "hermesctl: no rollout has been started (start one with: hermesctl rollout start "
            "VERSION)");
}

TEST(RpcErrorTest, OnlyUnreachableOrSlowIsTransient) {
  EXPECT_TRUE(IsTransient(grpc::Status(grpc::StatusCode::UNAVAILABLE, "")));
  EXPECT_TRUE(IsTransient(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "")));
  EXPECT_FALSE(IsTransient(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "")));
  EXPECT_FALSE(IsTransient(grpc::Status(grpc::StatusCode::NOT_FOUND, "")));
}

}  // namespace
}  // namespace hermes::ctl
