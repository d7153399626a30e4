// The stats stream over real gRPC on loopback: an in-process StatsService with its aggregator and
// a real SQLite file, and raw client streams that play proxies. Checks that an ack means the
// report is durable, that repeats are not counted twice, auth, and that a control-plane restart
// in the middle of the traffic changes no count.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "controlplane/stats/stats_aggregator.h"
#include "controlplane/stats/stats_service.h"
#include "controlplane/store/sqlite_stores.h"
#include "hermes/common/clock.h"

namespace hermes::controlplane {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using Stream = grpc::ClientReaderWriter<v1::StatsReport, v1::StatsAck>;

constexpr auto kInterval = 1000ms;

// A proxy's cumulative report: `ok` 2xx responses so far through cluster "web" and route "all".
v1::StatsReport Cumulative(const std::string& node, std::uint64_t run, std::uint64_t sequence,
                           std::uint64_t ok, bool final = false) {
  v1::StatsReport r;
  r.mutable_node()->set_id(node);
  r.set_run_id(run);
  r.set_sequence(sequence);
  r.set_final(final);
  for (std::uint64_t bound : kLatencyBoundsUs) r.add_latency_bounds_us(bound);
  v1::TrafficCounters counters;
  for (int c = 0; c < 6; ++c) counters.add_responses_by_class(c == 2 ? ok : 0);
  for (std::size_t b = 0; b < kLatencyBuckets; ++b) counters.add_latency_buckets(b == 3 ? ok : 0);
  v1::ScopeStats& cluster = *r.add_clusters();
  cluster.set_name("web");
  *cluster.mutable_counters() = counters;
  v1::ScopeStats& route = *r.add_routes();
  route.set_name("all");
  *route.mutable_counters() = counters;
  v1::EndpointStats& endpoint = *r.add_endpoints();
  endpoint.set_cluster("web");
  endpoint.set_address("127.0.0.1:9001");
  *endpoint.mutable_counters() = counters;
  endpoint.set_circuit(v1::CLOSED);
  return r;
}

// One stream of a proxy. The stream goes before its context.
struct Connection {
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream;
};

class StatsStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/hermes-stats-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }

  void TearDown() override {
    Stop();
    std::filesystem::remove_all(dir_);
  }

  std::string db() const { return dir_ + "/hermes.db"; }

  // A control plane: the store, the aggregator loaded from it, the service, a gRPC server.
  void Start(std::string token = "",
             std::chrono::seconds run_retention = StatsAggregator::kDefaultRunRetention) {
    auto opened = SqliteStores::Open(db(), clock_);
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    store_ = std::move(opened).value();
    stats_ =
        std::make_unique<StatsAggregator>(clock_, kInterval, std::chrono::hours(1), run_retention);
    auto loaded = stats_->Load(store_->stats);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message;
    service_ = std::make_unique<StatsService>(*stats_, &store_->stats, std::move(token));
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(port, 0);
    stub_ = v1::StatsService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                          grpc::InsecureChannelCredentials()));
  }

  // The control plane goes away: streams are cut, what is counted but not stored is written.
  void Stop() {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + 1s);
    server_.reset();
    service_.reset();
    stats_.reset();
    store_.reset();
  }

  std::unique_ptr<Connection> Connect(const std::string& authorization = "") {
    auto c = std::make_unique<Connection>();
    c->context.set_deadline(std::chrono::system_clock::now() + 20s);
    if (!authorization.empty()) c->context.AddMetadata("authorization", authorization);
    c->stream = stub_->Report(&c->context);
    return c;
  }

  // Sends `report` and reads acks until one covers it.
  static v1::StatsAck SendAndAwaitAck(Stream& stream, const v1::StatsReport& report) {
    EXPECT_TRUE(stream.Write(report));
    v1::StatsAck ack;
    while (stream.Read(&ack)) {
      if (ack.run_id() == report.run_id() && ack.sequence() >= report.sequence()) return ack;
    }
    ADD_FAILURE() << "no ack for run " << report.run_id() << " sequence " << report.sequence()
                  << ": " << stream.Finish().error_message();
    return ack;
  }

  // Until the server has seen every stream end (bounded).
  bool AwaitNoStreams() const {
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (service_->streams() != 0) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

  std::uint64_t Total() const { return stats_->Stats({}).total().requests(); }

  std::map<std::string, std::uint64_t> PerProxy() const {
    std::map<std::string, std::uint64_t> out;
    const v1::GetStatsResponse response = stats_->Stats({});
    for (const auto& row : response.proxies()) out[row.name()] = row.requests();
    return out;
  }

  SystemClock clock_;
  std::string dir_;
  std::unique_ptr<SqliteStores> store_;
  std::unique_ptr<StatsAggregator> stats_;
  std::unique_ptr<StatsService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::StatsService::Stub> stub_;
};

TEST_F(StatsStreamTest, AReportIsCountedAtOnceButAckedOnlyOnceItIsDurable) {
  Start();
  // Another connection holds the file's write lock: the service's commit has to wait for it.
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(db().c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);

  auto proxy = Connect();
  std::atomic<bool> acked = false;
  v1::StatsAck ack;
  std::thread reader([&] { acked = proxy->stream->Read(&ack); });
  ASSERT_TRUE(proxy->stream->Write(Cumulative("p1", 42, 1, 100)));
  for (int i = 0; i < 200 && Total() != 100; ++i) std::this_thread::sleep_for(5ms);
  EXPECT_EQ(Total(), 100u);  // counted
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(acked);  // not stored, so not acknowledged

  sqlite3_exec(blocker, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(blocker);
  reader.join();
  ASSERT_TRUE(acked);
  EXPECT_EQ(ack.run_id(), 42u);
  EXPECT_EQ(ack.sequence(), 1u);
  EXPECT_EQ(ack.report_interval_ms(), 1000u);
  // What the ack promises: the file holds the report.
  auto other = SqliteStores::Open(db(), clock_);
  ASSERT_TRUE(other.ok()) << other.error().message;
  auto stored = (*other)->stats.LoadStats();
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  ASSERT_EQ(stored->runs.size(), 1u);
  EXPECT_EQ(stored->runs[0].node_id, "p1");
  EXPECT_EQ(stored->runs[0].run_id, 42u);
  EXPECT_EQ(stored->runs[0].sequence, 1u);
}

TEST_F(StatsStreamTest, ARepeatedReportIsAckedAgainButCountedOnce) {
  Start();
  auto proxy = Connect();
  EXPECT_EQ(SendAndAwaitAck(*proxy->stream, Cumulative("p1", 7, 1, 100)).sequence(), 1u);
  EXPECT_EQ(SendAndAwaitAck(*proxy->stream, Cumulative("p1", 7, 2, 250)).sequence(), 2u);
  EXPECT_EQ(SendAndAwaitAck(*proxy->stream, Cumulative("p1", 7, 2, 250)).sequence(), 2u);
  EXPECT_EQ(SendAndAwaitAck(*proxy->stream, Cumulative("p1", 7, 1, 100)).sequence(), 1u);
  EXPECT_EQ(Total(), 250u);

  // The same report again on a new stream (the proxy reconnected without seeing the ack).
  proxy->context.TryCancel();
  proxy.reset();
  auto again = Connect();
  EXPECT_EQ(SendAndAwaitAck(*again->stream, Cumulative("p1", 7, 2, 250)).sequence(), 2u);
  EXPECT_EQ(Total(), 250u);
}

TEST_F(StatsStreamTest, AControlPlaneRestartInTheMiddleChangesNoCount) {
  // Exactly 10,000 requests through two proxies: p1 serves 600 per interval, p2 400, ten
  // intervals each.
  Start();
  auto p1 = Connect();
  auto p2 = Connect();
  for (std::uint64_t s = 1; s <= 5; ++s) {
    SendAndAwaitAck(*p1->stream, Cumulative("p1", 101, s, 600 * s));
  }
  for (std::uint64_t s = 1; s <= 4; ++s) {
    SendAndAwaitAck(*p2->stream, Cumulative("p2", 202, s, 400 * s));
  }
  ASSERT_TRUE(p2->stream->Write(Cumulative("p2", 202, 5, 2000)));  // its ack may never come

  Stop();  // the control plane restarts in the middle
  p1.reset();
  p2.reset();
  Start();
  EXPECT_LE(Total(), 5000u);
  EXPECT_GE(Total(), 4600u);

  // The proxies reconnect and resend what they last sent, then go on.
  p1 = Connect();
  p2 = Connect();
  SendAndAwaitAck(*p1->stream, Cumulative("p1", 101, 5, 3000));
  SendAndAwaitAck(*p2->stream, Cumulative("p2", 202, 5, 2000));
  EXPECT_EQ(Total(), 5000u);
  for (std::uint64_t s = 6; s <= 10; ++s) {
    SendAndAwaitAck(*p1->stream, Cumulative("p1", 101, s, 600 * s, /*final=*/s == 10));
    SendAndAwaitAck(*p2->stream, Cumulative("p2", 202, s, 400 * s, /*final=*/s == 10));
  }
  EXPECT_EQ(Total(), 10000u);
  EXPECT_EQ(PerProxy(), (std::map<std::string, std::uint64_t>{{"p1", 6000}, {"p2", 4000}}));

  // The final reports were acked: they survive another restart.
  p1->context.TryCancel();
  p2->context.TryCancel();
  Stop();
  p1.reset();
  p2.reset();
  Start();
  EXPECT_EQ(Total(), 10000u);
  EXPECT_EQ(PerProxy(), (std::map<std::string, std::uint64_t>{{"p1", 6000}, {"p2", 4000}}));
}

TEST_F(StatsStreamTest, AStreamWithoutTheTokenIsRefused) {
  Start("s3cret");
  for (const std::string authorization : {"", "Bearer wrong"}) {
    auto proxy = Connect(authorization);
    proxy->stream->Write(Cumulative("p1", 7, 1, 100));
    v1::StatsAck ack;
    EXPECT_FALSE(proxy->stream->Read(&ack));
    grpc::Status status = proxy->stream->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << authorization;
    EXPECT_THAT(status.error_message(), HasSubstr("bearer token"));
  }
  EXPECT_EQ(Total(), 0u);
  auto proxy = Connect("Bearer s3cret");
  EXPECT_EQ(SendAndAwaitAck(*proxy->stream, Cumulative("p1", 7, 1, 100)).sequence(), 1u);
  EXPECT_EQ(Total(), 100u);
}

TEST_F(StatsStreamTest, TheFirstReportMustNameItsNode) {
  Start();
  auto proxy = Connect();
  v1::StatsReport report = Cumulative("", 7, 1, 100);
  proxy->stream->Write(report);
  v1::StatsAck ack;
  EXPECT_FALSE(proxy->stream->Read(&ack));
  grpc::Status status = proxy->stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("node.id"));
  EXPECT_EQ(Total(), 0u);
}

TEST_F(StatsStreamTest, AMalformedReportEndsTheStreamSayingWhatIsWrong) {
  Start();
  auto proxy = Connect();
  SendAndAwaitAck(*proxy->stream, Cumulative("p1", 7, 1, 100));
  v1::StatsReport bad = Cumulative("p1", 7, 2, 200);
  bad.mutable_clusters(0)->mutable_counters()->clear_latency_buckets();
  bad.mutable_clusters(0)->mutable_counters()->add_latency_buckets(1);
  proxy->stream->Write(bad);
  v1::StatsAck ack;
  EXPECT_FALSE(proxy->stream->Read(&ack));
  grpc::Status status = proxy->stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(),
              HasSubstr("node \"p1\" (run 7, sequence 2): clusters[0] (\"web\"): latency_buckets"));
  EXPECT_EQ(Total(), 100u);
}

TEST_F(StatsStreamTest, AStreamCarryingMoreThanSixteenRunsIsEnded) {
  Start();
  auto proxy = Connect();
  for (std::uint64_t run = 1; run <= 16; ++run) {
    SendAndAwaitAck(*proxy->stream, Cumulative("p1", run, 1, 10));
  }
  proxy->stream->Write(Cumulative("p1", 17, 1, 10));
  v1::StatsAck ack;
  EXPECT_FALSE(proxy->stream->Read(&ack));
  grpc::Status status = proxy->stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("node \"p1\": run 17"));
  EXPECT_THAT(status.error_message(), HasSubstr("at most 16"));
  EXPECT_EQ(Total(), 160u);
}

// A run is folded only once no stream carries it (here: at once, a zero run retention); a
// newer report of it then cannot be counted, and the proxy hears why.
TEST_F(StatsStreamTest, AReportNewerThanItsFoldedRunEndsTheStreamSayingSo) {
  Start("", std::chrono::seconds(0));
  {
    auto proxy = Connect();
    SendAndAwaitAck(*proxy->stream, Cumulative("p1", 7, 1, 100));
    stats_->Compact();  // its stream carries it: kept
    SendAndAwaitAck(*proxy->stream, Cumulative("p1", 7, 2, 120));
    proxy->stream->WritesDone();
    EXPECT_TRUE(proxy->stream->Finish().ok());
  }
  ASSERT_TRUE(AwaitNoStreams());
  stats_->Compact();  // folded

  auto proxy = Connect();
  proxy->stream->Write(Cumulative("p1", 7, 3, 150));
  v1::StatsAck ack;
  EXPECT_FALSE(proxy->stream->Read(&ack));
  grpc::Status status = proxy->stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("(run 7, sequence 3): the run was folded"));
  EXPECT_EQ(Total(), 120u);
}

}  // namespace
}  // namespace hermes::controlplane
