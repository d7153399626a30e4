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

namespace hermes::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream(path, std::ios::trunc) << content;
}

// A free loopback port: bound on port 0, then released for the child to bind.
uint16_t FreePort() {
  boost::asio::io_context context;
  boost::asio::ip::tcp::acceptor acceptor(
      context, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return acceptor.local_endpoint().port();
}

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/hermes-e2e-XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// A child process with stdout and stderr in files; killed on destruction if still running.
class Process {
 public:
  Process(const std::vector<std::string>& argv, std::string stdout_path, std::string stderr_path)
      : stdout_path_(std::move(stdout_path)), stderr_path_(std::move(stderr_path)) {
    pid_ = fork();
    if (pid_ == 0) {
      const int out = open(stdout_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(out, STDOUT_FILENO);
      dup2(err, STDERR_FILENO);
      std::vector<char*> args;
      for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Process() { Kill(); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    Poll();
    return !exit_code_;
  }

  // The exit code (128 + signal when killed by one) if the process ends within `timeout`.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout) {
    const auto until = Clock::now() + timeout;
    while (!Poll() && Clock::now() < until) std::this_thread::sleep_for(10ms);
    return exit_code_;
  }

  void Signal(int sig) {
    if (running()) kill(pid_, sig);
  }

  void Kill() {
    if (pid_ <= 0 || exit_code_) return;
    kill(pid_, SIGKILL);
    WaitExit(5s);
  }

  std::string out() const { return ReadFile(stdout_path_); }
  std::string err() const { return ReadFile(stderr_path_); }

 private:
  bool Poll() {
    if (exit_code_) return true;
    int status = 0;
    if (pid_ <= 0 || waitpid(pid_, &status, WNOHANG) != pid_) return false;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return true;
  }

  pid_t pid_ = -1;
  std::string stdout_path_;
  std::string stderr_path_;
  std::optional<int> exit_code_;
};

struct Finished {
  int exit_code = -1;  // -1: did not finish in time (killed)
  std::string out;
  std::string err;
};

// Runs a command to completion (at most `timeout`), capturing its output.
Finished RunCommand(const std::vector<std::string>& argv, const TempDir& dir,
             std::chrono::milliseconds timeout = 20s) {
  static int runs = 0;
  const std::string name = "run" + std::to_string(++runs);
  Process process(argv, dir.File(name + ".out"), dir.File(name + ".err"));
  const auto code = process.WaitExit(timeout);
  return {code.value_or(-1), process.out(), process.err()};
}

Finished Shell(const std::string& command, const TempDir& dir,
               std::chrono::milliseconds timeout = 20s) {
  return RunCommand({"/bin/sh", "-c", command}, dir, timeout);
}

// curl -sS with a time limit; stdout is the response body (or what -w prints).
Finished Curl(const std::vector<std::string>& args, const TempDir& dir) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "--max-time", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, dir, 15s);
}

std::string Url(uint16_t port, std::string_view path) {
  return "http://127.0.0.1:" + std::to_string(port) + std::string(path);
}

// A hermes-test-upstream process on a port of its choosing.
class UpstreamProcess {
 public:
  UpstreamProcess(const TempDir& dir, const std::string& name)
      : process_({HERMES_TEST_UPSTREAM_BINARY, "--listen", "127.0.0.1:0", "--name", name},
                 dir.File("upstream-" + name + ".out"), dir.File("upstream-" + name + ".err")) {
    const auto until = Clock::now() + 10s;
    while (Clock::now() < until && process_.running()) {
      const std::string out = process_.out();
      const auto at = out.find("listening on 127.0.0.1:");
      const auto eol = at == std::string::npos ? at : out.find('\n', at);
      if (eol != std::string::npos) {
        port_ = static_cast<uint16_t>(std::stoi(out.substr(at + 23, eol - at - 23)));
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "upstream " << name << " did not start: " << process_.err();
  }
  uint16_t port() const { return port_; }

 private:
  Process process_;
  uint16_t port_ = 0;
};

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

  // VmHWM (peak resident set) of the running process, in KiB; 0 if unknown.
  uint64_t PeakRssKib() const {
    std::ifstream status("/proc/" + std::to_string(process_pid()) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6));
    }
    return 0;
  }

 private:
  pid_t process_pid() const { return const_cast<Process&>(process_).pid(); }

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

  const Finished upload =
      Shell("head -c 1073741824 /dev/zero | /usr/bin/curl -sS --max-time 55 -T - " +
                Url(listen, "/upload"),
            dir_, 60s);
  EXPECT_EQ(upload.exit_code, 0) << upload.err;
  EXPECT_EQ(upload.out, "{\"bytes\":1073741824}\n");
  const uint64_t peak_kib = hermes.PeakRssKib();
  EXPECT_GT(peak_kib, 0u);
  EXPECT_LT(peak_kib, 100u * 1024) << "peak RSS " << peak_kib / 1024 << " MiB";
}

TEST_F(HermesBinaryTest, GigabyteDownloadStreamsInBoundedMemory) {
  UpstreamProcess upstream(dir_, "up");
  const uint16_t listen = FreePort();
  const uint16_t admin = FreePort();
  const std::string path = dir_.File("hermes.yaml");
  WriteFile(path, NativeConfig(listen, admin, {upstream.port()}, "  - { name: all, cluster: up }\n",
                               ", idle_timeout: 30s"));
  HermesProcess hermes(dir_, path, admin);

  const Finished download =
      RunCommand({"/usr/bin/curl", "-sS", "--max-time", "55", "-o", "/dev/null", "-w", "%{size_download}",
           Url(listen, "/bytes/1073741824")},
          dir_, 60s);
  EXPECT_EQ(download.exit_code, 0) << download.err;
  EXPECT_EQ(download.out, "1073741824");
  const uint64_t peak_kib = hermes.PeakRssKib();
  EXPECT_GT(peak_kib, 0u);
  EXPECT_LT(peak_kib, 100u * 1024) << "peak RSS " << peak_kib / 1024 << " MiB";
}

}  // namespace
}  // namespace hermes::e2e
