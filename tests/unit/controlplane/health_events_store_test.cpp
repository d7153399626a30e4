// SqliteConfigStore's health transitions on real files: recorded in order, listed newest first,
// the last one per endpoint, bounded in number.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "controlplane/store/sqlite_config_store.h"
#include "store_fixture.h"

namespace hermes::controlplane {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const TimePoint kStart = std::chrono::sys_days(std::chrono::year(2024) / 5 / 1) + 12h;

HealthEventRecord Event(std::string cluster, std::string address, bool healthy, std::string reason,
                        TimePoint at) {
  return {std::move(cluster), std::move(address), healthy, std::move(reason), at};
}

std::vector<std::string> Reasons(const std::vector<HealthEventRecord>& events) {
  std::vector<std::string> reasons;
  for (const auto& e : events) reasons.push_back(e.reason);
  return reasons;
}

class HealthEventsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    auto opened = SqliteConfigStore::Open(dir_.path() / "store.db", clock_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
  }

  void Record(const std::vector<HealthEventRecord>& events) {
    auto recorded = store_->RecordHealthEvents(events);
    ASSERT_TRUE(recorded.ok()) << recorded.error().message;
  }

  std::vector<HealthEventRecord> List(std::string_view cluster, std::size_t limit) {
    auto events = store_->ListHealthEvents(cluster, limit);
    EXPECT_TRUE(events.ok()) << events.error().message;
    return events.ok() ? *events : std::vector<HealthEventRecord>{};
  }

  TempDir dir_;
  ManualClock clock_{kStart};
  std::unique_ptr<SqliteConfigStore> store_;
};

TEST_F(HealthEventsStoreTest, AnEmptyStoreHasNoEventsAndNoLatestHealth) {
  EXPECT_TRUE(List("", 50).empty());
  auto latest = store_->LatestHealth();
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  EXPECT_TRUE(latest->empty());
}

TEST_F(HealthEventsStoreTest, EventsAreListedNewestFirstWithEveryField) {
  Record({Event("web", "10.0.0.1:80", false, "HTTP 503", kStart),
          Event("web", "10.0.0.2:80", false, "connect: connection refused", kStart + 1s)});
  Record({Event("web", "10.0.0.1:80", true, "HTTP 200", kStart + 2s)});
  auto events = List("", 50);
  EXPECT_EQ(Reasons(events),
            (std::vector<std::string>{"HTTP 200", "connect: connection refused", "HTTP 503"}));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].cluster, "web");
  EXPECT_EQ(events[0].address, "10.0.0.1:80");
  EXPECT_TRUE(events[0].healthy);
  EXPECT_EQ(events[0].at, kStart + 2s);
  EXPECT_FALSE(events[2].healthy);
}

TEST_F(HealthEventsStoreTest, ListingFiltersByClusterAndStopsAtTheLimit) {
  Record({Event("web", "a:80", false, "w1", kStart), Event("api", "b:80", false, "a1", kStart),
          Event("web", "a:80", true, "w2", kStart), Event("api", "b:80", true, "a2", kStart),
          Event("web", "a:80", false, "w3", kStart)});
  EXPECT_EQ(Reasons(List("web", 50)), (std::vector<std::string>{"w3", "w2", "w1"}));
  EXPECT_EQ(Reasons(List("api", 1)), (std::vector<std::string>{"a2"}));
  EXPECT_EQ(Reasons(List("", 2)), (std::vector<std::string>{"w3", "a2"}));
  EXPECT_TRUE(List("nope", 50).empty());
}

TEST_F(HealthEventsStoreTest, TimesAreKeptToTheMillisecond) {
  Record({Event("web", "a:80", false, "x", kStart + 1234567us)});
  auto events = List("", 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].at, kStart + 1234ms);
}

TEST_F(HealthEventsStoreTest, LatestHealthIsTheLastEventOfEachEndpoint) {
  Record({Event("web", "a:80", false, "down", kStart), Event("web", "b:80", false, "down", kStart),
          Event("api", "a:80", false, "api down", kStart)});
  Record({Event("web", "a:80", true, "up again", kStart + 5s)});
  auto latest = store_->LatestHealth();
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  ASSERT_EQ(latest->size(), 3u);
  const auto& a = latest->at({"web", "a:80"});
  EXPECT_TRUE(a.healthy);
  EXPECT_EQ(a.reason, "up again");
  EXPECT_EQ(a.at, kStart + 5s);
  EXPECT_FALSE(latest->at({"web", "b:80"}).healthy);
  EXPECT_EQ(latest->at({"api", "a:80"}).reason, "api down");
}

TEST_F(HealthEventsStoreTest, EventsPersistAcrossReopen) {
  Record({Event("web", "a:80", false, "HTTP 503", kStart)});
  Reopen();
  EXPECT_EQ(Reasons(List("", 10)), (std::vector<std::string>{"HTTP 503"}));
  auto latest = store_->LatestHealth();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->count({"web", "a:80"}), 1u);
}

TEST_F(HealthEventsStoreTest, AnEventWithoutClusterOrAddressRefusesTheWholeBatch) {
  auto recorded = store_->RecordHealthEvents(
      {Event("web", "a:80", false, "ok", kStart), Event("web", "", false, "bad", kStart)});
  ASSERT_FALSE(recorded.ok());
  EXPECT_EQ(recorded.error().kind, StoreErrorKind::kInvalidArgument);
  EXPECT_THAT(recorded.error().message, HasSubstr("event 1"));
  EXPECT_TRUE(List("", 10).empty());
}

TEST_F(HealthEventsStoreTest, OldEventsBeyondTheBoundAreDroppedButEachEndpointKeepsItsLast) {
  Record({Event("web", "stable:80", false, "down once", kStart)});
  std::vector<HealthEventRecord> flapping;
  for (std::int64_t i = 0; i <= SqliteConfigStore::kMaxHealthEvents; ++i) {
    flapping.push_back(Event("web", "flaps:80", i % 2 == 0, "flap " + std::to_string(i), kStart));
  }
  Record(flapping);
  auto events = List("", 2 * SqliteConfigStore::kMaxHealthEvents);
  // The newest kMaxHealthEvents (all flaps but the first) and the stable endpoint's only one.
  ASSERT_EQ(events.size(), static_cast<std::size_t>(SqliteConfigStore::kMaxHealthEvents) + 1);
  EXPECT_EQ(events.front().reason, "flap " + std::to_string(SqliteConfigStore::kMaxHealthEvents));
  EXPECT_EQ(events[events.size() - 2].reason, "flap 1");
  EXPECT_EQ(events.back().reason, "down once");
  auto latest = store_->LatestHealth();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->at({"web", "stable:80"}).reason, "down once");
}

}  // namespace
}  // namespace hermes::controlplane
