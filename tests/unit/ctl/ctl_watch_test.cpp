// --watch: rounds one after another with the wait in between, the screen cleared only on a
// terminal, documents one after another, Ctrl-C and ends by the watched rollout as exit codes,
// and failed calls. The waiting is simulated: no test sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <sstream>
#include <vector>

#include "ctl/watch.h"

namespace hermes::ctl {
namespace {

using namespace std::chrono;
using ::testing::ElementsAre;

constexpr int64_t kMay1Noon = 1714564800000;  // 2024-05-01T12:00:00Z

// Simulated time: each wait moves the clock on; after `waits_before_interrupt` waits, the next
// one is interrupted as Ctrl-C would.
class SimulatedTime final : public Clock, public Waiter {
 public:
  explicit SimulatedTime(int waits_before_interrupt = 1000)
      : waits_before_interrupt_(waits_before_interrupt) {}
  system_clock::time_point Now() const override { return now_; }
  bool Wait(milliseconds d) override {
    waits.push_back(d);
    if (static_cast<int>(waits.size()) > waits_before_interrupt_) return false;
    now_ += d;
    return true;
  }
  std::vector<milliseconds> waits;

 private:
  int waits_before_interrupt_;
  system_clock::time_point now_{milliseconds(kMay1Noon)};
};

// Rounds that show "frame 1\n", "frame 2\n", ...
struct Counter {
  int n = 0;
  Round operator()() {
    Round r;
    r.frame = "frame " + std::to_string(++n) + "\n";
    return r;
  }
};

WatchSettings Table(bool terminal) { return WatchSettings{2s, true, terminal, "status"}; }
WatchSettings Documents() { return WatchSettings{2s, false, false, "status"}; }

TEST(WatchTest, CtrlCEndsTheWatchWithExitZero) {
  SimulatedTime time(2);
  Counter rounds;
  std::ostringstream out, err;
  EXPECT_EQ(Watch(Documents(), std::ref(rounds), time, time, out, err), 0);
  EXPECT_EQ(rounds.n, 3);
  EXPECT_THAT(time.waits, ElementsAre(2s, 2s, 2s));
  EXPECT_EQ(out.str(), "frame 1\nframe 2\nframe 3\n");
  EXPECT_EQ(err.str(), "");
}

TEST(WatchTest, TerminalIsClearedBeforeEachTitledFrame) {
  SimulatedTime time(1);
  Counter rounds;
  std::ostringstream out, err;
  EXPECT_EQ(Watch(Table(true), std::ref(rounds), time, time, out, err), 0);
  EXPECT_EQ(out.str(),
            "\x1b[H\x1b[2J"
            "every 2s: hermesctl status at 2024-05-01T12:00:00Z (Ctrl-C to stop)\n\nframe 1\n"
            "\x1b[H\x1b[2J"
            "every 2s: hermesctl status at 2024-05-01T12:00:02Z (Ctrl-C to stop)\n\nframe 2\n");
}

TEST(WatchTest, NoEscapeCodesWhenNotATerminal) {
  SimulatedTime time(1);
  Counter rounds;
  std::ostringstream out, err;
  EXPECT_EQ(Watch(Table(false), std::ref(rounds), time, time, out, err), 0);
  EXPECT_EQ(out.str(),
            "every 2s: hermesctl status at 2024-05-01T12:00:00Z (Ctrl-C to stop)\n\nframe 1\n"
            "\n"
            "every 2s: hermesctl status at 2024-05-01T12:00:02Z (Ctrl-C to stop)\n\nframe 2\n");
}

TEST(WatchTest, DocumentsAreNeverTitledOrClearedEvenOnATerminal) {
  SimulatedTime time(1);
  Counter rounds;
  std::ostringstream out, err;
  WatchSettings settings = Documents();
  settings.terminal = true;
  EXPECT_EQ(Watch(settings, std::ref(rounds), time, time, out, err), 0);
  EXPECT_EQ(out.str(), "frame 1\nframe 2\n");
}

TEST(WatchTest, TheIntervalIsTheWait) {
  SimulatedTime time(1);
  Counter rounds;
  std::ostringstream out, err;
  WatchSettings settings = Documents();
  settings.interval = 30s;
  Watch(settings, std::ref(rounds), time, time, out, err);
  EXPECT_THAT(time.waits, ElementsAre(30s, 30s));
}

TEST(WatchTest, AnEndShowsItsFrameThenExitsWithItsCode) {
  SimulatedTime time;
  int n = 0;
  const auto rounds = [&] {
    Round r;
    r.frame = "round " + std::to_string(++n) + "\n";
    if (n == 3) {
      r.end = 1;
      r.end_err = "hermesctl: rollout #3 aborted: gate failed\n";
    }
    return r;
  };
  std::ostringstream out, err;
  EXPECT_EQ(Watch(Documents(), rounds, time, time, out, err), 1);
  EXPECT_EQ(out.str(), "round 1\nround 2\nround 3\n");
  EXPECT_EQ(err.str(), "hermesctl: rollout #3 aborted: gate failed\n");
  EXPECT_EQ(time.waits.size(), 2u);
}

TEST(WatchTest, AFirstRoundThatFailsEndsTheWatch) {
  SimulatedTime time;
  const auto rounds = [] {
    Round r;
    r.failed = true;
    r.transient = true;
    r.error = "hermesctl: cannot reach the control plane at cp:9090";
    return r;
  };
  std::ostringstream out, err;
  EXPECT_EQ(Watch(Table(true), rounds, time, time, out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(), "hermesctl: cannot reach the control plane at cp:9090\n");
  EXPECT_TRUE(time.waits.empty());
}

TEST(WatchTest, ALaterTransientFailureIsReportedAndTheWatchGoesOn) {
  SimulatedTime time(2);
  int n = 0;
  const auto rounds = [&] {
    Round r;
    ++n;
    if (n == 2) {
      r.failed = true;
      r.transient = true;
      r.error = "hermesctl: cannot reach the control plane at cp:9090";
    } else {
      r.frame = "round " + std::to_string(n) + "\n";
    }
    return r;
  };
  std::ostringstream out, err;
  EXPECT_EQ(Watch(Documents(), rounds, time, time, out, err), 0);
  EXPECT_EQ(out.str(), "round 1\nround 3\n");
  EXPECT_EQ(err.str(), "hermesctl: cannot reach the control plane at cp:9090\n");
}

TEST(WatchTest, ALaterLastingFailureEndsTheWatch) {
  SimulatedTime time;
  int n = 0;
  const auto rounds = [&] {
    Round r;
    if (++n == 2) {
      r.failed = true;
      r.error = "hermesctl: the control plane at cp:9090 refused the token";
    } else {
      r.frame = "round\n";
    }
    return r;
  };
  std::ostringstream out, err;
  EXPECT_EQ(Watch(Documents(), rounds, time, time, out, err), 1);
  EXPECT_EQ(n, 2);
  EXPECT_EQ(err.str(), "hermesctl: the control plane at cp:9090 refused the token\n");
}

TEST(SleepingWaiterTest, ZeroWaitReturnsAtOnce) {
  SleepingWaiter waiter;
  EXPECT_TRUE(waiter.Wait(0ms));
}

TEST(SleepingWaiterTest, CtrlCEndsTheWaitAndTheHandlerIsRestoredAfterwards) {
  void (*before)(int) = std::signal(SIGINT, SIG_IGN);
  {
    CatchInterrupt catch_interrupt;
    std::raise(SIGINT);
    SleepingWaiter waiter;
    // Returns at once: Ctrl-C came before the wait.
    EXPECT_FALSE(waiter.Wait(hours(1)));
  }
  // The handler in place before CatchInterrupt is back, and no Ctrl-C is left over.
  EXPECT_EQ(std::signal(SIGINT, before), SIG_IGN);
  EXPECT_TRUE(SleepingWaiter().Wait(0ms));
}

}  // namespace
}  // namespace hermes::ctl
