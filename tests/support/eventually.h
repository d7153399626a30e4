// The one way tests wait for something that happens on another thread or process: poll `probe`
// until it holds or `limit` passes. Never sleep before asserting; never write another poll loop.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace hermes::test {

inline bool Eventually(const std::function<bool()>& probe,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + limit;
  for (;;) {
    if (probe()) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace hermes::test
