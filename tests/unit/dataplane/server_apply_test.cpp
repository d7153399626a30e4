// The server's apply with a resolver that never answers (a fake lookup): applies, health
// verdicts and admin reads go through at once; new names are served once resolved.
#include <gtest/gtest.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "dataplane/server/server.h"
#include "hermes/common/config.h"
#include "tests/support/eventually.h"

namespace hermes::dataplane {
namespace {

using hermes::test::Eventually;

// Every lookup blocks until Release() (a DNS server that never answers), then answers
// 192.0.2.1.
class StuckLookup final : public HostLookup {
 public:
  std::vector<tcp::endpoint> Lookup(const HostPort& hp) override {
    std::unique_lock lock(mu_);
    ++waiting_;
    released_.wait(lock, [this] { return released; });
    return {tcp::endpoint(asio::ip::make_address("192.0.2.1"), hp.port)};
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      released = true;
    }
    released_.notify_all();
  }
  int waiting() {
    std::lock_guard lock(mu_);
    return waiting_;
  }

 private:
  std::mutex mu_;
  std::condition_variable released_;
  bool released = false;
  int waiting_ = 0;
};

v1::Config Load(const std::string& yaml) {
  auto loaded = config::LoadConfigString(yaml);
  for (const auto& e : loaded.errors) ADD_FAILURE() << e.ToString();
  return loaded.config;
}

std::string Config(const std::string& extra_endpoint = "") {
  return "listeners: [ { name: main, address: \"127.0.0.1:0\" } ]\n"
         "admin: { address: \"off\" }\n"
         "clusters:\n"
         "  - name: named\n"
         "    health_check: { enabled: false }\n"
         "    endpoints: [ { address: \"backend.test:80\" } ]\n"
         "  - name: literal\n"
         "    health_check: { enabled: false }\n"
         "    endpoints: [ { address: \"127.0.0.1:9\" } " +
         extra_endpoint +
         "]\n"
         "routes: [ { name: all, cluster: literal } ]\n";
}

const Cluster* Find(const Snapshot& snap, const std::string& name) {
  for (const auto& c : snap.clusters)
    if (c->name == name) return c.get();
  return nullptr;
}

class ServerApplyTest : public ::testing::Test {
 protected:
  ServerApplyTest() {
    ServerOptions options;
    options.central_health = true;
    options.lookup = lookup_;
    server_ = std::make_unique<Server>(options);
  }
  ~ServerApplyTest() override {
    lookup_->Release();  // the resolver thread is joined when the server goes
    server_.reset();
  }

  std::shared_ptr<StuckLookup> lookup_ = std::make_shared<StuckLookup>();
  std::unique_ptr<Server> server_;
};

TEST_F(ServerApplyTest, DeadResolverDoesNotBlockApply) {
  ASSERT_TRUE(server_->Start(Load(Config())).empty());
  ASSERT_TRUE(Eventually([&] { return lookup_->waiting() == 1; }))
      << "backend.test is being looked up";

  // The lookup hangs; an apply, health verdicts and reads of the snapshot do not.
  auto errors = server_->Apply(Load(Config(", { address: \"127.0.0.1:10\" }")), {});
  ASSERT_TRUE(errors.empty()) << errors[0];
  SnapshotPtr snap = server_->snapshot();
  EXPECT_EQ(Find(*snap, "literal")->endpoints.size(), 2u);
  EXPECT_FALSE(Find(*snap, "literal")->endpoints[1].resolved.empty()) << "served at once";
  EXPECT_TRUE(Find(*snap, "named")->endpoints[0].resolved.empty()) << "not until resolved";

  ConfigChanges none;
  errors = server_->Apply(std::move(none), {{"literal", {"127.0.0.1:9"}}});
  ASSERT_TRUE(errors.empty()) << errors[0];
  EXPECT_FALSE(Find(*server_->snapshot(), "literal")->endpoints[0].state->healthy.load())
      << "the health verdict applied";
  EXPECT_EQ(server_->snapshot(), snap) << "a health-only update compiles nothing";
}

TEST_F(ServerApplyTest, NewNameServedOnceResolved) {
  ASSERT_TRUE(server_->Start(Load(Config())).empty());
  SnapshotPtr before = server_->snapshot();
  ASSERT_TRUE(Find(*before, "named")->endpoints[0].resolved.empty());
  lookup_->Release();
  ASSERT_TRUE(Eventually([&] {
    return !Find(*server_->snapshot(), "named")->endpoints[0].resolved.empty();
  })) << "the answer is published";
  SnapshotPtr after = server_->snapshot();
  EXPECT_EQ(Find(*after, "named")->endpoints[0].resolved.front().address().to_string(),
            "192.0.2.1");
  EXPECT_EQ(Find(*after, "literal"), Find(*before, "literal"))
      << "only the resolved cluster recompiles";
}

}  // namespace
}  // namespace hermes::dataplane
