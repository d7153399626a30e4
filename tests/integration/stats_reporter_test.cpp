// The stats stream over real gRPC on loopback: a real proxy (two workers, test upstreams) serves
// requests, its StatsReporter reports to a StatsService peer in this test, and the reported
// route, cluster and endpoint counts must equal what was sent, exactly, across a dropped stream
// too; the interval from the acks is honoured and Stop() sends a final report.
#include <gtest/gtest.h>

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/discovery/stats_reporter.h"
#include "hermes/common/clock.h"
#include "hermes/v1/stats.grpc.pb.h"
#include "tests/integration/proxy_harness.h"
#include "tests/support/test_upstream.h"

namespace hermes::integration {
namespace {

using SteadyClock = std::chrono::steady_clock;

// The control plane's side of the stream, as far as these tests need it: it keeps every report
// with the time it arrived and acks it (or drops the stream, or stays mute) as told.
class StatsPeer final : public v1::StatsService::Service {
 public:
  struct Received {
    v1::StatsReport report;
    SteadyClock::time_point at;
    int stream = 0;  // 1 for the first stream, 2 for the next...
  };

  grpc::Status Report(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<v1::StatsAck, v1::StatsReport>* stream) override {
    int number = 0;
    {
      std::lock_guard lock(mu_);
      number = ++streams_;
      auto auth = context->client_metadata().find("authorization");
      authorization_ = auth == context->client_metadata().end()
                           ? ""
                           : std::string(auth->second.data(), auth->second.size());
    }
    v1::StatsReport report;
    while (stream->Read(&report)) {
      v1::StatsAck ack;
      bool drop = false, mute = false;
      {
        std::lock_guard lock(mu_);
        received_.push_back({report, SteadyClock::now(), number});
        drop = drop_next_;
        drop_next_ = false;
        mute = mute_;
        ack.set_run_id(report.run_id());
        ack.set_sequence(report.sequence());
        ack.set_report_interval_ms(interval_ms_);
        changed_.notify_all();
      }
      if (drop) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream dropped by the test");
      if (mute) continue;
      {
        std::lock_guard lock(mu_);
        ack_sent_[report.sequence()] = SteadyClock::now();
      }
      if (!stream->Write(ack)) break;
    }
    return grpc::Status::OK;
  }

  void set_interval_ms(uint32_t ms) {
    std::lock_guard lock(mu_);
    interval_ms_ = ms;
  }
  void DropNextStream() {
    std::lock_guard lock(mu_);
    drop_next_ = true;
  }
  void set_mute(bool mute) {
    std::lock_guard lock(mu_);
    mute_ = mute;
  }

  // The first report received that satisfies `match`, waiting up to `timeout` for it.
  std::optional<Received> WaitFor(const std::function<bool(const Received&)>& match,
                                  std::chrono::milliseconds timeout = 5s) {
    std::unique_lock lock(mu_);
    std::optional<Received> found;
    changed_.wait_for(lock, timeout, [&] {
      for (const auto& r : received_) {
        if (match(r)) {
          found = r;
          return true;
        }
      }
      return false;
    });
    return found;
  }

  std::vector<Received> received() const {
    std::lock_guard lock(mu_);
    return received_;
  }
  std::optional<SteadyClock::time_point> ack_sent(uint64_t sequence) const {
    std::lock_guard lock(mu_);
    auto it = ack_sent_.find(sequence);
    if (it == ack_sent_.end()) return std::nullopt;
    return it->second;
  }
  std::string authorization() const {
    std::lock_guard lock(mu_);
    return authorization_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable changed_;
  std::vector<Received> received_;
  std::map<uint64_t, SteadyClock::time_point> ack_sent_;
  uint32_t interval_ms_ = 200;
  bool drop_next_ = false;
  bool mute_ = false;
  int streams_ = 0;
  std::string authorization_;
};

const v1::ScopeStats* FindScope(const google::protobuf::RepeatedPtrField<v1::ScopeStats>& all,
                                const std::string& name) {
  for (const auto& s : all) {
    if (s.name() == name) return &s;
  }
  return nullptr;
}

const v1::EndpointStats* FindEndpoint(const v1::StatsReport& report, uint16_t port) {
  for (const auto& e : report.endpoints()) {
    if (e.address() == "127.0.0.1:" + std::to_string(port)) return &e;
  }
  return nullptr;
}

uint64_t Responses(const v1::TrafficCounters& c, int cls) {
  return c.responses_by_class_size() > cls ? c.responses_by_class(cls) : 0;
}

uint64_t RouteOk(const v1::StatsReport& report) {
  const v1::ScopeStats* route = FindScope(report.routes(), "all");
  return route ? Responses(route->counters(), 2) : 0;
}

class StatsReporterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &peer_port_);
    builder.RegisterService(&peer_);
    grpc_server_ = builder.BuildAndStart();
    ASSERT_NE(peer_port_, 0);
  }

  void TearDown() override {
    if (reporter_) reporter_->Stop();
    if (proxy_) {
      proxy_->Shutdown();
      proxy_->Wait();
    }
    if (grpc_server_) grpc_server_->Shutdown(std::chrono::system_clock::now() + 1s);
  }

  // A proxy with two workers over `ports`, and its reporter (started).
  void StartProxy(const std::vector<uint16_t>& ports, std::string token = "") {
    proxy_ = std::make_unique<dataplane::Server>(dataplane::ServerOptions{"", 2, false});
    auto errors = proxy_->Start(LoadOrFail(ProxyYaml(ports)));
    ASSERT_TRUE(errors.empty()) << errors.front();
    dataplane::StatsReporterOptions options;
    options.server = "127.0.0.1:" + std::to_string(peer_port_);
    options.node.set_id("proxy-1");
    options.token = std::move(token);
    reporter_ = std::make_unique<dataplane::StatsReporter>(
        options,
        [this] {
          return dataplane::BuildStatsReport(proxy_->stats(), proxy_->snapshot().get(),
                                             SteadyClock::now());
        },
        clock_);
    reporter_->Start();
  }

  // `n` GETs spread over four client connections (and so over both workers); all must be 200.
  void SendRequests(int n) {
    std::vector<std::unique_ptr<HttpConnection>> clients;
    for (int i = 0; i < 4; ++i)
      clients.push_back(std::make_unique<HttpConnection>(proxy_->ListenerPort("main")));
    for (int i = 0; i < n; ++i) {
      auto response = clients[static_cast<size_t>(i) % clients.size()]->Request(Get("/"));
      ASSERT_TRUE(response) << "request " << i;
      ASSERT_EQ(response->result_int(), 200u) << "request " << i;
    }
  }

  // Route, cluster and endpoints of `report` count `n` 2xx responses, no more, no other class;
  // each endpoint counts what its upstream received.
  void ExpectExactCounts(const v1::StatsReport& report, uint64_t n) {
    const v1::ScopeStats* route = FindScope(report.routes(), "all");
    const v1::ScopeStats* cluster = FindScope(report.clusters(), "up");
    ASSERT_NE(route, nullptr);
    ASSERT_NE(cluster, nullptr);
    for (int cls : {0, 1, 3, 4, 5}) {
      EXPECT_EQ(Responses(route->counters(), cls), 0u) << "class " << cls;
      EXPECT_EQ(Responses(cluster->counters(), cls), 0u) << "class " << cls;
    }
    EXPECT_EQ(Responses(route->counters(), 2), n);
    EXPECT_EQ(Responses(cluster->counters(), 2), n);
    uint64_t in_buckets = 0;
    for (uint64_t b : cluster->counters().latency_buckets()) in_buckets += b;
    EXPECT_EQ(in_buckets, n);
    uint64_t endpoints = 0;
    for (const auto& upstream : upstreams_) {
      const v1::EndpointStats* e = FindEndpoint(report, upstream->port());
      ASSERT_NE(e, nullptr);
      EXPECT_EQ(e->cluster(), "up");
      EXPECT_EQ(Responses(e->counters(), 2), upstream->requests_seen());
      EXPECT_EQ(e->circuit(), v1::CLOSED);
      EXPECT_TRUE(e->healthy());
      endpoints += Responses(e->counters(), 2);
    }
    EXPECT_EQ(endpoints, n);
  }

  void StartUpstreams(int n) {
    for (int i = 0; i < n; ++i) upstreams_.push_back(std::make_unique<test::TestUpstream>());
  }
  std::vector<uint16_t> UpstreamPorts() const {
    std::vector<uint16_t> ports;
    for (const auto& u : upstreams_) ports.push_back(u->port());
    return ports;
  }

  StatsPeer peer_;
  int peer_port_ = 0;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::vector<std::unique_ptr<test::TestUpstream>> upstreams_;
  std::unique_ptr<dataplane::Server> proxy_;
  SystemClock clock_;
  std::unique_ptr<dataplane::StatsReporter> reporter_;
};

TEST_F(StatsReporterTest, FirstReportOfAStreamCarriesTheNodeAndTheRun) {
  StartUpstreams(1);
  StartProxy(UpstreamPorts(), "secret");
  auto first = peer_.WaitFor([](const auto&) { return true; });
  ASSERT_TRUE(first);
  EXPECT_EQ(first->report.node().id(), "proxy-1");
  EXPECT_EQ(first->report.sequence(), 1u);
  EXPECT_EQ(first->report.run_id(), reporter_->run_id());
  EXPECT_NE(first->report.run_id(), 0u);
  EXPECT_GT(first->report.run_started_unix_ms(), 0);
  EXPECT_GE(first->report.at_unix_ms(), first->report.run_started_unix_ms());
  EXPECT_FALSE(first->report.final());
  EXPECT_EQ(first->report.latency_bounds_us_size(),
            static_cast<int>(hermes::kLatencyBucketsUs.size()));
  EXPECT_EQ(peer_.authorization(), "Bearer secret");
  auto second = peer_.WaitFor([](const auto& r) { return r.report.sequence() == 2; });
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->report.has_node());  // only the first report of a stream names the node
}

TEST_F(StatsReporterTest, ReportedCountsEqualTheRequestsSentExactly) {
  StartUpstreams(2);
  StartProxy(UpstreamPorts());
  constexpr int kRequests = 40;
  SendRequests(kRequests);
  auto report = peer_.WaitFor([](const auto& r) { return RouteOk(r.report) >= kRequests; });
  ASSERT_TRUE(report);
  ExpectExactCounts(report->report, kRequests);
  // Later reports neither lose nor add any.
  uint64_t after = report->report.sequence() + 2;
  auto later = peer_.WaitFor([&](const auto& r) { return r.report.sequence() >= after; });
  ASSERT_TRUE(later);
  ExpectExactCounts(later->report, kRequests);
  const v1::ScopeStats* route = FindScope(later->report.routes(), "all");
  EXPECT_EQ(route->active_requests(), 0);
  ASSERT_EQ(later->report.listeners_size(), 1);
  EXPECT_EQ(later->report.listeners(0).requests(), static_cast<uint64_t>(kRequests));
}

TEST_F(StatsReporterTest, CountsStayExactWhenTheStreamIsDroppedAndReopened) {
  StartUpstreams(2);
  StartProxy(UpstreamPorts());
  SendRequests(10);
  auto before = peer_.WaitFor([](const auto& r) { return RouteOk(r.report) == 10; });
  ASSERT_TRUE(before);

  peer_.DropNextStream();
  auto reopened = peer_.WaitFor([](const auto& r) { return r.stream == 2; });
  ASSERT_TRUE(reopened) << "the reporter did not reconnect";
  EXPECT_EQ(reopened->report.node().id(), "proxy-1");  // a new stream names the node again
  SendRequests(15);
  auto after =
      peer_.WaitFor([](const auto& r) { return r.stream == 2 && RouteOk(r.report) >= 25; });
  ASSERT_TRUE(after);
  ExpectExactCounts(after->report, 25);

  // One run, sequences never reused: the dropped report's number is not sent again.
  uint64_t last = 0;
  for (const auto& r : peer_.received()) {
    EXPECT_EQ(r.report.run_id(), reporter_->run_id());
    EXPECT_GT(r.report.sequence(), last);
    last = r.report.sequence();
  }
}

TEST_F(StatsReporterTest, NextReportComesTheAckedIntervalAfterTheAck) {
  StartUpstreams(1);
  peer_.set_interval_ms(300);
  StartProxy(UpstreamPorts());  // its own interval is 10 s until an ack says otherwise
  auto second = peer_.WaitFor([](const auto& r) { return r.report.sequence() == 2; }, 3s);
  ASSERT_TRUE(second) << "no second report within 3 s: the acked interval was not applied";
  auto acked = peer_.ack_sent(1);
  ASSERT_TRUE(acked);
  EXPECT_GE(second->at - *acked, 300ms);
  EXPECT_EQ(reporter_->interval(), 300ms);

  peer_.set_interval_ms(700);  // in the ack of report 2
  auto fourth = peer_.WaitFor([](const auto& r) { return r.report.sequence() == 4; }, 4s);
  ASSERT_TRUE(fourth);
  auto third = peer_.WaitFor([](const auto& r) { return r.report.sequence() == 3; });
  auto acked3 = peer_.ack_sent(3);
  ASSERT_TRUE(third && acked3);
  EXPECT_GE(fourth->at - *acked3, 700ms);
  EXPECT_LT(fourth->at - *acked3, 2s);
  EXPECT_GE(reporter_->acked_sequence(), 3u);
}

TEST_F(StatsReporterTest, StopSendsAFinalReportWithEveryCountAndWaitsForItsAck) {
  StartUpstreams(2);
  peer_.set_interval_ms(60000);  // no periodic report will carry the counts
  StartProxy(UpstreamPorts());
  ASSERT_TRUE(peer_.WaitFor([](const auto& r) { return r.report.sequence() == 1; }));
  SendRequests(12);
  auto start = SteadyClock::now();
  reporter_->Stop();
  EXPECT_LT(SteadyClock::now() - start, 2s);
  auto final_report = peer_.WaitFor([](const auto& r) { return r.report.final(); }, 1s);
  ASSERT_TRUE(final_report);
  ExpectExactCounts(final_report->report, 12);
  EXPECT_EQ(reporter_->acked_sequence(), final_report->report.sequence());
  EXPECT_EQ(peer_.received().back().report.sequence(), final_report->report.sequence());
}

TEST_F(StatsReporterTest, StopWaitsAtMostTwoSecondsForTheFinalAck) {
  StartUpstreams(1);
  StartProxy(UpstreamPorts());
  ASSERT_TRUE(peer_.WaitFor([](const auto& r) { return r.report.sequence() == 1; }));
  peer_.set_mute(true);
  auto start = SteadyClock::now();
  reporter_->Stop();
  auto took = SteadyClock::now() - start;
  EXPECT_GE(took, 1900ms);
  EXPECT_LT(took, 3s);
  auto final_report = peer_.WaitFor([](const auto& r) { return r.report.final(); }, 1s);
  ASSERT_TRUE(final_report);
  EXPECT_LT(reporter_->acked_sequence(), final_report->report.sequence());
}

TEST_F(StatsReporterTest, StopWithTheControlPlaneDownTriesOnceAndReturns) {
  dataplane::StatsReporterOptions options;
  options.server = "127.0.0.1:" + std::to_string(UnusedPort());
  options.node.set_id("proxy-1");
  int collected = 0;
  dataplane::StatsReporter reporter(
      options,
      [&collected] {
        ++collected;
        return v1::StatsReport();
      },
      clock_);
  reporter.Start();
  std::this_thread::sleep_for(300ms);  // a refused stream or two, then backoff
  int before = collected;
  auto start = SteadyClock::now();
  reporter.Stop();
  EXPECT_LT(SteadyClock::now() - start, 1s);
  EXPECT_EQ(collected, before + 1);  // one last stream was tried for the final report
  EXPECT_FALSE(reporter.connected());
  EXPECT_EQ(reporter.acked_sequence(), 0u);
}

TEST_F(StatsReporterTest, ConnectErrorsAndBreakerRejectionsAreCountedOnTheEndpointTried) {
  StartUpstreams(1);
  uint16_t dead = UnusedPort();
  StartProxy({upstreams_[0]->port(), dead});
  constexpr int kRequests = 20;
  SendRequests(kRequests);  // a failed connect is retried on the live endpoint: all 200
  auto report = peer_.WaitFor([](const auto& r) { return RouteOk(r.report) >= kRequests; });
  ASSERT_TRUE(report);
  const v1::ScopeStats* cluster = FindScope(report->report.clusters(), "up");
  const v1::EndpointStats* live = FindEndpoint(report->report, upstreams_[0]->port());
  const v1::EndpointStats* gone = FindEndpoint(report->report, dead);
  ASSERT_TRUE(cluster && live && gone);
  EXPECT_EQ(Responses(live->counters(), 2), static_cast<uint64_t>(kRequests));
  EXPECT_EQ(live->counters().connect_errors(), 0u);
  // The default breaker opens after 5 connect failures; its later picks are skipped.
  EXPECT_EQ(gone->counters().connect_errors(), 5u);
  EXPECT_EQ(gone->counters().connect_errors(), cluster->counters().connect_errors());
  EXPECT_GT(gone->counters().breaker_rejections(), 0u);
  EXPECT_EQ(gone->counters().breaker_rejections(), cluster->counters().breaker_rejections());
  EXPECT_EQ(gone->circuit(), v1::OPEN);
  for (int cls = 0; cls < 6; ++cls) EXPECT_EQ(Responses(gone->counters(), cls), 0u);
}

}  // namespace
}  // namespace hermes::integration
