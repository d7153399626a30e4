// Wall-clock time as an injected object: code that stamps times (config versions, node state)
// takes a `Clock&`, so a test can set the time instead of reading the real one.
#pragma once

#include <chrono>

namespace hermes {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::now();
  }
};

// Monotonic time, injected the same way: deadlines, backoff and breaker windows in code that
// tests drive step by step (the proxy's router).
class MonotonicClock {
 public:
  virtual ~MonotonicClock() = default;
  virtual std::chrono::steady_clock::time_point Now() const = 0;
};

class SystemMonotonicClock final : public MonotonicClock {
 public:
  std::chrono::steady_clock::time_point Now() const override {
    return std::chrono::steady_clock::now();
  }
};

}  // namespace hermes
