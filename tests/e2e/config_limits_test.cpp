// The config size limit as users meet it: `hermes --validate` on a file over 4 MiB, and an
// ApplyConfig dry run sent to hermes-controlplane, with and without --max-config-bytes. Real
// processes and a real SQLite file, loopback only.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>

#include "hermes/v1/admin.grpc.pb.h"
#include "tests/e2e/fleet_support.h"
#include "tests/support/eventually.h"

namespace hermes::e2e {
namespace {

constexpr size_t kFiveMiB = 5 * 1024 * 1024;

// A valid native config of exactly `bytes` bytes: endpoints written one per line, each line
// padded with a comment, so that it stays under the node limit (about 3 nodes per 100 bytes).
std::string ConfigOfSize(size_t bytes) {
  std::string text =
      "listeners: [ { name: main, address: \"127.0.0.1:1\" } ]\n"
      "admin: { address: off }\n"
      "routes: [ { name: all, match: { prefix: / }, cluster: web } ]\n"
      "clusters:\n"
      "  - name: web\n"
      "    health_check: { enabled: false }\n"
      "    endpoints:\n";
  const std::string padding(60, 'x');
  for (int i = 0; text.size() + 200 < bytes; ++i) {
    text += "      - { address: \"10." + std::to_string(i / 65536 % 256) + "." +
            std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + ":8080\" }  # " +
            padding + "\n";
  }
  text += "#";
  text.append(bytes - text.size() - 1, 'x');
  return text + "\n";
}

class ConfigLimitsTest : public ::testing::Test {
 protected:
  std::string WriteConfig(size_t bytes) {
    const std::string path = dir_.File("config.yaml");
    WriteFile(path, ConfigOfSize(bytes));
    return path;
  }

  TempDir dir_;
};

TEST_F(ConfigLimitsTest, ValidateRefusesAFileOverFourMiBNamingBothSizes) {
  const std::string path = WriteConfig(kFiveMiB);
  const Finished run = RunCommand({HERMES_BINARY, "--validate", "-config", path}, dir_, 60s);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_NE(run.err.find(path + ": 5242880 bytes is over the 4194304-byte limit "
                                "(--max-config-bytes)"),
            std::string::npos)
      << run.err;
}

TEST_F(ConfigLimitsTest, ValidateAcceptsTheSameFileUnderARaisedLimit) {
  const std::string path = WriteConfig(kFiveMiB);
  const Finished run = RunCommand(
      {HERMES_BINARY, "--validate", "--max-config-bytes", "6000000", "-config", path}, dir_, 120s);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("valid (native format)"), std::string::npos) << run.out;
}

TEST_F(ConfigLimitsTest, ValidateRefusesANonsenseLimit) {
  const Finished run = RunCommand(
      {HERMES_BINARY, "--validate", "--max-config-bytes", "lots", "-config", "x.yaml"}, dir_);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--max-config-bytes: \"lots\" is not a number of bytes"),
            std::string::npos)
      << run.err;
}

TEST_F(ConfigLimitsTest, ReloadRefusesAFileThatGrewOverTheLimitAndKeepsServing) {
  const uint16_t admin = FreePort();
  const std::string path = dir_.File("serve.yaml");
  const std::string config = "listeners: [ { name: main, address: \"127.0.0.1:" +
                             std::to_string(FreePort()) + "\" } ]\nadmin: { address: \"127.0.0.1:" +
                             std::to_string(admin) + "\" }\n";
  WriteFile(path, config);
  Process hermes({HERMES_BINARY, "-config", path, "--workers", "1", "--max-config-bytes", "1000"},
                 dir_.File("hermes.out"), dir_.File("hermes.err"));
  ASSERT_TRUE(test::Eventually(
      [&] {
        return Curl({"-o", "/dev/null", "-w", "%{http_code}", Url(admin, "/ready")}, dir_).out ==
               "200";
      },
      20s))
      << hermes.err();

  WriteFile(path, config + "#" + std::string(1000, 'x') + "\n");
  const Finished reload = Curl({"-X", "POST", Url(admin, "/reload")}, dir_);
  EXPECT_NE(reload.out.find("\"refused\""), std::string::npos) << reload.out;
  EXPECT_NE(reload.out.find(path + ": " + std::to_string(config.size() + 1002) +
                            " bytes is over the 1000-byte limit (--max-config-bytes)"),
            std::string::npos)
      << reload.out;
  EXPECT_EQ(Curl({"-o", "/dev/null", "-w", "%{http_code}", Url(admin, "/ready")}, dir_).out, "200");
}

TEST_F(ConfigLimitsTest, ControlPlaneRefusesAnOversizeDryRunAndStoresNothing) {
  ControlPlane cp(dir_, dir_.File("cp.db"));
  v1::ApplyConfigRequest request;
  request.set_yaml(ConfigOfSize(kFiveMiB));
  request.set_source_name("fleet.yaml");
  request.set_dry_run(true);
  v1::ApplyConfigResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 30s);
  const grpc::Status status = cp.admin().ApplyConfig(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "ApplyConfig: 5242880 bytes is over the 4194304-byte limit (--max-config-bytes)");

  // Not a dry run either: nothing is stored.
  request.set_dry_run(false);
  grpc::ClientContext again;
  again.set_deadline(std::chrono::system_clock::now() + 30s);
  EXPECT_EQ(cp.admin().ApplyConfig(&again, request, &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext list;
  v1::ListVersionsResponse versions;
  ASSERT_TRUE(cp.admin().ListVersions(&list, {}, &versions).ok());
  EXPECT_EQ(versions.versions_size(), 0);
}

TEST_F(ConfigLimitsTest, HermesctlRefusesAnOversizeFileBeforeSendingIt) {
  // Nothing listens on port 1: a refusal that needed the control plane would say it is
  // unreachable.
  const std::string path = WriteConfig(kFiveMiB);
  const Finished run = RunCommand(
      {HERMESCTL_BINARY, "--server", "127.0.0.1:1", "apply", "-f", path, "--dry-run"}, dir_);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find(path + ": 5242880 bytes is over the 4194304-byte limit"),
            std::string::npos)
      << run.err;
}

TEST_F(ConfigLimitsTest, RaisedLimitsOnBothSidesLetTheDryRunThrough) {
  ControlPlane cp(dir_, dir_.File("cp.db"), {"--max-config-bytes", "6000000"});
  const std::string path = WriteConfig(kFiveMiB);
  // hermesctl over its own limit only: the control plane's default refuses it.
  ControlPlane strict(dir_, dir_.File("strict.db"));
  const Finished refused =
      RunCommand({HERMESCTL_BINARY, "--server", strict.address(), "--timeout", "60s", "apply", "-f",
                  path, "--dry-run", "--max-config-bytes", "6000000"},
                 dir_, 90s);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("ApplyConfig: 5242880 bytes is over the 4194304-byte limit"),
            std::string::npos)
      << refused.err;

  const Finished run =
      RunCommand({HERMESCTL_BINARY, "--server", cp.address(), "--timeout", "60s", "apply", "-f",
                  path, "--dry-run", "--max-config-bytes", "6000000"},
                 dir_, 90s);
  EXPECT_EQ(run.exit_code, 0) << run.err << run.out;
}

}  // namespace
}  // namespace hermes::e2e
