// --watch: a command re-run every interval until Ctrl-C (or until what it watches ends), and the
// waiting between two runs, which tests replace so that they never sleep.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include "hermes/common/clock.h"

namespace hermes::ctl {

// Waits between two calls to the control plane (--watch rounds, drain --wait polls).
class Waiter {
 public:
  virtual ~Waiter() = default;
  // Waits `d`; false when Ctrl-C ended the wait (or came before it), and the caller stops.
  virtual bool Wait(std::chrono::milliseconds d) = 0;
};

// While one exists, SIGINT (Ctrl-C) is caught instead of ending the process: SleepingWaiter sees
// it and stops waiting. A second Ctrl-C ends the process as usual (the handler is reset).
class CatchInterrupt {
 public:
  CatchInterrupt();
  ~CatchInterrupt();
  CatchInterrupt(const CatchInterrupt&) = delete;
  CatchInterrupt& operator=(const CatchInterrupt&) = delete;
};

// Sleeps on the real clock, waking every 50 ms to see whether a CatchInterrupt caught Ctrl-C.
class SleepingWaiter final : public Waiter {
 public:
  bool Wait(std::chrono::milliseconds d) override;
};

// One run of a watched command.
struct Round {
  std::string frame;  // what it shows: a table, or one document (-o json|yaml)
  std::string error;  // the failed call's message, one or more lines without the final newline
  bool failed = false;
  bool transient = false;  // the control plane unreachable or slow: the next round may work
  // What it watches has ended (a rollout completed or aborted): exit with this code after the
  // frame, printing `end_out` on stdout and `end_err` on stderr.
  std::optional<int> end;
  std::string end_out;
  std::string end_err;
};

struct WatchSettings {
  std::chrono::milliseconds interval{2000};
  bool table = true;      // -o table: frames get a title line, and a terminal is cleared first
  bool terminal = false;  // stdout is a terminal
  std::string command;    // for the title: "status"
};

// "\x1b[H\x1b[2J": cursor home, clear the screen (ANSI).
inline constexpr std::string_view kClearScreen = "\x1b[H\x1b[2J";

// Runs `round` until Ctrl-C (exit 0), until a round reports an end (its exit code), or until a
// call fails (exit 1): the first round's failure always, a later one unless it is transient (the
// message goes to stderr and the watch goes on). Table frames are titled with the interval and
// the time of `clock`; on a terminal the screen is cleared before each, elsewhere frames are
// separated by a blank line. Documents follow one another as the round made them.
int Watch(const WatchSettings& settings, const std::function<Round()>& round, Waiter& waiter,
          const Clock& clock, std::ostream& out, std::ostream& err);

}  // namespace hermes::ctl
