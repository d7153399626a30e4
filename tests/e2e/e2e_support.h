// What the end-to-end tests share: temp dirs, child processes with captured output, curl, and
// the test upstream as a process. Loopback only; every child is killed when its object goes.
#pragma once

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

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

inline void WriteFile(const std::string& path, std::string_view content) {
  std::ofstream(path, std::ios::trunc) << content;
}

// A free loopback port: bound on port 0, then released for the child to bind.
inline uint16_t FreePort() {
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
inline Finished RunCommand(const std::vector<std::string>& argv, const TempDir& dir,
             std::chrono::milliseconds timeout = 20s) {
  static int runs = 0;
  const std::string name = "run" + std::to_string(++runs);
  Process process(argv, dir.File(name + ".out"), dir.File(name + ".err"));
  const auto code = process.WaitExit(timeout);
  return {code.value_or(-1), process.out(), process.err()};
}

inline Finished Shell(const std::string& command, const TempDir& dir,
               std::chrono::milliseconds timeout = 20s) {
  return RunCommand({"/bin/sh", "-c", command}, dir, timeout);
}

// curl -sS with a time limit; stdout is the response body (or what -w prints).
inline Finished Curl(const std::vector<std::string>& args, const TempDir& dir) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "--max-time", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv, dir, 15s);
}

inline std::string Url(uint16_t port, std::string_view path) {
  return "http://127.0.0.1:" + std::to_string(port) + std::string(path);
}

// A hermes-test-upstream process on a port of its choosing (or `port`, to revive one).
class UpstreamProcess {
 public:
  UpstreamProcess(const TempDir& dir, const std::string& name, uint16_t port = 0)
      : process_({HERMES_TEST_UPSTREAM_BINARY, "--listen", "127.0.0.1:" + std::to_string(port), "--name", name},
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
  Process& process() { return process_; }

 private:
  Process process_;
  uint16_t port_ = 0;
};

}  // namespace hermes::e2e
