// Managed mode: the proxy's stats stream to the control plane (StatsService.Report, like Envoy's
// load reports). A thread keeps one stream open (reconnecting with exponential backoff and
// jitter; HTTP/2 keepalive detects a dead peer) and sends the cumulative counters of this process
// run every report interval, counted from the last ack, which also sets the interval. Every
// report has a new sequence, a report re-sent after a reconnect too: cumulative counts make the
// control plane's deltas exact whichever reports it missed. Stop() sends a final report.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "dataplane/config/snapshot.h"
#include "dataplane/stats/stats.h"
#include "hermes/common/clock.h"
#include "hermes/v1/stats.grpc.pb.h"

namespace hermes::dataplane {

// The counters of this process run in report form: every route, cluster and listener the stats
// store has counted, and the endpoints of `snapshot` (none when it is null) with their gauges
// (breaker state as of `now`). Node, run, sequence, time and `final` are the reporter's to set.
v1::StatsReport BuildStatsReport(const StatsStore& stats, const Snapshot* snapshot,
                                 std::chrono::steady_clock::time_point now);

struct StatsReporterOptions {
  std::string server;  // "host:port" of hermes-controlplane
  v1::Node node;
  std::string token;                          // bearer token, "" for none
  std::chrono::milliseconds interval{10000};  // until the first ack says otherwise
  std::chrono::milliseconds final_ack_timeout{2000};
  std::chrono::milliseconds backoff_base{250};
  std::chrono::milliseconds backoff_max{15000};
  std::chrono::milliseconds keepalive_time{10000};
  std::chrono::milliseconds keepalive_timeout{5000};
};

// The counters now, as BuildStatsReport gives them.
using CollectStatsFn = std::function<v1::StatsReport()>;

class StatsReporter {
 public:
  // `clock` stamps the run start and each report (wall time); it must outlive the reporter.
  StatsReporter(StatsReporterOptions options, CollectStatsFn collect, const Clock& clock);
  ~StatsReporter();
  StatsReporter(const StatsReporter&) = delete;
  StatsReporter& operator=(const StatsReporter&) = delete;

  void Start();
  // Sends the final report (final = true) and waits at most final_ack_timeout for its ack, then
  // ends the stream and the thread.
  void Stop();

  uint64_t run_id() const { return run_id_; }
  bool connected() const { return connected_.load(); }
  uint64_t acked_sequence() const;             // the highest sequence the control plane acked
  std::chrono::milliseconds interval() const;  // the report interval in force

 private:
  void Run();
  void RunStream();
  // Waits until the next report is due, the stream ended or Stop() was called (mu_ held).
  void WaitForNextReport(std::unique_lock<std::mutex>& lock);
  void OnAck(const v1::StatsAck& ack);
  v1::StatsReport NextReport(bool first, bool final);

  StatsReporterOptions options_;
  CollectStatsFn collect_;
  const Clock& clock_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::StatsService::Stub> stub_;
  const uint64_t run_id_;
  const int64_t run_started_unix_ms_;
  uint64_t sequence_ = 0;  // the last one sent (Run thread only)

  mutable std::mutex mu_;
  std::condition_variable wake_;
  grpc::ClientContext* context_ = nullptr;  // the open stream's, for Stop()
  bool stopping_ = false;
  bool finished_ = false;      // Run() returned
  bool final_done_ = false;    // the final report was sent and its ack awaited
  bool stream_ended_ = false;  // the open stream's acks ended
  std::chrono::steady_clock::time_point final_deadline_;
  std::chrono::steady_clock::time_point next_report_;
  std::chrono::milliseconds interval_;
  uint64_t last_sent_ = 0;
  uint64_t acked_ = 0;
  std::thread thread_;
  std::atomic<bool> connected_{false};
};

}  // namespace hermes::dataplane
