// What hermesctl's commands do before and around their call: reading the config file and the
// token, and reporting a control plane that cannot be reached or does not know the call. No
// control plane runs here: the stub's channel points at a closed local port, or at a gRPC server
// on loopback whose AdminService implements none of its methods.
#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

#include "ctl/commands.h"

namespace hermes::ctl {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("hermesctl-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    const auto p = path_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  std::string Path(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Port 1 on loopback: nothing listens there, so a call fails at once with UNAVAILABLE.
constexpr const char* kClosedAddress = "127.0.0.1:1";

// Counts the waits and ends each at once as Ctrl-C would, so no test here sleeps.
class InterruptedAtOnce final : public Waiter {
 public:
  bool Wait(std::chrono::milliseconds) override {
    ++waits;
    return false;
  }
  int waits = 0;
};

struct Fixture {
  SystemClock clock;
  InterruptedAtOnce waiter;
  GlobalOptions global;
  std::unique_ptr<v1::AdminService::Stub> stub = v1::AdminService::NewStub(
      grpc::CreateChannel(kClosedAddress, grpc::InsecureChannelCredentials()));
  std::ostringstream out;
  std::ostringstream err;

  Fixture() {
    global.server = kClosedAddress;
    global.timeout = 5s;
  }
  Session MakeSession() { return Session{global, "", clock, waiter, false}; }
};

TEST(ReadConfigFileTest, ReadsTheWholeFile) {
  TempDir dir;
  const std::string path = dir.Write("fleet.yaml", "listeners: []\n");
  const Result<std::string> f = ReadConfigFile(path);
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(*f, "listeners: []\n");
}

TEST(ReadConfigFileTest, RefusesAFileOverTheLimitNamingBothSizes) {
  TempDir dir;
  const std::string path = dir.Write("fleet.yaml", std::string(101, '#'));
  EXPECT_EQ(ReadConfigFile(path, 100).error(),
            path + ": 101 bytes is over the 100-byte limit (--max-config-bytes)");
  EXPECT_TRUE(ReadConfigFile(path, 101).ok());
}

TEST(ReadConfigFileTest, MissingFileNamesThePathAndReason) {
  TempDir dir;
  const std::string path = dir.Path("missing.yaml");
  const Result<std::string> f = ReadConfigFile(path);
  EXPECT_EQ(f.error(), "cannot read " + path + ": No such file or directory");
}

TEST(ResolveTokenTest, HermesTokenWithoutTokenFile) {
  GlobalOptions g;
  g.token = "from-env";
  EXPECT_EQ(ResolveToken(g).value(), "from-env");
}

TEST(ResolveTokenTest, TokenFileWinsAndIsTrimmed) {
  TempDir dir;
  GlobalOptions g;
  g.token = "from-env";
  g.token_file = dir.Write("token", "  s3cret\n");
  const Result<std::string> t = ResolveToken(g);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(*t, "s3cret");
}

TEST(ResolveTokenTest, TrailingSpaceAndNewlineAreNoPartOfTheFilesToken) {
  TempDir dir;
  GlobalOptions g;
  g.token_file = dir.Write("token", "s3cret \n");
  EXPECT_EQ(ResolveToken(g).value(), "s3cret");
}

TEST(ResolveTokenTest, HermesTokenIsTrimmedLikeATokenFile) {
  GlobalOptions g;
  g.token = "s3cret \n";
  EXPECT_EQ(ResolveToken(g).value(), "s3cret");
}

TEST(ResolveTokenTest, ATokenFileOver64KiBIsRefusedLikeTheDaemonsDo) {
  TempDir dir;
  GlobalOptions g;
  g.token_file = dir.Write("token", std::string(65537, 'x'));
  EXPECT_EQ(ResolveToken(g).error(), "token file " + g.token_file + " is larger than 65536 bytes");
}

TEST(ResolveTokenTest, MissingTokenFileIsAnError) {
  TempDir dir;
  GlobalOptions g;
  g.token_file = dir.Path("token");
  EXPECT_EQ(ResolveToken(g).error(),
            "cannot read token file " + g.token_file + ": No such file or directory");
}

TEST(ResolveTokenTest, EmptyTokenFileIsAnError) {
  TempDir dir;
  GlobalOptions g;
  g.token_file = dir.Write("token", "\n");
  EXPECT_EQ(ResolveToken(g).error(), "token file " + g.token_file + " is empty");
}

TEST(RunApplyTest, MissingFileFailsBeforeAnyCall) {
  TempDir dir;
  Fixture fx;
  const ApplyArgs args{dir.Path("fleet.yaml"), "", "ana", false};
  EXPECT_EQ(RunApply(args, fx.MakeSession(), *fx.stub, fx.out, fx.err), 1);
  EXPECT_EQ(fx.err.str(), "hermesctl: cannot read " + args.file + ": No such file or directory\n");
  EXPECT_EQ(fx.out.str(), "");
}

TEST(RunProxiesTest, UnreachableControlPlaneNamesTheAddressAndFails) {
  Fixture fx;
  EXPECT_EQ(RunProxies({}, fx.MakeSession(), *fx.stub, fx.out, fx.err), 1);
  EXPECT_THAT(fx.err.str(), StartsWith("hermesctl: cannot reach the control plane at 127.0.0.1:1"));
  EXPECT_THAT(fx.err.str(), HasSubstr("\nhint: pass --server HOST:PORT or set HERMES_SERVER\n"));
  EXPECT_EQ(fx.out.str(), "");
}

// Runs each command against the unreachable control plane: exit 1, the address named on stderr,
// nothing on stdout, and no wait started (drain --wait, --watch).
void ExpectEachFailsUnreachable(const std::vector<std::function<int(Fixture&)>>& runs) {
  for (size_t i = 0; i < runs.size(); ++i) {
    Fixture fx;
    EXPECT_EQ(runs[i](fx), 1) << i;
    EXPECT_THAT(fx.err.str(),
                StartsWith("hermesctl: cannot reach the control plane at 127.0.0.1:1"))
        << i;
    EXPECT_EQ(fx.out.str(), "") << i;
    EXPECT_EQ(fx.waiter.waits, 0) << i;
  }
}

// Each fleet command against an unreachable control plane: exit 1, nothing on stdout.
TEST(FleetCommandsTest, UnreachableControlPlaneNamesTheAddressAndFails) {
  const std::vector<std::function<int(Fixture&)>> runs = {
      [](Fixture& fx) { return RunStatus({}, fx.MakeSession(), *fx.stub, fx.out, fx.err); },
      [](Fixture& fx) { return RunBackends({}, fx.MakeSession(), *fx.stub, fx.out, fx.err); },
      [](Fixture& fx) { return RunStats({}, fx.MakeSession(), *fx.stub, fx.out, fx.err); },
      [](Fixture& fx) { return RunCircuits({}, fx.MakeSession(), *fx.stub, fx.out, fx.err); },
      [](Fixture& fx) { return RunHealthEvents({}, fx.MakeSession(), *fx.stub, fx.out, fx.err); },
  };
  ExpectEachFailsUnreachable(runs);
}

// A gRPC server on loopback with the generated AdminService base, which implements no method:
// like a control plane older than hermesctl, it answers every call UNIMPLEMENTED.
class ServerWithoutAdminService {
 public:
  ServerWithoutAdminService() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port_);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
  }
  ~ServerWithoutAdminService() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + 5s);
  }
  bool started() const { return server_ != nullptr && port_ > 0; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  v1::AdminService::Service service_;
  int port_ = 0;
  std::unique_ptr<grpc::Server> server_;
};

// The rollout and drain commands against an unreachable control plane: exit 1, nothing on
// stdout, and drain --wait does not start waiting.
TEST(RolloutCommandsTest, UnreachableControlPlaneNamesTheAddressAndFails) {
  const std::vector<std::function<int(Fixture&)>> runs = {
      [](Fixture& fx) {
        return RunRolloutStart(RolloutStartArgs{13}, fx.MakeSession(), *fx.stub, fx.out, fx.err);
      },
      [](Fixture& fx) {
        return RunRolloutAction({RolloutAction::kAbort, "why", "ana"}, fx.MakeSession(), *fx.stub,
                                fx.out, fx.err);
      },
      [](Fixture& fx) { return RunRolloutStatus({}, fx.MakeSession(), *fx.stub, fx.out, fx.err); },
      [](Fixture& fx) { return RunRolloutList({}, fx.MakeSession(), *fx.stub, fx.out, fx.err); },
      [](Fixture& fx) {
        DrainArgs args;
        args.node = "edge-1";
        args.wait = true;
        return RunDrain(args, fx.MakeSession(), *fx.stub, fx.out, fx.err);
      },
  };
  ExpectEachFailsUnreachable(runs);
}

// A watch whose first call fails ends at once: an operator who mistyped --server is not left
// looking at a blank screen.
TEST(WatchCommandsTest, FirstCallFailingEndsTheWatchWithExitOne) {
  WatchArgs watch;
  watch.watch = true;
  const std::vector<std::function<int(Fixture&)>> runs = {
      [&](Fixture& fx) {
        return RunStatus(StatusArgs{false, watch}, fx.MakeSession(), *fx.stub, fx.out, fx.err);
      },
      [&](Fixture& fx) {
        return RunProxies(ProxiesArgs{watch}, fx.MakeSession(), *fx.stub, fx.out, fx.err);
      },
      [&](Fixture& fx) {
        return RunRolloutStatus(RolloutStatusArgs{0, watch}, fx.MakeSession(), *fx.stub, fx.out,
                                fx.err);
      },
  };
  for (size_t i = 0; i < runs.size(); ++i) {
    Fixture fx;
    EXPECT_EQ(runs[i](fx), 1) << i;
    EXPECT_THAT(fx.err.str(), StartsWith("hermesctl: cannot reach the control plane")) << i;
    EXPECT_EQ(fx.out.str(), "") << i;
    EXPECT_EQ(fx.waiter.waits, 0) << i;
  }
}

TEST(FleetCommandsTest, OlderControlPlaneNamesTheCommandAndSaysToUpgrade) {
  ServerWithoutAdminService old_control_plane;
  ASSERT_TRUE(old_control_plane.started());
  Fixture fx;
  fx.global.server = old_control_plane.address();
  fx.stub = v1::AdminService::NewStub(
      grpc::CreateChannel(fx.global.server, grpc::InsecureChannelCredentials()));

  EXPECT_EQ(RunStats(StatsArgs{"", "", 300}, fx.MakeSession(), *fx.stub, fx.out, fx.err), 1);
  EXPECT_EQ(fx.err.str(), "hermesctl: the control plane at " + fx.global.server +
                              " does not support stats; upgrade it\n");
  EXPECT_EQ(fx.out.str(), "");

  fx.err.str("");
  EXPECT_EQ(RunStatus(StatusArgs{true}, fx.MakeSession(), *fx.stub, fx.out, fx.err), 1);
  EXPECT_EQ(fx.err.str(), "hermesctl: the control plane at " + fx.global.server +
                              " does not support status; upgrade it\n");

  fx.err.str("");
  EXPECT_EQ(RunHealthEvents({}, fx.MakeSession(), *fx.stub, fx.out, fx.err), 1);
  EXPECT_EQ(fx.err.str(), "hermesctl: the control plane at " + fx.global.server +
                              " does not support health-events; upgrade it\n");
}

TEST(RolloutCommandsTest, OlderControlPlaneNamesTheSubcommandAndSaysToUpgrade) {
  ServerWithoutAdminService old_control_plane;
  ASSERT_TRUE(old_control_plane.started());
  Fixture fx;
  fx.global.server = old_control_plane.address();
  fx.stub = v1::AdminService::NewStub(
      grpc::CreateChannel(fx.global.server, grpc::InsecureChannelCredentials()));
  const std::string at = "hermesctl: the control plane at " + fx.global.server;

  EXPECT_EQ(RunRolloutStart(RolloutStartArgs{13}, fx.MakeSession(), *fx.stub, fx.out, fx.err), 1);
  EXPECT_EQ(fx.err.str(), at + " does not support rollout start; upgrade it\n");

  fx.err.str("");
  EXPECT_EQ(RunRolloutAction({RolloutAction::kPause, "", "ana"}, fx.MakeSession(), *fx.stub, fx.out,
                             fx.err),
            1);
  EXPECT_EQ(fx.err.str(), at + " does not support rollout pause; upgrade it\n");

  // Not a failure a watch waits out.
  fx.err.str("");
  WatchArgs watch;
  watch.watch = true;
  EXPECT_EQ(
      RunRolloutStatus(RolloutStatusArgs{3, watch}, fx.MakeSession(), *fx.stub, fx.out, fx.err), 1);
  EXPECT_EQ(fx.err.str(), at + " does not support rollout status; upgrade it\n");

  fx.err.str("");
  EXPECT_EQ(RunDrain(DrainArgs{"edge-1"}, fx.MakeSession(), *fx.stub, fx.out, fx.err), 1);
  EXPECT_EQ(fx.err.str(), at + " does not support drain; upgrade it\n");
  EXPECT_EQ(fx.out.str(), "");
}

TEST(DispatchTest, HelpNeedsNoServer) {
  Invocation inv;
  inv.command = "diff";
  inv.args = HelpArgs{"diff"};
  std::ostringstream out, err;
  EXPECT_EQ(Dispatch(inv, out, err), 0);
  EXPECT_THAT(out.str(), StartsWith("Usage: hermesctl diff V1 V2"));
}

TEST(DispatchTest, CompletionNeedsNoServer) {
  Invocation inv;
  inv.command = "completion";
  inv.args = CompletionArgs{"bash"};
  inv.global.server = kClosedAddress;
  std::ostringstream out, err;
  EXPECT_EQ(Dispatch(inv, out, err), 0);
  EXPECT_THAT(out.str(), StartsWith("# bash completion for hermesctl"));
  EXPECT_EQ(err.str(), "");
}

TEST(DispatchTest, HelpOfASubcommand) {
  Invocation inv;
  inv.args = HelpArgs{"rollout start"};
  std::ostringstream out, err;
  EXPECT_EQ(Dispatch(inv, out, err), 0);
  EXPECT_THAT(out.str(), StartsWith("Usage: hermesctl rollout start VERSION"));
}

TEST(DispatchTest, UnreadableTokenFileFailsBeforeAnyCall) {
  TempDir dir;
  Invocation inv;
  inv.command = "proxies";
  inv.args = ProxiesArgs{};
  inv.global.server = kClosedAddress;
  inv.global.token_file = dir.Path("token");
  std::ostringstream out, err;
  EXPECT_EQ(Dispatch(inv, out, err), 1);
  EXPECT_EQ(err.str(), "hermesctl: cannot read token file " + inv.global.token_file +
                           ": No such file or directory\n");
}

}  // namespace
}  // namespace hermes::ctl
