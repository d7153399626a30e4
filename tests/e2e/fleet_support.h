// The fleet's processes for end-to-end tests: hermes-controlplane on a real SQLite file, managed
// hermes proxies, and hermesctl, all on loopback.
#pragma once

#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "hermes/v1/admin.grpc.pb.h"
#include "tests/e2e/e2e_support.h"

namespace hermes::e2e {

class ControlPlane {
 public:
  explicit ControlPlane(const TempDir& dir, const std::string& db, std::vector<std::string> extra = {})
      : process_(Argv(db, std::move(extra)),
                 dir.File("cp" + std::to_string(index_) + ".out"),
                 dir.File("cp" + std::to_string(index_) + ".err")) {
    const auto until = Clock::now() + 20s;
    while (Clock::now() < until && process_.running()) {
      std::string out = process_.out();
      auto line = out.find("listening on ");
      auto at = line == std::string::npos ? line : out.find("(port ", line);
      auto end = at == std::string::npos ? at : out.find(')', at);
      if (end != std::string::npos) {
        port_ = static_cast<uint16_t>(std::stoi(out.substr(at + 6, end - at - 6)));
        channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port_),
                                       grpc::InsecureChannelCredentials());
        admin_ = v1::AdminService::NewStub(channel_);
        return;
      }
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "control plane did not start: " << process_.err();
  }

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // The HTTP listener's port, from its start-up log line.
  uint16_t http_port() {
    std::string out = process_.out();  // spdlog writes to stdout
    const std::string mark = "/metrics) on 127.0.0.1:0 (port ";
    auto at = out.find(mark);
    if (at == std::string::npos) return 0;
    return static_cast<uint16_t>(std::stoi(out.substr(at + mark.size())));
  }
  Process& process() { return process_; }
  v1::AdminService::Stub& admin() { return *admin_; }

  static std::vector<std::string> Argv(const std::string& db, std::vector<std::string> extra) {
    std::vector<std::string> argv = {HERMES_CONTROLPLANE_BINARY, "--listen", "127.0.0.1:0", "--db", db,
                                     "--http-listen", "127.0.0.1:0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  v1::ApplyConfigResponse Apply(const std::string& yaml, const std::string& message = "test") {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::ApplyConfigRequest request;
    request.set_yaml(yaml);
    request.set_source_name("fleet.yaml");
    request.set_author("e2e");
    request.set_message(message);
    v1::ApplyConfigResponse response;
    grpc::Status status = admin_->ApplyConfig(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  v1::ListProxiesResponse Proxies() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    v1::ListProxiesResponse response;
    grpc::Status status = admin_->ListProxies(&context, {}, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  // Waits until `node` reports `state` (SYNCED...); false after 20 s.
  bool WaitFor(const std::string& node, v1::SyncState state) {
    const auto until = Clock::now() + 20s;
    while (Clock::now() < until) {
      v1::ListProxiesResponse list = Proxies();
      for (const auto& p : list.proxies())
        if (p.node().id() == node && p.state() == state) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

 private:
  static inline int starts_ = 0;
  int index_ = ++starts_;  // before process_: names its output files
  Process process_;
  uint16_t port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

class ManagedProxy {
 public:
  // `override_listen` false: the proxy serves on the listener address the config pushes.
  ManagedProxy(const TempDir& dir, const std::string& id, const std::string& control_plane,
               bool override_listen = true, std::vector<std::string> extra = {})
      : port_(FreePort()), admin_port_(FreePort()) {
    std::vector<std::string> argv = {HERMES_BINARY, "--control-plane", control_plane, "--node-id", id,
                                     "--label", "zone=a", "--cache-dir", dir.File("cache-" + id),
                                     "--admin-listen", "127.0.0.1:" + std::to_string(admin_port_),
                                     "--workers", "1"};
    if (override_listen) {
      argv.push_back("--listen");
      argv.push_back("127.0.0.1:" + std::to_string(port_));
    }
    argv.insert(argv.end(), extra.begin(), extra.end());
    process_ = std::make_unique<Process>(argv, dir.File(id + ".out"), dir.File(id + ".err"));
  }
  uint16_t port() const { return port_; }
  uint16_t admin_port() const { return admin_port_; }
  Process& process() { return *process_; }

 private:
  uint16_t port_;
  uint16_t admin_port_;
  std::unique_ptr<Process> process_;
};

inline Finished Ctl(const TempDir& dir, const ControlPlane& cp, std::vector<std::string> args,
             const std::string& env = "") {
  std::string command = "HERMES_SERVER=" + cp.address() + " " + env + " " + HERMESCTL_BINARY;
  for (const auto& a : args) command += " '" + a + "'";
  return Shell(command, dir);
}

}  // namespace hermes::e2e
