// Issue 6 end to end: progressive rollouts over a control plane (real SQLite file), five managed
// proxies and real upstreams on loopback. A 20% step reaches exactly the canary; a version that
// sends traffic to a dead upstream is aborted by the gate and its canary returns; a control-plane
// kill -9 mid-rollout resumes it; a stale --if-version and a fleet-wide apply during a rollout
// are refused.
#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <iostream>
#include <atomic>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/e2e/fleet_support.h"
#include "tests/support/eventually.h"

namespace hermes::e2e {
namespace {

using SysClock = std::chrono::system_clock;

// The documented canary order (admin.proto): FNV-1a 64 of the node id, written out here as the
// specification the control plane must meet.
uint64_t Fnv1a64(const std::string& s) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::vector<std::string> CanaryOrder(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end(), [](const std::string& a, const std::string& b) {
    return Fnv1a64(a) != Fnv1a64(b) ? Fnv1a64(a) < Fnv1a64(b) : a < b;
  });
  return ids;
}

std::string Yaml(uint16_t upstream_port) {
  return "listeners: [ { name: main, address: \"127.0.0.1:1\" } ]\n"
         "admin: { address: off }\n"
         "clusters:\n"
         "  - name: web\n"
         "    endpoints: [ { address: \"127.0.0.1:" + std::to_string(upstream_port) + "\" } ]\n"
         "routes:\n"
         "  - name: all\n"
         "    match: { prefix: / }\n"
         "    cluster: web\n";
}

template <class Response, class Request, class Method>
grpc::Status Call(ControlPlane& cp, Method method, const Request& request, Response* response) {
  grpc::ClientContext context;
  context.set_deadline(SysClock::now() + 10s);
  return (cp.admin().*method)(&context, request, response);
}

v1::Rollout GetRollout(ControlPlane& cp, uint64_t id = 0) {
  v1::GetRolloutRequest request;
  request.set_id(id);
  v1::RolloutResponse response;
  grpc::Status s = Call(cp, &v1::AdminService::Stub::GetRollout, request, &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return response.rollout();
}

uint64_t Stage(ControlPlane& cp, const std::string& yaml) {
  v1::ApplyConfigRequest request;
  request.set_yaml(yaml);
  request.set_source_name("next.yaml");
  request.set_author("e2e");
  request.set_stage(true);
  v1::ApplyConfigResponse response;
  grpc::Status s = Call(cp, &v1::AdminService::Stub::ApplyConfig, request, &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(response.staged());
  return response.version().id();
}

v1::Rollout Start(ControlPlane& cp, uint64_t version, std::vector<double> steps, int64_t interval_ms,
                  bool auto_promote) {
  v1::StartRolloutRequest request;
  request.set_version(version);
  for (double s : steps) request.add_steps_percent(s);
  request.set_interval_ms(interval_ms);
  request.set_auto_promote(auto_promote);
  request.set_author("e2e");
  v1::RolloutResponse response;
  grpc::Status s = Call(cp, &v1::AdminService::Stub::StartRollout, request, &response);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return response.rollout();
}

// Waits until the rollout satisfies `done`; the last state read.
template <class Pred>
v1::Rollout WaitRollout(ControlPlane& cp, uint64_t id, Pred done, std::chrono::seconds limit = 30s) {
  v1::Rollout r;
  for (auto until = Clock::now() + limit; Clock::now() < until; std::this_thread::sleep_for(100ms)) {
    r = GetRollout(cp, id);
    if (done(r)) break;
  }
  return r;
}

// Which upstream answered GET / through the proxy on `port` ("" when it failed).
std::string Served(const TempDir& dir, uint16_t port) {
  Finished f = Curl({"-s", "-o", "/dev/null", "-w", "%{http_code} %header{x-upstream}", Url(port, "/")}, dir);
  if (f.out.rfind("200 ", 0) != 0) return "";
  return f.out.substr(4);
}

// Each proxy's running version, by node id.
std::map<std::string, uint64_t> Running(ControlPlane& cp) {
  std::map<std::string, uint64_t> out;
  const v1::ListProxiesResponse list = cp.Proxies();
  for (const auto& p : list.proxies())
    if (p.state() != v1::DISCONNECTED) out[p.node().id()] = p.running_version();
  return out;
}

bool WaitRunning(ControlPlane& cp, const std::map<std::string, uint64_t>& want) {
  for (auto until = Clock::now() + 20s; Clock::now() < until; std::this_thread::sleep_for(50ms))
    if (Running(cp) == want) return true;
  return false;
}

class FleetRolloutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cp_ = std::make_unique<ControlPlane>(dir_, db_, std::vector<std::string>{"--stats-interval", "1s"});
    for (const std::string& id : ids_) proxies_[id] = std::make_unique<ManagedProxy>(dir_, id, cp_->address());
    v1_ = cp_->Apply(Yaml(old_.port())).version().id();
    ASSERT_EQ(v1_, 1u);
    for (const std::string& id : ids_) ASSERT_TRUE(cp_->WaitFor(id, v1::SYNCED)) << id;
  }

  std::map<std::string, uint64_t> All(uint64_t version) const {
    std::map<std::string, uint64_t> out;
    for (const std::string& id : ids_) out[id] = version;
    return out;
  }

  TempDir dir_;
  std::string db_ = dir_.File("hermes.db");
  UpstreamProcess old_{dir_, "old-upstream"};
  UpstreamProcess new_{dir_, "new-upstream"};
  std::unique_ptr<ControlPlane> cp_;
  std::vector<std::string> ids_ = {"p1", "p2", "p3", "p4", "p5"};
  std::map<std::string, std::unique_ptr<ManagedProxy>> proxies_;
  uint64_t v1_ = 0;
};

TEST_F(FleetRolloutTest, ATwentyPercentStepReachesExactlyTheCanaryThenPromotionsReachEveryProxy) {
  const uint64_t v2 = Stage(*cp_, Yaml(new_.port()));
  ASSERT_EQ(v2, 2u);
  // Staged: nobody runs it.
  EXPECT_EQ(Running(*cp_), All(v1_));
  for (const std::string& id : ids_) EXPECT_EQ(Served(dir_, proxies_[id]->port()), "old-upstream");

  v1::Rollout r = Start(*cp_, v2, {20, 100}, 1000, /*auto_promote=*/false);
  const std::string canary = CanaryOrder(ids_).front();
  ASSERT_EQ(r.moved_size(), 1);
  EXPECT_EQ(r.moved(0), canary);
  EXPECT_EQ(r.step_target(), 1u);
  EXPECT_EQ(r.selected_proxies(), 5u);
  std::map<std::string, uint64_t> want = All(v1_);
  want[canary] = v2;
  ASSERT_TRUE(WaitRunning(*cp_, want));
  for (const std::string& id : ids_)
    EXPECT_EQ(Served(dir_, proxies_[id]->port()), id == canary ? "new-upstream" : "old-upstream") << id;

  // Status shows both versions.
  v1::GetStatusResponse status;
  ASSERT_TRUE(Call(*cp_, &v1::AdminService::Stub::GetStatus, v1::GetStatusRequest{}, &status).ok());
  EXPECT_EQ(status.config_version(), v1_);
  EXPECT_EQ(status.newest_version(), v2);
  EXPECT_EQ(status.rollout().id(), r.id());
  std::map<uint64_t, uint32_t> shares;
  for (const auto& s : status.versions()) shares[s.version()] = s.proxies();
  EXPECT_EQ(shares, (std::map<uint64_t, uint32_t>{{v1_, 4}, {v2, 1}}));

  r = WaitRollout(*cp_, r.id(), [](const v1::Rollout& x) { return x.state() == v1::ROLLOUT_WAITING; });
  ASSERT_EQ(r.state(), v1::ROLLOUT_WAITING) << r.reason() << " / " << r.gate().failure();
  EXPECT_TRUE(r.gate().passed());
  EXPECT_EQ(r.gate().acked(), 1u);
  // What an operator sees, through hermesctl.
  Finished shown = Ctl(dir_, *cp_, {"rollout", "status", "-o", "json"});
  EXPECT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("\"state\": \"waiting\""), std::string::npos) << shown.out;
  const auto moved_at = shown.out.find("\"moved\": [");
  ASSERT_NE(moved_at, std::string::npos) << shown.out;
  const std::string moved = shown.out.substr(moved_at, shown.out.find(']', moved_at) - moved_at);
  EXPECT_NE(moved.find("\"" + canary + "\""), std::string::npos) << moved;
  EXPECT_EQ(std::count(moved.begin(), moved.end(), '"'), 4) << "\"moved\" and one node: " << moved;

  v1::RolloutActionRequest promote;
  promote.set_author("e2e");
  v1::RolloutResponse promoted;
  ASSERT_TRUE(Call(*cp_, &v1::AdminService::Stub::PromoteRollout, promote, &promoted).ok());
  EXPECT_EQ(promoted.rollout().step(), 1u);
  EXPECT_EQ(promoted.rollout().moved_size(), 5);
  ASSERT_TRUE(WaitRunning(*cp_, All(v2)));
  r = WaitRollout(*cp_, r.id(), [](const v1::Rollout& x) { return x.state() == v1::ROLLOUT_WAITING; });
  ASSERT_EQ(r.state(), v1::ROLLOUT_WAITING) << r.reason();
  ASSERT_TRUE(Call(*cp_, &v1::AdminService::Stub::PromoteRollout, promote, &promoted).ok());
  EXPECT_EQ(promoted.rollout().state(), v1::ROLLOUT_COMPLETED);

  ASSERT_TRUE(Call(*cp_, &v1::AdminService::Stub::GetStatus, v1::GetStatusRequest{}, &status).ok());
  EXPECT_EQ(status.config_version(), v2);
  EXPECT_EQ(status.rollout().id(), 0u);
  for (const std::string& id : ids_) EXPECT_EQ(Served(dir_, proxies_[id]->port()), "new-upstream") << id;
}

TEST_F(FleetRolloutTest, AVersionSendingTrafficToADeadUpstreamIsAbortedAndItsCanaryReturns) {
  const uint64_t bad = Stage(*cp_, Yaml(FreePort()));  // nothing listens there
  const std::string canary = CanaryOrder(ids_).front();

  // Clients keep sending through every proxy; each records its failures.
  std::atomic<bool> stop{false};
  std::map<std::string, std::atomic<int>> failures, sent, batches;
  for (const std::string& id : ids_) {
    failures[id] = 0;
    sent[id] = 0;
    batches[id] = 0;
  }
  std::vector<std::thread> clients;
  for (const std::string& id : ids_) {
    clients.emplace_back([&, id, port = proxies_[id]->port()] {
      while (!stop) {
        Finished f = Curl({"-s", "-o", "/dev/null", "-w", "%{http_code}\\n", Url(port, "/[1-20]")}, dir_);
        std::istringstream lines(f.out);
        for (std::string line; std::getline(lines, line);) {
          ++sent[id];
          if (line != "200") ++failures[id];
        }
        ++batches[id];  // counted once curl's 20 requests are all done
      }
    });
  }
  std::this_thread::sleep_for(1500ms);  // the fleet's error rate before the rollout: none

  v1::Rollout r = Start(*cp_, bad, {20, 100}, 20000, /*auto_promote=*/true);
  ASSERT_EQ(r.moved_size(), 1);
  EXPECT_EQ(r.moved(0), canary);
  r = WaitRollout(*cp_, r.id(), [](const v1::Rollout& x) { return x.state() == v1::ROLLOUT_ABORTED; });
  ASSERT_EQ(r.state(), v1::ROLLOUT_ABORTED) << r.reason() << " / " << r.gate().failure();
  EXPECT_NE(r.reason().find("gate failed at step 1 (20%): error rate"), std::string::npos) << r.reason();
  EXPECT_GE(r.gate().errors(), 5u);
  // Aborted well before its 20 s interval: the gate decides as soon as the errors are clear.
  EXPECT_LT(r.updated_unix_ms() - r.started_unix_ms(), 15000) << r.reason();

  ASSERT_TRUE(WaitRunning(*cp_, All(v1_)));
  // Failures are counted per batch of 20: the batch under way when the canary went back may
  // still hold some of the bad version's. Every request of the batch after it is on v1.
  const int batch_running = batches[canary];
  ASSERT_TRUE(test::Eventually([&] { return batches[canary] > batch_running; }));
  const int canary_failures = failures[canary];
  std::this_thread::sleep_for(1500ms);
  stop = true;
  for (auto& t : clients) t.join();

  // Errors only on the canary, and none once it was back on the previous version.
  EXPECT_GT(canary_failures, 0);
  EXPECT_EQ(failures[canary], canary_failures);
  for (const std::string& id : ids_) {
    EXPECT_GT(sent[id], 0) << id;
    if (id != canary) {
      EXPECT_EQ(failures[id], 0) << id;
    }
  }
  EXPECT_EQ(Served(dir_, proxies_[canary]->port()), "old-upstream");
  std::cout << "aborted " << r.updated_unix_ms() - r.started_unix_ms() << " ms after the start; canary "
            << canary << ": " << failures[canary] << " failed of " << sent[canary]
            << " requests; other proxies: 0 failed\n";
  v1::GetStatusResponse status;
  ASSERT_TRUE(Call(*cp_, &v1::AdminService::Stub::GetStatus, v1::GetStatusRequest{}, &status).ok());
  EXPECT_EQ(status.config_version(), v1_);
}

TEST_F(FleetRolloutTest, AControlPlaneKilledMidRolloutResumesItWhereItWas) {
  const uint64_t v2 = Stage(*cp_, Yaml(new_.port()));
  v1::Rollout r = Start(*cp_, v2, {20, 60, 100}, 1000, /*auto_promote=*/false);
  const std::vector<std::string> order = CanaryOrder(ids_);
  r = WaitRollout(*cp_, r.id(), [](const v1::Rollout& x) { return x.state() == v1::ROLLOUT_WAITING; });
  ASSERT_EQ(r.state(), v1::ROLLOUT_WAITING) << r.reason();

  const uint16_t port = cp_->port();
  cp_->process().Kill();
  cp_.reset();
  // Proxies keep serving what they were told.
  EXPECT_EQ(Served(dir_, proxies_[order[0]]->port()), "new-upstream");
  EXPECT_EQ(Served(dir_, proxies_[order[1]]->port()), "old-upstream");
  cp_ = std::make_unique<ControlPlane>(
      dir_, db_, std::vector<std::string>{"--stats-interval", "1s", "--listen", "127.0.0.1:" + std::to_string(port)});
  ASSERT_EQ(cp_->port(), port);

  v1::Rollout resumed = GetRollout(*cp_);
  EXPECT_EQ(resumed.id(), r.id());
  EXPECT_EQ(resumed.step(), 0u);
  EXPECT_EQ(resumed.state(), v1::ROLLOUT_WAITING);
  ASSERT_EQ(resumed.moved_size(), 1);
  EXPECT_EQ(resumed.moved(0), order[0]);
  std::map<std::string, uint64_t> want = All(v1_);
  want[order[0]] = v2;
  ASSERT_TRUE(WaitRunning(*cp_, want)) << "every proxy reconnects to the version its step gives it";

  v1::RolloutActionRequest promote;
  promote.set_author("e2e");
  v1::RolloutResponse promoted;
  ASSERT_TRUE(Call(*cp_, &v1::AdminService::Stub::PromoteRollout, promote, &promoted).ok());
  EXPECT_EQ(promoted.rollout().step(), 1u);
  ASSERT_EQ(promoted.rollout().moved_size(), 3);  // ceil(60% of 5)
  for (int i = 0; i < 3; ++i) EXPECT_EQ(promoted.rollout().moved(i), order[static_cast<size_t>(i)]);
  for (int i = 1; i < 3; ++i) want[order[static_cast<size_t>(i)]] = v2;
  EXPECT_TRUE(WaitRunning(*cp_, want));
}

TEST_F(FleetRolloutTest, AStaleIfVersionAndAFleetWideApplyDuringARolloutAreRefused) {
  v1::ApplyConfigRequest request;
  request.set_yaml(Yaml(new_.port()));
  request.set_author("e2e");
  request.set_if_version(7);
  v1::ApplyConfigResponse response;
  grpc::Status conflict = Call(*cp_, &v1::AdminService::Stub::ApplyConfig, request, &response);
  EXPECT_EQ(conflict.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_NE(conflict.error_message().find("the newest stored version is v1, not v7"), std::string::npos)
      << conflict.error_message();
  request.set_if_version(v1_);
  request.set_stage(true);
  ASSERT_TRUE(Call(*cp_, &v1::AdminService::Stub::ApplyConfig, request, &response).ok());
  const uint64_t v2 = response.version().id();
  EXPECT_EQ(v2, 2u);

  v1::Rollout r = Start(*cp_, v2, {20, 100}, 60000, false);
  v1::ApplyConfigRequest fleet_wide;
  fleet_wide.set_yaml(Yaml(new_.port()).replace(0, 0, "# all at once\n"));
  fleet_wide.set_author("e2e");
  grpc::Status refused = Call(*cp_, &v1::AdminService::Stub::ApplyConfig, fleet_wide, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find("rollout 1 of v2 is in progress"), std::string::npos);
  v1::ListVersionsResponse versions;
  ASSERT_TRUE(Call(*cp_, &v1::AdminService::Stub::ListVersions, v1::ListVersionsRequest{}, &versions).ok());
  EXPECT_EQ(versions.versions_size(), 2) << "a refused apply stores nothing";

  // --force aborts the rollout, then applies to everyone.
  Finished forced = Ctl(dir_, *cp_, {"rollback", "1", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.out << forced.err;
  EXPECT_EQ(GetRollout(*cp_, r.id()).state(), v1::ROLLOUT_ABORTED);
  ASSERT_TRUE(WaitRunning(*cp_, All(3)));
}

TEST_F(FleetRolloutTest, ADrainedProxyRefusesNewConnectionsAndReportsDrainedWhileTheOthersServe) {
  const std::string node = "p4";
  EXPECT_EQ(Served(dir_, proxies_[node]->port()), "old-upstream");
  Finished drained = Ctl(dir_, *cp_, {"drain", node, "--wait", "--wait-timeout", "20s"});
  EXPECT_EQ(drained.exit_code, 0) << drained.out << drained.err;
  EXPECT_NE(drained.out.find("drained " + node), std::string::npos) << drained.out;
  Finished refused = Curl({"-s", "-o", "/dev/null", "-w", "%{http_code}", Url(proxies_[node]->port(), "/")}, dir_);
  EXPECT_NE(refused.exit_code, 0) << "a drained proxy takes no new connection";
  EXPECT_EQ(refused.out, "000");
  for (const std::string& id : ids_) {
    if (id != node) {
      EXPECT_EQ(Served(dir_, proxies_[id]->port()), "old-upstream") << id;
    }
  }
  const v1::ListProxiesResponse list = cp_->Proxies();
  for (const auto& p : list.proxies()) {
    if (p.node().id() == node) {
      EXPECT_EQ(p.drain(), v1::DRAINED);
    }
  }
  Finished unknown = Ctl(dir_, *cp_, {"drain", "nobody"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("proxy nobody is not connected"), std::string::npos) << unknown.err;
}

}  // namespace
}  // namespace hermes::e2e
