// The per-cluster limit counters: a ceiling that holds under concurrent workers.
#include "dataplane/resilience/cluster_limits.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace hermes::dataplane::resilience {
namespace {

TEST(BoundedCounterTest, AcquiresUpToTheLimit) {
  BoundedCounter c;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(c.TryAcquire(3));
  EXPECT_EQ(c.value(), 3);
  EXPECT_EQ(c.overflows(), 0u);
}

TEST(BoundedCounterTest, RefusesAtTheLimitAndCountsTheOverflow) {
  BoundedCounter c;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.TryAcquire(3));
  EXPECT_FALSE(c.TryAcquire(3));
  EXPECT_FALSE(c.TryAcquire(3));
  EXPECT_EQ(c.value(), 3);
  EXPECT_EQ(c.overflows(), 2u);
}

TEST(BoundedCounterTest, ReleaseMakesRoom) {
  BoundedCounter c;
  ASSERT_TRUE(c.TryAcquire(1));
  ASSERT_FALSE(c.TryAcquire(1));
  c.Release();
  EXPECT_EQ(c.value(), 0);
  EXPECT_TRUE(c.TryAcquire(1));
}

TEST(BoundedCounterTest, ZeroLimitRefusesEverything) {
  BoundedCounter c;
  EXPECT_FALSE(c.TryAcquire(0));
  EXPECT_EQ(c.value(), 0);
  EXPECT_EQ(c.overflows(), 1u);
}

TEST(BoundedCounterTest, LoweredLimitRefusesUntilBelowIt) {
  BoundedCounter c;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.TryAcquire(10));
  EXPECT_FALSE(c.TryAcquire(3));
  for (int i = 0; i < 3; ++i) c.Release();
  EXPECT_TRUE(c.TryAcquire(3));
}

TEST(BoundedCounterTest, ConcurrentAcquirersNeverExceedTheLimit) {
  constexpr uint32_t kLimit = 4;
  constexpr int kThreads = 8;
  constexpr int kAttempts = 20000;
  BoundedCounter c;
  std::atomic<int64_t> most{0};
  std::atomic<uint64_t> granted{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kThreads; ++w) {
    workers.emplace_back([&] {
      for (int i = 0; i < kAttempts; ++i) {
        if (!c.TryAcquire(kLimit)) continue;
        granted.fetch_add(1);
        const int64_t n = c.value();
        int64_t seen = most.load();
        while (n > seen && !most.compare_exchange_weak(seen, n)) {
        }
        std::this_thread::yield();  // hold the slot a while, so that others contend for it
        c.Release();
      }
    });
  }
  for (auto& w : workers) w.join();
  EXPECT_LE(most.load(), kLimit);
  EXPECT_EQ(c.value(), 0);
  EXPECT_EQ(granted.load() + c.overflows(), uint64_t{kThreads} * kAttempts);
}

}  // namespace
}  // namespace hermes::dataplane::resilience
