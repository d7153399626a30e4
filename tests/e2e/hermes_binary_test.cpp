// The `hermes` executable as users run it: command-line flags, both config formats, signals,
// and gigabyte bodies streamed in bounded memory. Real processes (hermes, hermes-test-upstream,
// curl), loopback only; every child is killed at the end of its test.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "tests/e2e/e2e_support.h"

namespace hermes::e2e {
namespace {

// A hermes process serving `config_path`, ready (GET /ready on the admin port is 200) or a
// failed expectation.
class HermesProcess {
 public:
  HermesProcess(const TempDir& dir, const std::string& config_path, uint16_t admin_port)
      : dir_(dir),
        process_({HERMES_BINARY, "-config", config_path, "--workers", "1"}, dir.File("hermes.out"),
                 dir.File("hermes.err")) {
    const auto until = Clock::now() + 20s;
    while (Clock::now() < until && process_.running()) {
      const Finished ready =
          RunCommand({"/usr/bin/curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1",
               Url(admin_port, "/ready")},
              dir_, 3s);
      if (ready.out == "200") return;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "hermes did not become ready: " << process_.err();
  }
  Process& process() { return process_; }

  // VmHWM (peak resident set) and VmRSS (resident set now) of the running process, in KiB;
  // 0 if unknown.
  uint64_t PeakRssKib() const { return StatusKib("VmHWM:"); }
  uint64_t RssKib() const { return StatusKib("VmRSS:"); }

 private:
  pid_t process_pid() const { return const_cast<Process&>(process_).pid(); }
  uint64_t StatusKib(const std::string& key) const {
    std::ifstream status("/proc/" + std::to_string(process_pid()) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind(key, 0) == 0) return std::stoull(line.substr(key.size()));
    }
    return 0;
  }

  const TempDir& dir_;
  Process process_;
};

// A native-format config: one listener, admin, cluster "up" over the upstreams, one route.
std::string NativeConfig(uint16_t listen_port, uint16_t admin_port,
                         const std::vector<uint16_t>& upstream_ports, std::string_view routes,
                         std::string_view listener_extra = "") {
  std::string yaml = "listeners:\n  - { name: main, address: \"127.0.0.1:" +
                     std::to_string(listen_port) + "\", drain_timeout: 10s" +
                     std::string(listener_extra) + " }\n";
  yaml += "admin: { address: \"127.0.0.1:" + std::to_string(admin_port) + "\" }\n";
  yaml += "clusters:\n  - name: up\n    endpoints:\n";
  for (const uint16_t port : upstream_ports) {
    yaml += "      - { address: \"127.0.0.1:" + std::to_string(port) + "\" }\n";
  }
  yaml += "routes:\n";
  yaml += routes;
  return yaml;
}

class HermesBinaryTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(HermesBinaryTest, VersionPrintsTheVersionAndExits0) {
  const Finished run = RunCommand({HERMES_BINARY, "--version"}, dir_);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_TRUE(run.out.starts_with("hermes ")) << run.out;
}

TEST_F(HermesBinaryTest, HelpPrintsUsageAndExits0) {
  const Finished run = RunCommand({HERMES_BINARY, "--help"}, dir_);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.out.find("usage: hermes -config FILE"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("--validate"), std::string::npos) << run.out;
}

TEST_F(HermesBinaryTest, ValidateAcceptsTheShippedOriginalFormatConfig) {
  const Finished run =
      RunCommand({HERMES_BINARY, "--validate", "-config", HERMES_SOURCE_DIR "/config/hermes.yaml"}, dir_);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("valid"), std::string::npos) << run.out;
}

TEST_F(HermesBinaryTest, ValidateAcceptsTheShippedNativeConfig) {
  const Finished run =
      RunCommand({HERMES_BINARY, "--validate", "-config", HERMES_SOURCE_DIR "/config/example.yaml"}, dir_);
  EXPECT_EQ(run.exit_code, 0) << run.err;
}

TEST_F(HermesBinaryTest, ValidateRejectsAnInvalidFileNamingTheFieldPath) {
  const std::string path = dir_.File("invalid.yaml");
  WriteFile(path,
            "clusters: [ { name: up, endpoints: [ { address: \"127.0.0.1:1\" } ] } ]\n"
            "routes: [ { name: r, cluster: nope } ]\n");
  const Finished run = RunCommand({HERMES_BINARY, "--validate", "-config", path}, dir_);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("routes[0].cluster"), std::string::npos) << run.err;
}

TEST_F(HermesBinaryTest, OriginalFormatConfigRoundRobinsAcrossBackends) {
  UpstreamProcess one(dir_, "one");
  UpstreamProcess two(dir_, "two");
  const uint16_t listen = FreePort();
  const uint16_t admin = FreePort();
  const std::string path = dir_.File("hermes.yaml");
  WriteFile(path, "server: { listen: \"127.0.0.1:" + std::to_string(listen) +
                      "\", admin_listen: \"127.0.0.1:" + std::to_string(admin) + "\" }\n" +
                      "backends: [ { address: \"127.0.0.1:" + std::to_string(one.port()) +
                      "\", weight: 1 }, { address: \"127.0.0.1:" + std::to_string(two.port()) +
                      "\", weight: 1 } ]\n"
                      "load_balancing: { algorithm: \"round-robin\" }\n"
                      "health_check: { enabled: true, interval: 10s, timeout: 2s, path: "
                      "\"/health\", unhealthy_threshold: 3, healthy_threshold: 2 }\n"
                      "circuit_breaker: { enabled: true, failure_threshold: 5, "
                      "success_threshold: 3, timeout: 30s }\n"
                      "buffer: { max_request_body: 10485760 }\n");
  HermesProcess hermes(dir_, path, admin);

  std::vector<std::string> bodies;
  for (int i = 0; i < 6; ++i) {
    const Finished curl = Curl({Url(listen, "/")}, dir_);
    ASSERT_EQ(curl.exit_code, 0) << curl.err;
    bodies.push_back(curl.out);
  }
  const std::string from_one = "hello from upstream one\n";
  const std::string from_two = "hello from upstream two\n";
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    EXPECT_TRUE(bodies[i] == from_one || bodies[i] == from_two) << bodies[i];
    if (i > 0) {
      EXPECT_NE(bodies[i], bodies[i - 1]) << "request " << i << " went to the same backend";
    }
  }
}

TEST_F(HermesBinaryTest, SighupReloadsTheConfigFile) {
  UpstreamProcess upstream(dir_, "up");
  const uint16_t listen = FreePort();
  const uint16_t admin = FreePort();
  const std::string path = dir_.File("hermes.yaml");
  WriteFile(path, NativeConfig(listen, admin, {upstream.port()},
                               "  - { name: a, match: { prefix: /a }, cluster: up }\n"));
  HermesProcess hermes(dir_, path, admin);
  const std::vector<std::string> status_of_b = {"-o", "/dev/null", "-w", "%{http_code}",
                                                Url(listen, "/b")};
  ASSERT_EQ(Curl(status_of_b, dir_).out, "404");

  WriteFile(path, NativeConfig(listen, admin, {upstream.port()},
                               "  - { name: a, match: { prefix: /a }, cluster: up }\n"
                               "  - { name: b, match: { prefix: /b }, cluster: up }\n"));
  hermes.process().Signal(SIGHUP);
  std::string status;
  const auto until = Clock::now() + 5s;
  while (Clock::now() < until && (status = Curl(status_of_b, dir_).out) != "200") {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(status, "200");
  EXPECT_TRUE(hermes.process().running());
}

// NativeConfig with admin.token_file set to `token_file`.
std::string WithAdminToken(std::string yaml, uint16_t admin_port, const std::string& token_file) {
  const std::string admin = "admin: { address: \"127.0.0.1:" + std::to_string(admin_port) + "\"";
  yaml.replace(yaml.find(admin), admin.size(), admin + ", token_file: \"" + token_file + "\"");
  return yaml;
}

TEST_F(HermesBinaryTest, AdminTokenFileGuardsConfigAndReload) {
  UpstreamProcess upstream(dir_, "up");
  const uint16_t listen = FreePort();
  const uint16_t admin = FreePort();
  const std::string token_file = dir_.File("admin-token");
  WriteFile(token_file, "e2e-admin-token\n");
  const std::string path = dir_.File("hermes.yaml");
  WriteFile(path, WithAdminToken(NativeConfig(listen, admin, {upstream.port()}, "  - { name: all, cluster: up }\n"),
                                 admin, token_file));
  HermesProcess hermes(dir_, path, admin);
  auto status = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"-o", "/dev/null", "-w", "%{http_code}"});
    return Curl(args, dir_).out;
  };
  const std::string bearer = "Authorization: Bearer e2e-admin-token";

  EXPECT_EQ(status({"-X", "POST", Url(admin, "/reload")}), "401");
  EXPECT_EQ(status({"-X", "POST", "-H", "Authorization: Bearer nope", Url(admin, "/reload")}), "401");
  EXPECT_EQ(status({"-X", "POST", "-H", bearer, Url(admin, "/reload")}), "200");
  EXPECT_EQ(status({"-H", bearer, Url(admin, "/reload")}), "405");
  EXPECT_EQ(status({"-X", "POST", "-H", bearer, "-H", "Origin: http://evil.example", Url(admin, "/reload")}),
            "403");
  EXPECT_EQ(status({Url(admin, "/config")}), "401");
  EXPECT_EQ(status({"-H", bearer, Url(admin, "/config")}), "200");
  EXPECT_EQ(status({Url(admin, "/health")}), "200");
  EXPECT_EQ(hermes.process().err().find("e2e-admin-token"), std::string::npos) << "the token was logged";
}

TEST_F(HermesBinaryTest, UnreadableAdminTokenFileStopsTheStartNamingTheFile) {
  const std::string missing = dir_.File("no-such-token");
  const std::string path = dir_.File("hermes.yaml");
  const uint16_t admin = FreePort();
  WriteFile(path, WithAdminToken(NativeConfig(FreePort(), admin, {FreePort()}, "  - { name: all, cluster: up }\n"),
                                 admin, missing));
  const Finished run = RunCommand({HERMES_BINARY, "-config", path, "--workers", "1"}, dir_);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("admin.token_file: cannot read token file " + missing), std::string::npos) << run.err;
}

TEST_F(HermesBinaryTest, SigtermWaitsForTheRequestInFlightThenExits0) {
  UpstreamProcess upstream(dir_, "up");
  const uint16_t listen = FreePort();
  const uint16_t admin = FreePort();
  const std::string path = dir_.File("hermes.yaml");
  WriteFile(path, NativeConfig(listen, admin, {upstream.port()}, "  - { name: all, cluster: up }\n"));
  HermesProcess hermes(dir_, path, admin);

  Process curl({"/usr/bin/curl", "-sS", "--max-time", "10", Url(listen, "/delay/1500")},
               dir_.File("curl.out"), dir_.File("curl.err"));
  std::this_thread::sleep_for(500ms);  // the request is at the upstream, waiting
  const auto signalled = Clock::now();
  hermes.process().Signal(SIGTERM);
  const auto hermes_exit = hermes.process().WaitExit(15s);
  const auto hermes_took = Clock::now() - signalled;
  const auto curl_exit = curl.WaitExit(5s);

  EXPECT_EQ(hermes_exit, 0) << hermes.process().err();
  EXPECT_EQ(curl_exit, 0) << curl.err();
  EXPECT_EQ(curl.out(), "delayed\n");
  EXPECT_GE(hermes_took, 500ms) << "hermes exited before the request in flight completed";
}

TEST_F(HermesBinaryTest, GigabyteUploadStreamsInBoundedMemory) {
  UpstreamProcess upstream(dir_, "up");
  const uint16_t listen = FreePort();
  const uint16_t admin = FreePort();
  const std::string path = dir_.File("hermes.yaml");
  WriteFile(path, NativeConfig(listen, admin, {upstream.port()}, "  - { name: all, cluster: up }\n",
                               ", max_request_body: 0, idle_timeout: 30s"));
  HermesProcess hermes(dir_, path, admin);
  const uint64_t before_kib = hermes.RssKib();

  const Finished upload =
      Shell("head -c 1073741824 /dev/zero | /usr/bin/curl -sS --max-time 55 -T - " +
                Url(listen, "/upload"),
            dir_, 60s);
  EXPECT_EQ(upload.exit_code, 0) << upload.err;
  EXPECT_EQ(upload.out, "{\"bytes\":1073741824}\n");
  // What the gigabyte added to the process at its peak (the sanitizers' own ~100 MiB are there
  // before): a proxy that buffered it would grow by ~1 GiB.
  const uint64_t peak_kib = hermes.PeakRssKib();
  ASSERT_GT(before_kib, 0u);
  ASSERT_GE(peak_kib, before_kib);
  EXPECT_LT(peak_kib - before_kib, 16u * 1024) << "peak RSS " << peak_kib / 1024 << " MiB, "
                                               << before_kib / 1024 << " MiB before";
}

TEST_F(HermesBinaryTest, GigabyteDownloadStreamsInBoundedMemory) {
  UpstreamProcess upstream(dir_, "up");
  const uint16_t listen = FreePort();
  const uint16_t admin = FreePort();
  const std::string path = dir_.File("hermes.yaml");
  WriteFile(path, NativeConfig(listen, admin, {upstream.port()}, "  - { name: all, cluster: up }\n",
                               ", idle_timeout: 30s"));
  HermesProcess hermes(dir_, path, admin);
  const uint64_t before_kib = hermes.RssKib();

  const Finished download =
      RunCommand({"/usr/bin/curl", "-sS", "--max-time", "55", "-o", "/dev/null", "-w", "%{size_download}",
           Url(listen, "/bytes/1073741824")},
          dir_, 60s);
  EXPECT_EQ(download.exit_code, 0) << download.err;
  EXPECT_EQ(download.out, "1073741824");
  // What the gigabyte added to the process at its peak (the sanitizers' own ~100 MiB are there
  // before): a proxy that buffered it would grow by ~1 GiB.
  const uint64_t peak_kib = hermes.PeakRssKib();
  ASSERT_GT(before_kib, 0u);
  ASSERT_GE(peak_kib, before_kib);
  EXPECT_LT(peak_kib - before_kib, 16u * 1024) << "peak RSS " << peak_kib / 1024 << " MiB, "
                                               << before_kib / 1024 << " MiB before";
}

}  // namespace
}  // namespace hermes::e2e
