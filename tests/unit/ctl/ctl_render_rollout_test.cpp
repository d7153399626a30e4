// What `hermesctl rollout ...` prints: a rollout's status (running with its gate and proxies,
// aborted with its reason), the list of rollouts, and what each action did; as tables, -o json
// and -o yaml; and how `rollout status --watch` ends.
#include <gtest/gtest.h>

#include <limits>

#include "ctl/render.h"
#include "golden.h"

namespace hermes::ctl {
namespace {

using namespace std::chrono;

constexpr int64_t kMay1Noon = 1714564800000;  // 2024-05-01T12:00:00Z
const system_clock::time_point kNow{milliseconds(kMay1Noon)};
constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;

v1::RolloutProxy Proxy(std::string node, uint64_t target, uint64_t running, v1::SyncState state,
                       bool connected = true) {
  v1::RolloutProxy p;
  p.set_node(std::move(node));
  p.set_target_version(target);
  p.set_running_version(running);
  p.set_state(state);
  p.set_connected(connected);
  return p;
}

// v13 on zone b, first step (20%) of three: one canary moved, its gate evaluated and passed.
v1::Rollout Running() {
  v1::Rollout r;
  r.set_id(3);
  r.set_version(13);
  r.set_previous_version(12);
  (*r.mutable_selector())["zone"] = "b";
  (*r.mutable_selector())["group"] = "edge";
  for (double p : {20.0, 50.0, 100.0}) r.add_steps_percent(p);
  r.set_step(0);
  r.set_interval_ms(2 * kMinute);
  r.set_max_error_rate(0.01);
  r.set_state(v1::ROLLOUT_RUNNING);
  r.set_author("ana");
  r.set_started_unix_ms(kMay1Noon - 5 * kMinute);
  r.set_step_started_unix_ms(kMay1Noon - 5 * kMinute);
  r.set_updated_unix_ms(kMay1Noon - 20 * kSecond);
  r.add_moved("edge-3");
  r.set_selected_proxies(5);
  r.set_step_target(1);
  v1::RolloutGate* g = r.mutable_gate();
  g->set_at_unix_ms(kMay1Noon - 20 * kSecond);
  g->set_passed(true);
  g->set_window_seconds(120);
  g->set_proxies(1);
  g->set_acked(1);
  g->set_requests(1200);
  g->set_errors(6);
  g->set_error_rate(0.005);
  g->set_rest_requests(8000);
  g->set_rest_errors(32);
  g->set_rest_error_rate(0.004);
  *r.add_proxies() = Proxy("edge-3", 13, 13, v1::SYNCED);
  *r.add_proxies() = Proxy("edge-1", 12, 12, v1::SYNCED);
  *r.add_proxies() = Proxy("edge-5", 12, 12, v1::STALE);
  *r.add_proxies() = Proxy("edge-2", 12, 12, v1::SYNCED);
  *r.add_proxies() = Proxy("edge-4", 12, 0, v1::SYNCED, false);
  return r;
}

// v11 to every proxy, aborted at its second step by a failed gate; everyone back on v10.
v1::Rollout Aborted() {
  v1::Rollout r;
  r.set_id(2);
  r.set_version(11);
  r.set_previous_version(10);
  for (double p : {10.0, 50.0, 100.0}) r.add_steps_percent(p);
  r.set_step(1);
  r.set_interval_ms(30 * kSecond);
  r.set_max_error_rate(0.005);
  r.set_auto_promote(true);
  r.set_state(v1::ROLLOUT_ABORTED);
  r.set_reason("gate failed: error rate 4.17% on the moved proxies is above 0.50%");
  r.set_author("ben");
  r.set_started_unix_ms(kMay1Noon - 3 * 60 * kMinute);
  r.set_step_started_unix_ms(kMay1Noon - 3 * 60 * kMinute + 45 * kSecond);
  r.set_updated_unix_ms(kMay1Noon - 3 * 60 * kMinute + 75 * kSecond);
  for (const char* node : {"edge-3", "edge-1", "edge-5"}) r.add_moved(node);
  r.set_selected_proxies(5);
  r.set_step_target(3);
  v1::RolloutGate* g = r.mutable_gate();
  g->set_at_unix_ms(kMay1Noon - 3 * 60 * kMinute + 75 * kSecond);
  g->set_passed(false);
  g->set_failure("error rate 4.17% on the moved proxies is above 0.50%");
  g->set_window_seconds(30);
  g->set_proxies(3);
  g->set_acked(3);
  g->set_requests(480);
  g->set_errors(20);
  g->set_error_rate(20.0 / 480);
  g->set_rest_requests(300);
  g->set_rest_errors(1);
  g->set_rest_error_rate(1.0 / 300);
  for (const char* node : {"edge-3", "edge-1", "edge-5", "edge-2", "edge-4"}) {
    *r.add_proxies() = Proxy(node, 10, 10, v1::SYNCED);
  }
  return r;
}

TEST(RenderRolloutStatusTest, RunningTextMatchesGolden) {
  EXPECT_EQ(RenderRolloutStatus(Running(), OutputFormat::kTable, kNow),
            Golden("rollout-status-running.txt"));
}

TEST(RenderRolloutStatusTest, RunningJsonMatchesGolden) {
  EXPECT_EQ(RenderRolloutStatus(Running(), OutputFormat::kJson, kNow),
            Golden("rollout-status-running.json"));
}

TEST(RenderRolloutStatusTest, RunningYamlMatchesGolden) {
  EXPECT_EQ(RenderRolloutStatus(Running(), OutputFormat::kYaml, kNow),
            Golden("rollout-status-running.yaml"));
}

TEST(RenderRolloutStatusTest, AbortedTextMatchesGolden) {
  EXPECT_EQ(RenderRolloutStatus(Aborted(), OutputFormat::kTable, kNow),
            Golden("rollout-status-aborted.txt"));
}

TEST(RenderRolloutStatusTest, AbortedJsonMatchesGolden) {
  EXPECT_EQ(RenderRolloutStatus(Aborted(), OutputFormat::kJson, kNow),
            Golden("rollout-status-aborted.json"));
}

TEST(RenderRolloutStatusTest, GateNotEvaluatedYetSaysWhenItIsDue) {
  v1::Rollout r = Running();
  r.clear_gate();
  r.set_step_started_unix_ms(kMay1Noon - 30 * kSecond);
  const std::string out = RenderRolloutStatus(r, OutputFormat::kTable, kNow);
  EXPECT_NE(out.find("\ngate:        not evaluated yet (due 2024-05-01T12:01:30Z)\n\nNODE"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("error rate:"), std::string::npos) << out;
}

TEST(RenderRolloutStatusTest, AGateThatHasNotPassedWhileTheRolloutGoesOnHasNotFailed) {
  v1::Rollout r = Running();
  r.mutable_gate()->set_passed(false);
  r.mutable_gate()->set_failure("waiting for the interval to pass");
  const std::string out = RenderRolloutStatus(r, OutputFormat::kTable, kNow);
  EXPECT_NE(out.find("gate:        not passed yet (evaluated "), std::string::npos) << out;
  EXPECT_NE(out.find("): waiting for the interval to pass\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("failed"), std::string::npos) << out;
}

TEST(RenderRolloutStatusTest, JsonOfAGateNotEvaluatedYetIsNull) {
  v1::Rollout r = Running();
  r.clear_gate();
  const std::string out = RenderRolloutStatus(r, OutputFormat::kJson, kNow);
  EXPECT_NE(out.find("\n    \"gate\": null\n"), std::string::npos) << out;
}

TEST(RenderRolloutStatusTest, StateWordsAreLowercaseAndSayWhatComesNext) {
  v1::Rollout r = Running();
  const auto state_line = [&](v1::RolloutState state) {
    r.set_state(state);
    const std::string out = RenderRolloutStatus(r, OutputFormat::kTable, kNow);
    const size_t begin = out.find("\nstate:") + 1;
    return out.substr(begin, out.find('\n', begin) - begin);
  };
  EXPECT_EQ(state_line(v1::ROLLOUT_RUNNING), "state:       running");
  EXPECT_EQ(state_line(v1::ROLLOUT_WAITING),
            "state:       waiting (the step's gate passed; next: hermesctl rollout promote)");
  EXPECT_EQ(state_line(v1::ROLLOUT_PAUSED),
            "state:       paused (nothing moves until: hermesctl rollout resume)");
  EXPECT_EQ(state_line(v1::ROLLOUT_COMPLETED), "state:       completed");
  EXPECT_EQ(state_line(v1::ROLLOUT_ABORTED),
            "state:       aborted (every moved proxy went back to v12)");
  EXPECT_EQ(state_line(v1::ROLLOUT_STATE_UNSPECIFIED), "state:       unknown");
}

TEST(RenderRolloutStatusTest, NoRolloutSaysSo) {
  EXPECT_EQ(RenderRolloutStatus(v1::Rollout(), OutputFormat::kTable, kNow),
            "no rollout in progress or on record\n");
  EXPECT_EQ(RenderRolloutStatus(v1::Rollout(), OutputFormat::kJson, kNow),
            "{\n  \"rollout\": null,\n  \"proxies\": []\n}\n");
}

// An answer hermesctl cannot place (a step past the last, NaN rates) prints without crashing.
TEST(RenderRolloutStatusTest, StepPastTheLastAndNonFiniteRatesStillPrint) {
  v1::Rollout r = Running();
  r.set_step(7);
  r.mutable_gate()->set_error_rate(std::numeric_limits<double>::quiet_NaN());
  r.set_max_error_rate(std::numeric_limits<double>::infinity());
  const std::string out = RenderRolloutStatus(r, OutputFormat::kTable, kNow);
  EXPECT_NE(out.find("step:        8/3, moved 1 of 5"), std::string::npos) << out;
  EXPECT_NE(out.find("error rate:  - on the moved proxies (6 of 1200 requests)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("threshold:   error rate at most -"), std::string::npos) << out;
  const std::string json = RenderRolloutStatus(r, OutputFormat::kJson, kNow);
  EXPECT_NE(json.find("\"step\": 8,\n    \"step_percent\": null,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"max_error_rate\": null,"), std::string::npos) << json;
}

// Untrusted numbers at the limits of their types print as something, and never overflow.
TEST(RenderRolloutStatusTest, NumbersAtTheLimitsOfTheirTypesStillPrint) {
  for (const int64_t extreme :
       {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(), int64_t{-1}}) {
    v1::Rollout r = Running();
    r.clear_gate();
    r.set_interval_ms(extreme);
    r.set_started_unix_ms(extreme);
    r.set_step_started_unix_ms(extreme);
    r.set_updated_unix_ms(extreme);
    r.add_steps_percent(std::numeric_limits<double>::max());
    r.add_steps_percent(-std::numeric_limits<double>::infinity());
    r.set_step(std::numeric_limits<uint32_t>::max());
    r.set_selected_proxies(std::numeric_limits<uint32_t>::max());
    for (OutputFormat format : {OutputFormat::kTable, OutputFormat::kJson, OutputFormat::kYaml}) {
      EXPECT_FALSE(RenderRolloutStatus(r, format, kNow).empty()) << extreme;
    }
    r.mutable_gate()->set_at_unix_ms(extreme);
    r.mutable_gate()->set_window_seconds(std::numeric_limits<uint32_t>::max());
    v1::ListRolloutsResponse list;
    *list.add_rollouts() = r;
    EXPECT_FALSE(RenderRolloutStatus(r, OutputFormat::kTable, kNow).empty()) << extreme;
    EXPECT_FALSE(RenderRolloutList(list, OutputFormat::kTable, kNow).empty()) << extreme;
    EXPECT_FALSE(RolloutSummary(r).empty());
  }
}

TEST(RenderRolloutListTest, TextMatchesGolden) {
  v1::ListRolloutsResponse r;
  v1::Rollout running = Running();
  running.clear_proxies();
  *r.add_rollouts() = running;
  v1::Rollout aborted = Aborted();
  aborted.clear_proxies();
  *r.add_rollouts() = aborted;
  EXPECT_EQ(RenderRolloutList(r, OutputFormat::kTable, kNow), Golden("rollout-list.txt"));
  EXPECT_EQ(RenderRolloutList(r, OutputFormat::kJson, kNow), Golden("rollout-list.json"));
}

TEST(RenderRolloutListTest, NoRolloutsSaysSo) {
  EXPECT_EQ(RenderRolloutList(v1::ListRolloutsResponse(), OutputFormat::kTable, kNow),
            "no rollouts on record\n");
  EXPECT_EQ(RenderRolloutList(v1::ListRolloutsResponse(), OutputFormat::kYaml, kNow),
            "rollouts: []\n");
}

TEST(RenderRolloutSummaryTest, OneLineForStatus) {
  EXPECT_EQ(RolloutSummary(Running()), "#3 v13 step 1/3 (20%), running, 1/5 proxies moved");
}

TEST(RenderRolloutActionTest, StartSaysWhatMovedAndHowToWatch) {
  v1::Rollout r = Running();
  r.clear_gate();
  EXPECT_EQ(RenderRolloutStarted(r, OutputFormat::kTable),
            "started rollout #3: v13 ← v12 on group=edge,zone=b, step 1/3 (20%): moved 1 of 5 "
            "selected proxies\n"
            "watch it with: hermesctl rollout status --watch\n");
}

TEST(RenderRolloutActionTest, PromoteToTheNextStep) {
  v1::Rollout r = Running();
  r.set_step(1);
  for (const char* node : {"edge-1", "edge-5"}) r.add_moved(node);
  EXPECT_EQ(RenderRolloutAction(r, RolloutAction::kPromote, OutputFormat::kTable),
            "promoted rollout #3 to step 2/3 (50%): moved 3 of 5 selected proxies\n");
}

TEST(RenderRolloutActionTest, PromotingTheLastStepCompletesTheRollout) {
  v1::Rollout r = Running();
  r.set_state(v1::ROLLOUT_COMPLETED);
  EXPECT_EQ(RenderRolloutAction(r, RolloutAction::kPromote, OutputFormat::kTable),
            "rollout #3 completed: every selected proxy (group=edge,zone=b) runs v13\n");
  r.clear_selector();
  EXPECT_EQ(RenderRolloutAction(r, RolloutAction::kPromote, OutputFormat::kTable),
            "rollout #3 completed: v13 is the fleet's version\n");
}

TEST(RenderRolloutActionTest, PauseResumeAndAbort) {
  v1::Rollout r = Running();
  r.set_reason("waiting for the payments team");
  EXPECT_EQ(RenderRolloutAction(r, RolloutAction::kPause, OutputFormat::kTable),
            "paused rollout #3 at step 1/3 (20%): waiting for the payments team\n"
            "go on with: hermesctl rollout resume\n");
  r.clear_reason();
  EXPECT_EQ(RenderRolloutAction(r, RolloutAction::kResume, OutputFormat::kTable),
            "resumed rollout #3 at step 1/3 (20%)\n");
  r.set_reason("errors on the canaries");
  EXPECT_EQ(RenderRolloutAction(r, RolloutAction::kAbort, OutputFormat::kTable),
            "aborted rollout #3: 1 moved proxy goes back to v12: errors on the canaries\n");
}

TEST(RenderRolloutActionTest, JsonIsTheRollout) {
  v1::Rollout r = Aborted();
  const std::string out = RenderRolloutAction(r, RolloutAction::kAbort, OutputFormat::kJson);
  EXPECT_EQ(out.rfind("{\n  \"rollout\": {\n    \"id\": 2,\n", 0), 0u) << out;
}

TEST(RolloutEndedTest, RunningWaitingAndPausedGoOn) {
  v1::Rollout r = Running();
  for (auto state : {v1::ROLLOUT_RUNNING, v1::ROLLOUT_WAITING, v1::ROLLOUT_PAUSED}) {
    r.set_state(state);
    EXPECT_FALSE(RolloutEnded(r, OutputFormat::kTable).has_value()) << state;
  }
}

TEST(RolloutEndedTest, CompletedExitsZero) {
  v1::Rollout r = Running();
  r.set_state(v1::ROLLOUT_COMPLETED);
  const auto end = RolloutEnded(r, OutputFormat::kTable);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->exit_code, 0);
  EXPECT_EQ(end->out, "rollout #3 completed: every selected proxy (group=edge,zone=b) runs v13\n");
  EXPECT_EQ(end->err, "");
  // Standard output stays one document after another.
  EXPECT_EQ(RolloutEnded(r, OutputFormat::kJson)->out, "");
}

TEST(RolloutEndedTest, AbortedExitsOneWithTheReason) {
  const auto end = RolloutEnded(Aborted(), OutputFormat::kJson);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->exit_code, 1);
  EXPECT_EQ(end->out, "");
  EXPECT_EQ(end->err,
            "hermesctl: rollout #2 aborted: gate failed: error rate 4.17% on the moved proxies is "
            "above 0.50%\n");
}

}  // namespace
}  // namespace hermes::ctl
