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

}  // namespace hermes
