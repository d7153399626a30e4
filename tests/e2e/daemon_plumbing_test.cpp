// The two daemons' shared plumbing, driven through the real binaries: hermes-controlplane's
// --http-listen keeps serving /healthz and /metrics while clients sit idle or half-sent, SIGTERM
// ends the process promptly with such clients connected, and both daemons refuse unknown flags
// and --log-level values with exit code 2.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <csignal>

#include "tests/e2e/fleet_support.h"
#include "tests/support/eventually.h"

namespace hermes::e2e {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A client connection that sends `bytes` (maybe nothing) and then stays open, silent.
class SilentClient {
 public:
  SilentClient(uint16_t port, std::string_view bytes) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    if (!bytes.empty()) asio::write(socket_, asio::buffer(bytes.data(), bytes.size()));
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
};

TEST(DaemonPlumbingTest, ControlPlaneHttpServesWhileClientsSitIdleAndSigtermExitsPromptly) {
  TempDir dir;
  ControlPlane cp(dir, dir.File("hermes.db"));
  uint16_t port = 0;
  ASSERT_TRUE(test::Eventually([&] { return (port = cp.http_port()) != 0; }, 10s))
      << cp.process().out();

  SilentClient idle(port, "");
  SilentClient half(port, "GET /healthz HTTP/1.1\r\nHost");
  Finished healthz = Curl({Url(port, "/healthz")}, dir);
  EXPECT_EQ(healthz.exit_code, 0) << healthz.err;
  EXPECT_EQ(healthz.out, "ok\n");
  Finished metrics = Curl({Url(port, "/metrics")}, dir);
  EXPECT_EQ(metrics.exit_code, 0) << metrics.err;
  EXPECT_NE(metrics.out.find("hermes_controlplane_http_refused_connections_total 0"),
            std::string::npos)
      << metrics.out;

  // Both clients are still connected (their read deadline is 10 s): the exit must not wait for
  // them.
  const auto start = Clock::now();
  cp.process().Signal(SIGTERM);
  EXPECT_EQ(cp.process().WaitExit(8s), 0) << cp.process().err();
  EXPECT_LT(Clock::now() - start, 8s);
}

TEST(DaemonPlumbingTest, AMisspelledLogLevelIsRefusedNamingTheAllowedValues) {
  TempDir dir;
  for (const char* binary : {HERMES_BINARY, HERMES_CONTROLPLANE_BINARY}) {
    const Finished run = RunCommand({binary, "--log-level", "debgu"}, dir);
    EXPECT_EQ(run.exit_code, 2) << binary;
    EXPECT_NE(run.err.find("--log-level: \"debgu\" is not one of trace, debug, info, warn, error"),
              std::string::npos)
        << binary << ": " << run.err;
  }
}

TEST(DaemonPlumbingTest, AnUnknownFlagIsRefusedWithExitCode2) {
  TempDir dir;
  for (const char* binary : {HERMES_BINARY, HERMES_CONTROLPLANE_BINARY}) {
    const Finished run = RunCommand({binary, "--lsiten", "127.0.0.1:0"}, dir);
    EXPECT_EQ(run.exit_code, 2) << binary;
    EXPECT_NE(run.err.find("unknown argument \"--lsiten\""), std::string::npos)
        << binary << ": " << run.err;
  }
}

TEST(DaemonPlumbingTest, HelpPrintsTheUsageOfEachDaemon) {
  TempDir dir;
  const Finished hermes = RunCommand({HERMES_BINARY, "--help"}, dir);
  EXPECT_EQ(hermes.exit_code, 0);
  EXPECT_NE(hermes.out.find("usage: hermes -config FILE"), std::string::npos) << hermes.out;
  const Finished cp = RunCommand({HERMES_CONTROLPLANE_BINARY, "--help"}, dir);
  EXPECT_EQ(cp.exit_code, 0);
  EXPECT_NE(cp.out.find("usage: hermes-controlplane"), std::string::npos) << cp.out;
}

TEST(DaemonPlumbingTest, AnEmptyControlPlaneTokenFileFlagIsRefusedNotTakenAsNoToken) {
  TempDir dir;
  const Finished run = RunCommand({HERMES_CONTROLPLANE_BINARY, "--token-file="}, dir);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--token-file needs a value"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace hermes::e2e
