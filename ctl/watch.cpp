#include "ctl/watch.h"

#include <algorithm>
#include <csignal>
#include <thread>

#include "ctl/time_text.h"
#include "hermes/common/duration.h"

namespace hermes::ctl {
namespace {

volatile std::sig_atomic_t interrupted = 0;

extern "C" void OnInterrupt(int) { interrupted = 1; }

struct sigaction previous_action;

}  // namespace

CatchInterrupt::CatchInterrupt() {
  interrupted = 0;
  struct sigaction action = {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &action, &previous_action);
}

CatchInterrupt::~CatchInterrupt() {
  sigaction(SIGINT, &previous_action, nullptr);
  interrupted = 0;
}

bool SleepingWaiter::Wait(std::chrono::milliseconds d) {
  constexpr std::chrono::milliseconds kSlice(50);
  const auto until = std::chrono::steady_clock::now() + d;
  while (interrupted == 0) {
    const auto left = until - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(left, kSlice));
  }
  return false;
}

int Watch(const WatchSettings& settings, const std::function<Round()>& round, Waiter& waiter,
          const Clock& clock, std::ostream& out, std::ostream& err) {
  for (int n = 0;; ++n) {
    const Round r = round();
    if (r.failed) {
      err << r.error << "\n";
      if (n == 0 || !r.transient) return 1;
    } else {
      if (settings.table) {
        if (settings.terminal) {
          out << kClearScreen;
        } else if (n > 0) {
          out << "\n";
        }
        const auto now_ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(clock.Now().time_since_epoch())
                .count();
        out << "every " << FormatDuration(settings.interval) << ": hermesctl " << settings.command
            << " at " << FormatRfc3339(now_ms) << " (Ctrl-C to stop)\n\n";
      }
      out << r.frame;
      if (r.end) {
        out << r.end_out;
        err << r.end_err;
        out.flush();
        return *r.end;
      }
    }
    out.flush();
    if (!waiter.Wait(settings.interval)) return 0;
  }
}

}  // namespace hermes::ctl
