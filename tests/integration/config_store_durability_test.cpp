// Crash durability of the config store: an Apply that has returned is on disk, whatever happens
// to the process right after. A forked child applies configs and reports each acknowledged
// version on a pipe; the parent kill -9s it right after one and reopens the file.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "controlplane/store/config_hash.h"
#include "controlplane/store/sqlite_stores.h"
#include "hermes/common/clock.h"

namespace hermes::controlplane {
namespace {

using google::protobuf::util::MessageDifferencer;

constexpr int kRounds = 5;
constexpr int kAppliesPerChild = 1000;  // more than any round waits for: the child dies mid-way
constexpr int kReadTimeoutMs = 30'000;

// What the child writes after each Apply returns: the version and which config it holds.
struct Acknowledged {
  std::int64_t version;
  std::int64_t config_index;
};

// Distinct, deterministic content per index, a few KiB so a version spans several pages.
v1::Config ConfigFor(std::int64_t index) {
  v1::Config config;
  auto* cluster = config.add_clusters();
  cluster->set_name("cluster-" + std::to_string(index));
  for (int e = 0; e < 100; ++e) {
    cluster->add_endpoints()->set_address("10.1." + std::to_string(e) + "." +
                                          std::to_string(index % 250) + ":8080");
  }
  auto* route = config.add_routes();
  route->set_cluster(cluster->name());
  route->mutable_match()->set_prefix("/v" + std::to_string(index));
  return config;
}

class TempDir {
 public:
  TempDir() {
    std::string name =
        (std::filesystem::temp_directory_path() / "hermes-store-durability-XXXXXX").string();
    if (mkdtemp(name.data()) != nullptr) path_ = name;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// The child: never returns. Exit codes other than death by SIGKILL are failures.
[[noreturn]] void ApplyUntilKilled(const std::filesystem::path& path, std::int64_t first_index,
                                   int out) {
  SystemClock clock;
  auto store = SqliteStores::Open(path, clock);
  if (!store.ok()) _exit(2);
  for (std::int64_t index = first_index; index < first_index + kAppliesPerChild; ++index) {
    auto outcome = (*store)->versions.Apply(ConfigFor(index), "durability-test", "apply");
    if (!outcome.ok() || !outcome->created) _exit(3);
    const Acknowledged ack{outcome->version.id, index};
    if (write(out, &ack, sizeof ack) != static_cast<ssize_t>(sizeof ack)) _exit(4);
  }
  _exit(5);  // ran out of configs before being killed
}

// Reads one record; false at EOF, on timeout or on a short read.
bool ReadAcknowledged(int in, Acknowledged& ack) {
  pollfd readable{in, POLLIN, 0};
  if (poll(&readable, 1, kReadTimeoutMs) != 1) return false;
  return read(in, &ack, sizeof ack) == static_cast<ssize_t>(sizeof ack);
}

TEST(ConfigStoreDurabilityTest, EveryAcknowledgedApplySurvivesKill9RightAfterIt) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::filesystem::path path = dir.path() / "store.db";
  std::vector<Acknowledged> acknowledged;

  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    // The parent holds no SQLite connection across fork: each round's store is closed below.
    const pid_t child = fork();
    ASSERT_NE(child, -1);
    if (child == 0) {
      close(fds[0]);
      ApplyUntilKilled(path, std::int64_t{round} * kAppliesPerChild, fds[1]);
    }
    close(fds[1]);

    // Kill at a different point each round, right after an acknowledgement arrives; the child is
    // then usually inside its next Apply.
    const int kill_after = 3 + round * 4;
    int received = 0;
    Acknowledged ack{};
    while (received < kill_after && ReadAcknowledged(fds[0], ack)) {
      acknowledged.push_back(ack);
      ++received;
    }
    kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    // Anything written before the kill was acknowledged too.
    while (ReadAcknowledged(fds[0], ack)) acknowledged.push_back(ack);
    close(fds[0]);

    ASSERT_EQ(received, kill_after) << "the child stopped early";
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child exited with status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);

    SystemClock clock;
    auto store = SqliteStores::Open(path, clock);
    ASSERT_TRUE(store.ok()) << store.error().message;
    for (const Acknowledged& a : acknowledged) {
      auto version = (*store)->versions.Get(a.version);
      ASSERT_TRUE(version.ok()) << "acknowledged v" << a.version << ": " << version.error().message;
      const v1::Config expected = ConfigFor(a.config_index);
      EXPECT_EQ(version->hash, Sha256Hex(SerializeDeterministic(expected)));
      EXPECT_TRUE(MessageDifferencer::Equals(version->config, expected))
          << "v" << a.version << " does not hold config " << a.config_index;
    }
    // Versions stay a chain: an Apply cut short by the kill left nothing half-written.
    auto history = (*store)->versions.History(100'000, std::nullopt);
    ASSERT_TRUE(history.ok()) << history.error().message;
    ASSERT_FALSE(history->empty());
    EXPECT_GE(history->front().id, acknowledged.back().version);
    for (std::size_t i = 0; i < history->size(); ++i) {
      const ConfigVersion& v = (*history)[i];
      EXPECT_EQ(v.id, static_cast<VersionId>(history->size() - i));
      EXPECT_EQ(v.parent, v.id > 1 ? std::optional<VersionId>(v.id - 1) : std::nullopt);
    }
  }
}

}  // namespace
}  // namespace hermes::controlplane
