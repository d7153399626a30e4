// `drain NODE --wait`: polls the proxy list every 500 ms until the node drained (exit 0), the
// timeout passed, the node disconnected, Ctrl-C came or a call failed (exit 1). Time is
// simulated, and the answers are the proxy lists the control plane would send one after another.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <sstream>

#include "ctl/drain_wait.h"

namespace hermes::ctl {
namespace {

using namespace std::chrono;

constexpr int64_t kMay1Noon = 1714564800000;

class SimulatedTime final : public Clock, public Waiter {
 public:
  explicit SimulatedTime(int waits_before_interrupt = 1'000'000)
      : waits_before_interrupt_(waits_before_interrupt) {}
  system_clock::time_point Now() const override { return now_; }
  bool Wait(milliseconds d) override {
    if (++waits > waits_before_interrupt_) return false;
    now_ += d;
    return true;
  }
  int waits = 0;

 private:
  int waits_before_interrupt_;
  system_clock::time_point now_{milliseconds(kMay1Noon)};
};

v1::Proxy Proxy(v1::DrainState drain, int64_t connections, v1::SyncState state = v1::SYNCED) {
  v1::Proxy p;
  p.mutable_node()->set_id("edge-2");
  p.set_state(state);
  p.set_drain(drain);
  p.set_active_connections(connections);
  return p;
}

v1::ListProxiesResponse List(std::initializer_list<v1::Proxy> proxies) {
  v1::ListProxiesResponse r;
  v1::Proxy other;
  other.mutable_node()->set_id("edge-1");
  other.set_state(v1::SYNCED);
  *r.add_proxies() = other;
  for (const auto& p : proxies) *r.add_proxies() = p;
  return r;
}

// The answers one after another; the last one again when they run out.
struct Answers {
  std::deque<v1::ListProxiesResponse> answers;
  int calls = 0;
  std::optional<v1::ListProxiesResponse> operator()() {
    ++calls;
    const v1::ListProxiesResponse next = answers.front();
    if (answers.size() > 1) answers.pop_front();
    return next;
  }
};

struct Outcome {
  int exit_code;
  std::string out;
  std::string err;
};

Outcome Wait(const v1::Proxy& first, Answers& answers, SimulatedTime& time,
             OutputFormat format = OutputFormat::kTable, milliseconds timeout = minutes(5)) {
  std::ostringstream out, err;
  const int code = WaitForDrain(DrainWait{"edge-2", timeout, format}, first, std::ref(answers),
                                time, time, out, err);
  return {code, out.str(), err.str()};
}

TEST(DrainWaitTest, PollsUntilDrainedPrintingEachChangeOfTheConnectionCount) {
  SimulatedTime time;
  Answers answers{{List({Proxy(v1::DRAINING, 12)}), List({Proxy(v1::DRAINING, 3)}),
                   List({Proxy(v1::DRAINING, 3)}), List({Proxy(v1::DRAINED, 0)})}};
  const Outcome run = Wait(Proxy(v1::DRAINING, 12), answers, time);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out,
            "draining edge-2: 12 connections open\n"
            "draining edge-2: 3 connections open\n"
            "drained edge-2\n");
  EXPECT_EQ(run.err, "");
  EXPECT_EQ(answers.calls, 4);
  EXPECT_EQ(time.waits, 4);
  EXPECT_EQ(time.Now(), system_clock::time_point(milliseconds(kMay1Noon + 4 * 500)));
}

TEST(DrainWaitTest, AlreadyDrainedNeedsNoPoll) {
  SimulatedTime time;
  Answers answers{{List({})}};
  const Outcome run = Wait(Proxy(v1::DRAINED, 0), answers, time);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out, "drained edge-2\n");
  EXPECT_EQ(answers.calls, 0);
}

TEST(DrainWaitTest, TimeoutFailsNamingTheOpenConnections) {
  SimulatedTime time;
  Answers answers{{List({Proxy(v1::DRAINING, 2)})}};
  const Outcome run = Wait(Proxy(v1::DRAINING, 2), answers, time, OutputFormat::kTable, seconds(3));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out, "draining edge-2: 2 connections open\n");
  EXPECT_EQ(run.err,
            "hermesctl: edge-2 is still draining after 3s (2 connections open); wait longer with "
            "--wait-timeout\n");
  EXPECT_EQ(answers.calls, 6);  // every 500 ms for 3s
}

TEST(DrainWaitTest, DisconnectedBeforeDrainedFails) {
  SimulatedTime time;
  Answers answers{{List({Proxy(v1::DRAINING, 1, v1::DISCONNECTED)})}};
  const Outcome run = Wait(Proxy(v1::DRAINING, 1), answers, time);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "hermesctl: edge-2 disconnected before it drained, with 1 connection open\n");
}

TEST(DrainWaitTest, GoneFromTheListIsDisconnected) {
  SimulatedTime time;
  Answers answers{{List({})}};
  const Outcome run = Wait(Proxy(v1::DRAINING, 4), answers, time);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "hermesctl: edge-2 disconnected before it drained, with 4 connections open\n");
}

TEST(DrainWaitTest, DrainedThenDisconnectedIsDrained) {
  SimulatedTime time;
  Answers answers{{List({Proxy(v1::DRAINED, 0, v1::DISCONNECTED)})}};
  EXPECT_EQ(Wait(Proxy(v1::DRAINING, 4), answers, time).exit_code, 0);
}

TEST(DrainWaitTest, CtrlCStopsWaitingAndFails) {
  SimulatedTime time(2);
  Answers answers{{List({Proxy(v1::DRAINING, 5)})}};
  const Outcome run = Wait(Proxy(v1::DRAINING, 5), answers, time);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err, "hermesctl: stopped waiting; edge-2 is still draining (5 connections open)\n");
  EXPECT_EQ(answers.calls, 2);
}

TEST(DrainWaitTest, AFailedCallEndsTheWait) {
  SimulatedTime time;
  int calls = 0;
  const ListProxiesCall failing = [&]() -> std::optional<v1::ListProxiesResponse> {
    ++calls;
    return std::nullopt;
  };
  std::ostringstream out, err;
  EXPECT_EQ(WaitForDrain(DrainWait{"edge-2", minutes(5), OutputFormat::kTable},
                         Proxy(v1::DRAINING, 5), failing, time, time, out, err),
            1);
  EXPECT_EQ(calls, 1);
}

TEST(DrainWaitTest, JsonPrintsOneDocumentWithTheProxyAsLastSeen) {
  SimulatedTime time;
  Answers answers{{List({Proxy(v1::DRAINING, 3)}), List({Proxy(v1::DRAINED, 0)})}};
  const Outcome run = Wait(Proxy(v1::DRAINING, 12), answers, time, OutputFormat::kJson);
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out.find("{\n  \"proxy\": {\n    \"node\": \"edge-2\","), 0u) << run.out;
  EXPECT_NE(run.out.find("\"drain\": \"drained\",\n    \"active_connections\": 0,"),
            std::string::npos)
      << run.out;
  EXPECT_EQ(run.out.find("draining"), std::string::npos) << run.out;
}

TEST(DrainWaitTest, JsonOfATimeoutStillPrintsTheDocumentAndFails) {
  SimulatedTime time;
  Answers answers{{List({Proxy(v1::DRAINING, 2)})}};
  const Outcome run = Wait(Proxy(v1::DRAINING, 2), answers, time, OutputFormat::kYaml, seconds(1));
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.out.find("proxy:\n  node: edge-2\n"), 0u) << run.out;
  EXPECT_NE(run.err.find("still draining after 1s"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace hermes::ctl
