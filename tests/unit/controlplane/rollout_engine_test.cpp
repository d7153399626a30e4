// The rollout engine over the in-memory stores, an injected clock and a fleet of proxies whose
// ACKs, NACKs and traffic the tests decide.
#include "controlplane/rollout/rollout_engine.h"

#include <gtest/gtest.h>

#include "controlplane/store/memory_stores.h"
#include "store_fixture.h"

namespace hermes::controlplane {
namespace {

const auto kStart = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

// Proxies as the discovery server would report them: a published assignment sets each one's
// target; the test says when they ACK.
class TestFleet final : public Fleet {
 public:
  explicit TestFleet(std::vector<std::string> ids) {
    for (auto& id : ids) Add(id);
  }
  void Add(const std::string& id, std::map<std::string, std::string> labels = {}) {
    StreamStatus s;
    s.node.set_id(id);
    for (auto& [k, v] : labels) (*s.node.mutable_labels())[k] = v;
    s.connected = true;
    proxies_.push_back(s);
    Retarget();
  }
  std::vector<StreamStatus> Proxies() const override { return proxies_; }
  void Publish(int64_t version, const v1::Config&) override {
    fleet_version = version;
    calls.push_back("publish v" + std::to_string(version));
    Retarget();
  }
  void SetRollout(std::optional<RolloutAssignment> rollout) override {
    if (rollout && rollout_ && rollout->rollout_id == rollout_->rollout_id)
      rollout->moved.insert(rollout_->moved.begin(), rollout_->moved.end());
    rollout_ = std::move(rollout);
    calls.push_back(rollout_ ? "rollout v" + std::to_string(rollout_->version) : "no rollout");
    Retarget();
  }
  std::set<std::string> RolloutMoved() const override {
    return rollout_ ? rollout_->moved : std::set<std::string>{};
  }
  GateView ViewForGate(const rollout::Selector& selector,
                       const std::set<std::string>& moved) const override {
    GateView view;
    for (const auto& s : proxies_) {
      if (!s.connected) continue;
      if (moved.contains(s.node.id())) view.moved.push_back(s);
      if (rollout::Selects(selector, s.node)) ++view.selected_streams;
    }
    return view;
  }

  // Every connected proxy runs what it is told.
  void AckAll() {
    for (auto& s : proxies_) {
      if (!s.connected) continue;
      s.running_version = s.config_version;
      s.in_sync = true;
    }
  }
  void Nack(const std::string& id) {
    StreamStatus& s = Find(id);
    s.last_nack = NackRecord{v1::ROUTES, "abc", "routes[0].cluster: unknown", s.config_version};
    s.last_nack_config_version = s.config_version;
    s.in_sync = false;
  }
  StreamStatus& Find(const std::string& id) {
    for (auto& s : proxies_)
      if (s.node.id() == id) return s;
    throw std::runtime_error("no proxy " + id);
  }
  std::vector<std::string> OnVersion(int64_t v) const {
    std::vector<std::string> out;
    for (const auto& s : proxies_)
      if (s.config_version == v) out.push_back(s.node.id());
    return out;
  }

  int64_t fleet_version = 0;
  std::optional<RolloutAssignment> rollout_;
  std::vector<std::string> calls;

 private:
  void Retarget() {
    for (auto& s : proxies_) {
      bool moved = rollout_ && rollout_->moved.contains(s.node.id());
      s.config_version = moved ? rollout_->version : fleet_version;
      s.in_rollout = moved;
      s.in_sync = s.running_version == s.config_version;
    }
  }
  std::vector<StreamStatus> proxies_;
};

class RolloutEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    v1_ = stores_.versions.Apply(SampleConfig("one"), "t", "").value().version;
    v2_ = stores_.versions.Apply(SampleConfig("two"), "t", "").value().version;
    ASSERT_TRUE(stores_.rollouts.SetFleetVersion(v1_.id, "test"));
    engine_ = MakeEngine();
    ASSERT_TRUE(engine_->Restore());
  }

  std::unique_ptr<RolloutEngine> MakeEngine() {
    return std::make_unique<RolloutEngine>(
        stores_.versions, stores_.rollouts, fleet_, clock_,
        [this](std::chrono::seconds window, const std::set<std::string>& moved) {
          windows_.push_back(window);
          std::pair<rollout::Traffic, rollout::Traffic> out;
          for (const auto& [id, t] : traffic_) {
            rollout::Traffic& into = moved.contains(id) ? out.first : out.second;
            into.requests += t.requests;
            into.errors += t.errors;
          }
          return out;
        },
        [this](const v1::Config&, const v1::Config* rollout) { configs_calls_.push_back(rollout != nullptr); });
  }

  v1::StartRolloutRequest Request(std::vector<double> steps, bool auto_promote = true) {
    v1::StartRolloutRequest r;
    r.set_version(static_cast<uint64_t>(v2_.id));
    for (double s : steps) r.add_steps_percent(s);
    r.set_interval_ms(10000);
    r.set_auto_promote(auto_promote);
    r.set_author("alice");
    return r;
  }

  std::string Canary() const {
    std::vector<std::string> ids = {"p1", "p2", "p3", "p4", "p5"};
    std::sort(ids.begin(), ids.end(), rollout::CanaryBefore);
    return ids.front();
  }

  ManualClock clock_{kStart};
  MemoryStores stores_{clock_};
  ConfigVersion v1_, v2_;
  TestFleet fleet_{{"p1", "p2", "p3", "p4", "p5"}};
  std::map<std::string, rollout::Traffic> traffic_;
  std::vector<std::chrono::seconds> windows_;
  std::vector<bool> configs_calls_;
  std::unique_ptr<RolloutEngine> engine_;
};

TEST_F(RolloutEngineTest, RestorePublishesTheStoredFleetVersion) {
  EXPECT_EQ(fleet_.fleet_version, v1_.id);
  EXPECT_EQ(engine_->fleet_version(), v1_.id);
  EXPECT_EQ(fleet_.OnVersion(v1_.id).size(), 5u);
}

TEST_F(RolloutEngineTest, AStepOf20PercentMovesExactlyTheFirstCanary) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}), &r).ok());
  EXPECT_EQ(fleet_.OnVersion(v2_.id), std::vector<std::string>{Canary()});
  EXPECT_EQ(r.moved_size(), 1);
  EXPECT_EQ(r.moved(0), Canary());
  EXPECT_EQ(r.previous_version(), static_cast<uint64_t>(v1_.id));
  EXPECT_EQ(r.step_target(), 1u);
  EXPECT_EQ(r.proxies_size(), 0);  // the actions' answers leave them out; Get lists them
  ASSERT_TRUE(engine_->Get(0, &r).ok());
  ASSERT_EQ(r.proxies_size(), 5);
  EXPECT_EQ(r.proxies(0).node(), Canary());
  EXPECT_EQ(r.proxies(0).target_version(), static_cast<uint64_t>(v2_.id));
  auto stored = stores_.rollouts.ListRollouts(10).value();
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_TRUE(stored[0].active);
  EXPECT_EQ(configs_calls_.back(), true);  // the health checker sees both versions
}

TEST_F(RolloutEngineTest, WithAutoAPassingGateMovesToTheNextStepAndThenCompletes) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}), &r).ok());
  fleet_.AckAll();
  clock_.Advance(std::chrono::seconds(5));
  engine_->Tick();
  EXPECT_EQ(engine_->active().step(), 0u);  // the interval has not passed
  clock_.Advance(std::chrono::seconds(5));
  engine_->Tick();
  EXPECT_EQ(engine_->active().step(), 1u);
  EXPECT_EQ(fleet_.OnVersion(v2_.id).size(), 5u);
  fleet_.AckAll();
  clock_.Advance(std::chrono::seconds(10));
  engine_->Tick();
  EXPECT_EQ(engine_->active().id(), 0u);
  ASSERT_TRUE(engine_->Get(1, &r).ok());
  EXPECT_EQ(r.state(), v1::ROLLOUT_COMPLETED);
  EXPECT_EQ(engine_->fleet_version(), v2_.id);
  EXPECT_EQ(fleet_.fleet_version, v2_.id);
  EXPECT_FALSE(fleet_.rollout_.has_value());
  EXPECT_EQ(stores_.rollouts.FleetHistory(1).value().front().version, v2_.id);
}

TEST_F(RolloutEngineTest, WithoutAutoAPassedStepWaitsForPromote) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}, false), &r).ok());
  fleet_.AckAll();
  clock_.Advance(std::chrono::seconds(11));
  engine_->Tick();
  EXPECT_EQ(engine_->active().state(), v1::ROLLOUT_WAITING);
  EXPECT_EQ(engine_->active().step(), 0u);
  ASSERT_TRUE(engine_->Promote("bob", &r).ok());
  EXPECT_EQ(r.step(), 1u);
  EXPECT_EQ(r.state(), v1::ROLLOUT_RUNNING);
  EXPECT_EQ(r.reason(), "promoted by bob");
}

TEST_F(RolloutEngineTest, ACanaryErrorRateOverTheThresholdAbortsAndEveryProxyGoesBack) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}), &r).ok());
  fleet_.AckAll();
  traffic_[Canary()] = {100, 60};
  clock_.Advance(std::chrono::seconds(2));
  engine_->Tick();  // 60 errors: decisive before the interval ends
  EXPECT_EQ(engine_->active().id(), 0u);
  ASSERT_TRUE(engine_->Get(0, &r).ok());
  EXPECT_EQ(r.state(), v1::ROLLOUT_ABORTED);
  EXPECT_EQ(r.reason(),
            "gate failed at step 1 (20%): error rate 60.00% (60 of 100 requests) is above the "
            "threshold 1.00%");
  EXPECT_EQ(r.gate().errors(), 60u);
  EXPECT_EQ(fleet_.OnVersion(v1_.id).size(), 5u);
  EXPECT_EQ(engine_->fleet_version(), v1_.id);
  EXPECT_FALSE(stores_.rollouts.ListRollouts(1).value().front().active);
  EXPECT_EQ(windows_.back(), std::chrono::seconds(2));  // the step's age
}

TEST_F(RolloutEngineTest, ANackFromAMovedProxyAborts) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}), &r).ok());
  fleet_.Nack(Canary());
  engine_->Tick();
  ASSERT_TRUE(engine_->Get(0, &r).ok());
  EXPECT_EQ(r.state(), v1::ROLLOUT_ABORTED);
  EXPECT_EQ(r.reason(), "gate failed at step 1 (20%): proxy " + Canary() + " refused the version (NACK)");
}

TEST_F(RolloutEngineTest, AMovedProxyThatNeverAcksAbortsOnceItHadTheWholeInterval) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}), &r).ok());
  fleet_.Find(Canary()).connected_since = kStart;
  clock_.Advance(std::chrono::seconds(9));
  engine_->Tick();
  EXPECT_EQ(engine_->active().state(), v1::ROLLOUT_RUNNING);
  // It reconnected meanwhile: its own interval starts then.
  fleet_.Find(Canary()).connected_since = kStart + std::chrono::seconds(8);
  clock_.Advance(std::chrono::seconds(2));
  engine_->Tick();
  EXPECT_EQ(engine_->active().state(), v1::ROLLOUT_RUNNING);
  clock_.Advance(std::chrono::seconds(7));
  engine_->Tick();
  ASSERT_TRUE(engine_->Get(1, &r).ok());
  EXPECT_EQ(r.state(), v1::ROLLOUT_ABORTED);
  EXPECT_EQ(r.reason(), "gate failed at step 1 (20%): 1 of 1 moved proxies did not ACK the version "
                        "within the interval");
}

TEST_F(RolloutEngineTest, APausedRolloutIsNotJudgedAndResumingRestartsTheInterval) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}), &r).ok());
  ASSERT_TRUE(engine_->Pause("bob", "lunch", &r).ok());
  EXPECT_EQ(r.reason(), "paused by bob: lunch");
  EXPECT_FALSE(fleet_.rollout_->admit_joiners);
  traffic_[Canary()] = {100, 100};
  clock_.Advance(std::chrono::seconds(20));
  engine_->Tick();
  EXPECT_EQ(engine_->active().state(), v1::ROLLOUT_PAUSED);
  traffic_.clear();
  ASSERT_TRUE(engine_->Resume("bob", &r).ok());
  fleet_.AckAll();
  clock_.Advance(std::chrono::seconds(9));
  engine_->Tick();
  EXPECT_EQ(engine_->active().step(), 0u);
  clock_.Advance(std::chrono::seconds(1));
  engine_->Tick();
  EXPECT_EQ(engine_->active().step(), 1u);
}

TEST_F(RolloutEngineTest, ARestartedEngineResumesTheRolloutWithItsMovedProxies) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 60, 100}), &r).ok());
  fleet_.AckAll();
  clock_.Advance(std::chrono::seconds(10));
  engine_->Tick();
  ASSERT_EQ(engine_->active().step(), 1u);
  const v1::Rollout before = engine_->active();
  std::vector<std::string> moved(before.moved().begin(), before.moved().end());
  ASSERT_EQ(moved.size(), 3u);

  engine_.reset();
  TestFleet fresh({"p1", "p2", "p3", "p4", "p5"});
  RolloutEngine again(stores_.versions, stores_.rollouts, fresh, clock_, nullptr, nullptr);
  ASSERT_TRUE(again.Restore());
  v1::Rollout resumed = again.active();
  EXPECT_EQ(resumed.step(), 1u);
  EXPECT_EQ(resumed.state(), v1::ROLLOUT_RUNNING);
  std::vector<std::string> on_v2 = fresh.OnVersion(v2_.id);
  std::sort(moved.begin(), moved.end());
  EXPECT_EQ(on_v2, moved);
}

TEST_F(RolloutEngineTest, AFleetWideDeployIsRefusedDuringARolloutUnlessForced) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}), &r).ok());
  auto v3 = stores_.versions.Apply(SampleConfig("three"), "t", "").value().version;
  grpc::Status refused = engine_->Deploy(v3, false, "apply by carol");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find("rollout 1 of v2 is in progress"), std::string::npos)
      << refused.error_message();
  EXPECT_EQ(engine_->fleet_version(), v1_.id);
  uint64_t aborted = 0;
  ASSERT_TRUE(engine_->Deploy(v3, true, "apply by carol", &aborted).ok());
  EXPECT_EQ(aborted, 1u);
  EXPECT_EQ(fleet_.OnVersion(v3.id).size(), 5u);
  ASSERT_TRUE(engine_->Get(1, &r).ok());
  EXPECT_EQ(r.state(), v1::ROLLOUT_ABORTED);
  EXPECT_EQ(r.reason(), "aborted for a fleet-wide change (--force): apply by carol");
}

TEST_F(RolloutEngineTest, StartRefusesWhatCannotBeRolledOut) {
  v1::Rollout r;
  v1::StartRolloutRequest same = Request({100});
  same.set_version(static_cast<uint64_t>(v1_.id));
  EXPECT_EQ(engine_->Start(same, &r).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  v1::StartRolloutRequest missing = Request({100});
  missing.set_version(99);
  EXPECT_EQ(engine_->Start(missing, &r).error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::Status bad = engine_->Start(Request({50, 20}), &r);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(bad.error_message(), "steps[1]: steps must increase (each above the one before)");
  v1::StartRolloutRequest fast = Request({100});
  fast.set_interval_ms(10);
  EXPECT_EQ(engine_->Start(fast, &r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(engine_->Start(Request({100}), &r).ok());
  EXPECT_EQ(engine_->Start(Request({100}), &r).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(RolloutEngineTest, ASelectorLimitsTheStepsToTheProxiesItPicks) {
  fleet_.Add("eu-1", {{"zone", "eu"}});
  fleet_.Add("eu-2", {{"zone", "eu"}});
  v1::StartRolloutRequest req = Request({50, 100});
  (*req.mutable_selector())["zone"] = "eu";
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(req, &r).ok());
  EXPECT_EQ(r.selected_proxies(), 2u);
  ASSERT_EQ(r.moved_size(), 1);
  EXPECT_EQ(r.moved(0).rfind("eu-", 0), 0u);
  ASSERT_TRUE(engine_->Get(0, &r).ok());
  EXPECT_EQ(r.proxies_size(), 2);
}

TEST_F(RolloutEngineTest, AbortRecordsWhoAndWhy) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}), &r).ok());
  ASSERT_TRUE(engine_->Abort("dave", "wrong file", &r).ok());
  EXPECT_EQ(r.state(), v1::ROLLOUT_ABORTED);
  EXPECT_EQ(r.reason(), "aborted by dave: wrong file");
  EXPECT_EQ(engine_->Abort("dave", "", &r).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  std::vector<v1::Rollout> all;
  ASSERT_TRUE(engine_->List(10, &all).ok());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].reason(), "aborted by dave: wrong file");
}

TEST_F(RolloutEngineTest, PromoteBeforeTheGatePassedIsRefused) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}, false), &r).ok());
  grpc::Status early = engine_->Promote("bob", &r);
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(early.error_message(),
            "step 1 of rollout 1 has not passed its gate yet (not evaluated yet); promote follows a "
            "passed gate");
  EXPECT_EQ(engine_->active().step(), 0u);
}

TEST_F(RolloutEngineTest, ARestartRestartsTheIntervalOfARunningStep) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}), &r).ok());
  clock_.Advance(std::chrono::seconds(30));  // the interval passed while nobody watched
  engine_.reset();
  engine_ = MakeEngine();
  ASSERT_TRUE(engine_->Restore());
  fleet_.AckAll();
  engine_->Tick();
  EXPECT_EQ(engine_->active().step(), 0u) << "judged on what this process did not see";
  EXPECT_EQ(engine_->active().reason(), "the control plane restarted: the step's interval starts again");
  clock_.Advance(std::chrono::seconds(10));
  engine_->Tick();
  EXPECT_EQ(engine_->active().step(), 1u);
}

TEST_F(RolloutEngineTest, AProxyMovedLateInAStepGetsItsOwnIntervalToAck) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}), &r).ok());
  fleet_.AckAll();
  clock_.Advance(std::chrono::seconds(9));
  // A second proxy is moved now (a joiner raised the step's count): it has not ACKed yet.
  RolloutAssignment more = *fleet_.rollout_;
  const std::string second = [&] {
    std::vector<std::string> ids = {"p1", "p2", "p3", "p4", "p5"};
    std::sort(ids.begin(), ids.end(), rollout::CanaryBefore);
    return ids[1];
  }();
  more.moved.insert(second);
  fleet_.SetRollout(more);
  fleet_.Find(second).target_since = clock_.Now();
  clock_.Advance(std::chrono::seconds(2));
  engine_->Tick();
  EXPECT_EQ(engine_->active().state(), v1::ROLLOUT_RUNNING) << engine_->active().reason();
  EXPECT_EQ(engine_->active().moved_size(), 2);
  EXPECT_EQ(engine_->active().gate().failure(), "1 of 2 moved proxies have not ACKed the version yet");
}

TEST_F(RolloutEngineTest, AStepWhoseMovedProxiesAreAllGoneForAnIntervalAborts) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}), &r).ok());
  fleet_.Find(Canary()).connected = false;
  engine_->Tick();
  EXPECT_EQ(engine_->active().state(), v1::ROLLOUT_RUNNING);
  clock_.Advance(std::chrono::seconds(10));
  engine_->Tick();
  ASSERT_TRUE(engine_->Get(1, &r).ok());
  EXPECT_EQ(r.state(), v1::ROLLOUT_ABORTED);
  EXPECT_EQ(r.reason(), "gate failed at step 1 (20%): no moved proxy has been connected for a whole interval");
}

TEST_F(RolloutEngineTest, AForcedDeployMovesTheCanariesStraightToTheNewVersion) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}), &r).ok());
  auto v3 = stores_.versions.Apply(SampleConfig("three"), "t", "").value().version;
  fleet_.calls.clear();
  ASSERT_TRUE(engine_->Deploy(v3, true, "apply by carol").ok());
  EXPECT_EQ(fleet_.calls, (std::vector<std::string>{"publish v3", "no rollout"}));
  auto history = stores_.rollouts.FleetHistory(1).value();
  EXPECT_EQ(history.front().version, v3.id);
  EXPECT_EQ(history.front().reason, "apply by carol");
}

TEST_F(RolloutEngineTest, AnIntervalShorterThanTheStatsIntervalIsRefused) {
  RolloutEngine strict(stores_.versions, stores_.rollouts, fleet_, clock_, nullptr, nullptr, std::chrono::seconds(10));
  ASSERT_TRUE(strict.Restore());
  v1::StartRolloutRequest req = Request({100});
  req.set_interval_ms(5000);
  v1::Rollout r;
  grpc::Status refused = strict.Start(req, &r);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(refused.error_message(),
            "interval_ms: 5000 ms is shorter than the proxies' stats interval (10000 ms, "
            "hermes-controlplane --stats-interval): a step would be judged on no stats");
}

TEST_F(RolloutEngineTest, AnActionAfterTheGateAbortedSaysHowItEnded) {
  v1::Rollout r;
  ASSERT_TRUE(engine_->Start(Request({20, 100}), &r).ok());
  fleet_.Nack(Canary());
  engine_->Tick();
  grpc::Status s = engine_->Promote("bob", &r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(s.error_message().rfind("no rollout is in progress: rollout 1 aborted (gate failed at step 1", 0), 0u)
      << s.error_message();
}

}  // namespace
}  // namespace hermes::controlplane
