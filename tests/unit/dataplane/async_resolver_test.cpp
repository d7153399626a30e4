// The resolver thread (config/resolver.h): names resolve off the caller's thread, a dead
// lookup holds up nothing but its own name, and the queue has a limit.
#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "dataplane/config/resolver.h"
#include "tests/support/eventually.h"

namespace hermes::dataplane {
namespace {

using hermes::test::Eventually;

// Answers every name with 192.0.2.1, except names starting with "dead", whose lookup never
// returns until Release().
class FakeLookup final : public HostLookup {
 public:
  std::vector<tcp::endpoint> Lookup(const HostPort& hp) override {
    std::unique_lock lock(mu_);
    asked_.insert(hp.host);
    if (hp.host.starts_with("dead")) {
      ++blocked_;
      released_.wait(lock, [this] { return released; });
      return {};
    }
    return {tcp::endpoint(asio::ip::make_address(answer_), hp.port)};
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      released = true;
    }
    released_.notify_all();
  }
  int blocked() {
    std::lock_guard lock(mu_);
    return blocked_;
  }
  void SetAnswer(std::string ip) {
    std::lock_guard lock(mu_);
    answer_ = std::move(ip);
  }

 private:
  std::mutex mu_;
  std::condition_variable released_;
  bool released = false;
  int blocked_ = 0;
  std::set<std::string> asked_;
  std::string answer_ = "192.0.2.1";
};

// Releases the stuck lookups when it goes: declared after a resolver, before the resolver's
// destructor joins its thread.
struct ReleaseAtEnd {
  ~ReleaseAtEnd() { lookup->Release(); }
  std::shared_ptr<FakeLookup> lookup;
};

class AsyncResolverTest : public ::testing::Test {
 protected:
  std::shared_ptr<FakeLookup> lookup_ = std::make_shared<FakeLookup>();
  std::atomic<int> changes_{0};
};

TEST_F(AsyncResolverTest, ANameIsAnsweredOnTheResolverThreadAndReported) {
  AsyncResolver resolver(lookup_, [this] { ++changes_; });
  EXPECT_EQ(resolver.Resolve({"backend.test:80", "127.0.0.1:81"}), 0u);
  ASSERT_TRUE(Eventually([&] { return resolver.hosts()->Find("backend.test:80") != nullptr; }));
  EXPECT_EQ(*resolver.hosts()->Find("backend.test:80"),
            std::vector<tcp::endpoint>{tcp::endpoint(asio::ip::make_address("192.0.2.1"), 80)});
  EXPECT_FALSE(resolver.hosts()->Find("127.0.0.1:81")) << "an IP literal is never looked up";
  EXPECT_TRUE(Eventually([&] { return changes_.load() == 1; }));
}

TEST_F(AsyncResolverTest, ARefreshReportsOnlyWhenAnAnswerChanged) {
  AsyncResolver resolver(lookup_, [this] { ++changes_; });
  resolver.Resolve({"backend.test:80"});
  ASSERT_TRUE(Eventually([&] { return changes_.load() == 1; }));
  resolver.Refresh({"backend.test:80", "other.test:80"});
  ASSERT_TRUE(Eventually([&] { return resolver.hosts()->Find("other.test:80") != nullptr; }));
  EXPECT_TRUE(Eventually([&] { return changes_.load() == 2; })) << "other.test is new";
  lookup_->SetAnswer("192.0.2.9");
  resolver.Refresh({"backend.test:80"});
  ASSERT_TRUE(Eventually([&] { return changes_.load() == 3; }));
  EXPECT_EQ(resolver.hosts()->Find("backend.test:80")->front().address().to_string(), "192.0.2.9");
  EXPECT_FALSE(resolver.hosts()->Find("other.test:80")) << "a name no longer used is forgotten";
}

TEST_F(AsyncResolverTest, ADeadLookupHoldsUpNoCaller) {
  AsyncResolver resolver(lookup_, [this] { ++changes_; });
  ReleaseAtEnd release{lookup_};
  resolver.Resolve({"dead.test:80"});
  ASSERT_TRUE(Eventually([&] { return lookup_->blocked() == 1; }));
  // The resolver thread is stuck; callers are not.
  EXPECT_EQ(resolver.Resolve({"backend.test:80"}), 0u);
  EXPECT_EQ(resolver.Refresh({"dead.test:80", "backend.test:80"}), 0u);
  EXPECT_FALSE(resolver.hosts()->Find("dead.test:80"));
  EXPECT_EQ(resolver.queued(), 1u) << "the stuck name is not queued twice";
}

TEST_F(AsyncResolverTest, QueueBeyondItsLimitRefusesNames) {
  AsyncResolver resolver(lookup_, {}, /*max_queued=*/3);
  ReleaseAtEnd release{lookup_};
  resolver.Resolve({"dead.test:80"});
  ASSERT_TRUE(Eventually([&] { return lookup_->blocked() == 1; }));
  EXPECT_EQ(resolver.Resolve({"a.test:80", "b.test:80", "c.test:80"}), 0u);
  EXPECT_EQ(resolver.Resolve({"d.test:80", "e.test:80"}), 2u);
  EXPECT_EQ(resolver.Resolve({"a.test:80"}), 0u) << "already queued: not refused";
  EXPECT_EQ(resolver.queued(), 3u);
}

}  // namespace
}  // namespace hermes::dataplane
