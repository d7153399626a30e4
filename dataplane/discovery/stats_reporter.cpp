#include "dataplane/discovery/stats_reporter.h"

#include <grpcpp/channel.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <random>

namespace hermes::dataplane {
namespace {

using SteadyClock = std::chrono::steady_clock;

// What an ack may set the interval to: a control plane cannot make a proxy report in a busy loop
// or fall silent for good.
constexpr std::chrono::milliseconds kMinInterval{100};
constexpr std::chrono::milliseconds kMaxInterval{3600 * 1000};

void SetCounts(v1::TrafficCounters& out, const TrafficStats& s) {
  std::array<uint64_t, 6> classes{};
  std::array<uint64_t, kLatencyBucketsUs.size() + 1> buckets{};
  uint64_t connect_errors = 0, timeouts = 0, retries = 0, retry_overflow = 0, overflow = 0;
  uint64_t latency_sum_us = 0, breaker_rejections = 0;
  for (const auto& sh : s.shards) {
    for (size_t i = 0; i < classes.size(); ++i) classes[i] += sh.responses_by_class[i].Get();
    for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += sh.latency_buckets[i].Get();
    connect_errors += sh.upstream_connect_errors.Get();
    timeouts += sh.upstream_timeouts.Get();
    retries += sh.upstream_retries.Get();
    retry_overflow += sh.upstream_retry_overflow.Get();
    overflow += sh.upstream_overflow.Get();
    latency_sum_us += sh.latency_sum_us.Get();
    breaker_rejections += sh.breaker_rejections.Get();
  }
  out.mutable_responses_by_class()->Add(classes.begin(), classes.end());
  out.mutable_latency_buckets()->Add(buckets.begin(), buckets.end());
  out.set_connect_errors(connect_errors);
  out.set_timeouts(timeouts);
  out.set_retries(retries);
  out.set_retry_overflow(retry_overflow);
  out.set_overflow(overflow);
  out.set_latency_sum_us(latency_sum_us);
  out.set_breaker_rejections(breaker_rejections);
}

void SetCounts(v1::TrafficCounters& out, const EndpointTotals& t) {
  out.mutable_responses_by_class()->Add(t.responses_by_class.begin(), t.responses_by_class.end());
  out.mutable_latency_buckets()->Add(t.latency_buckets.begin(), t.latency_buckets.end());
  out.set_latency_sum_us(t.latency_sum_us);
  out.set_connect_errors(t.connect_errors);
  out.set_timeouts(t.timeouts);
  out.set_breaker_rejections(t.breaker_rejections);
}

void SetScope(v1::ScopeStats& out, const TrafficStats& s) {
  out.set_name(s.name);
  SetCounts(*out.mutable_counters(), s);
  int64_t active = 0;
  for (const auto& sh : s.shards) active += sh.active_requests.Get();
  out.set_active_requests(active);
}

v1::CircuitState ToCircuitState(BreakerState s) {
  switch (s) {
    case BreakerState::kClosed:
      return v1::CLOSED;
    case BreakerState::kOpen:
      return v1::OPEN;
    case BreakerState::kHalfOpen:
      return v1::HALF_OPEN;
  }
  return v1::CIRCUIT_STATE_UNSPECIFIED;
}

int64_t UnixMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

uint64_t NewRunId() {
  std::random_device device;
  std::mt19937_64 rng((static_cast<uint64_t>(device()) << 32) ^ device() ^
                      static_cast<uint64_t>(SteadyClock::now().time_since_epoch().count()));
  uint64_t id = 0;
  while (id == 0) id = rng();  // 0 reads as "unset" in proto3
  return id;
}

}  // namespace

v1::StatsReport BuildStatsReport(const StatsStore& stats, const Snapshot* snapshot,
                                 SteadyClock::time_point now) {
  v1::StatsReport report;
  report.mutable_latency_bounds_us()->Add(kLatencyBucketsUs.begin(), kLatencyBucketsUs.end());
  stats.ForEachRoute([&](const TrafficStats& s) { SetScope(*report.add_routes(), s); });
  stats.ForEachCluster([&](const TrafficStats& s) { SetScope(*report.add_clusters(), s); });
  stats.ForEachListener([&](const ListenerStats& s) {
    v1::ListenerStats& out = *report.add_listeners();
    out.set_name(s.name);
    int64_t active = 0;
    for (const auto& sh : s.shards) {
      out.set_connections_accepted(out.connections_accepted() + sh.connections_accepted.Get());
      out.set_requests(out.requests() + sh.requests.Get());
      out.set_rejected_requests(out.rejected_requests() + sh.rejected_requests.Get());
      active += sh.active_connections.Get();
    }
    out.set_active_connections(active);
  });
  if (!snapshot) return report;
  for (const auto& cluster : snapshot->clusters) {
    for (const auto& ep : cluster->endpoints) {
      const EndpointState& state = *ep.state;
      v1::EndpointStats& out = *report.add_endpoints();
      out.set_cluster(cluster->name);
      out.set_address(ep.address);
      SetCounts(*out.mutable_counters(), state.Totals());
      out.set_active_requests(state.active_requests.load(std::memory_order_relaxed));
      out.set_circuit(ToCircuitState(state.breaker.State(cluster->breaker, now)));
      out.set_ejected(state.outlier.ejected());
      out.set_times_ejected(state.outlier.times_ejected());
      out.set_healthy(state.healthy.load(std::memory_order_relaxed));
    }
  }
  return report;
}

StatsReporter::StatsReporter(StatsReporterOptions options, CollectStatsFn collect,
                             const Clock& clock)
    : options_(std::move(options)),
      collect_(std::move(collect)),
      clock_(clock),
      run_id_(NewRunId()),
      run_started_unix_ms_(UnixMs(clock.Now())),
      interval_(std::clamp(options_.interval, kMinInterval, kMaxInterval)) {
  grpc::ChannelArguments args;
  // The same keepalive and reconnect settings as the discovery stream (DiscoveryClient).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options_.keepalive_time.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(options_.keepalive_timeout.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options_.backoff_max.count()));
  channel_ = grpc::CreateCustomChannel(options_.server, grpc::InsecureChannelCredentials(), args);
  stub_ = v1::StatsService::NewStub(channel_);
}

StatsReporter::~StatsReporter() { Stop(); }

void StatsReporter::Start() {
  thread_ = std::thread([this] { Run(); });
}

void StatsReporter::Stop() {
  if (!thread_.joinable()) return;
  {
    std::unique_lock lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      final_deadline_ = SteadyClock::now() + options_.final_ack_timeout;
    }
    wake_.notify_all();
    // The final report has until the deadline; then whatever still blocks (a write to a peer
    // that reads nothing, a connect) is cancelled.
    wake_.wait_until(lock, final_deadline_, [this] { return finished_; });
    if (context_) context_->TryCancel();
  }
  thread_.join();
}

uint64_t StatsReporter::acked_sequence() const {
  std::lock_guard lock(mu_);
  return acked_;
}

std::chrono::milliseconds StatsReporter::interval() const {
  std::lock_guard lock(mu_);
  return interval_;
}

void StatsReporter::Run() {
  std::mt19937_64 rng(run_id_);
  int failures = 0;
  for (;;) {
    uint64_t acked_before = acked_sequence();
    auto started = SteadyClock::now();
    bool stopping_before = false;
    {
      std::lock_guard lock(mu_);
      stopping_before = stopping_;
    }
    RunStream();
    connected_ = false;
    // A stream that lived a while (or was acked) starts the backoff over.
    if (acked_sequence() != acked_before || SteadyClock::now() - started > std::chrono::seconds(10))
      failures = 0;
    auto cap = std::min<int64_t>(options_.backoff_max.count(), options_.backoff_base.count()
                                                                   << std::min(failures, 16));
    ++failures;
    // Jitter: uniform in [cap/2, cap], so a fleet that lost its control plane does not
    // reconnect in lockstep.
    auto wait = std::chrono::milliseconds(
        cap / 2 + static_cast<int64_t>(rng() % static_cast<uint64_t>(cap / 2 + 1)));
    std::unique_lock lock(mu_);
    // Stop() while this stream was open but the final report not sent on it: one fresh stream
    // for it. A stream opened for the final report is the last, whatever became of it.
    if (final_done_ || stopping_before) break;
    if (stopping_) continue;
    wake_.wait_for(lock, wait, [this] { return stopping_; });
    lock.unlock();
    // As in DiscoveryClient::Run: this loop's backoff is the only one.
    grpc::experimental::ChannelResetConnectionBackoff(channel_.get());
  }
  std::lock_guard lock(mu_);
  finished_ = true;
  wake_.notify_all();
}

void StatsReporter::RunStream() {
  grpc::ClientContext context;
  if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      auto left = final_deadline_ - SteadyClock::now();
      if (left <= SteadyClock::duration::zero()) return;
      context.set_deadline(std::chrono::system_clock::now() + left);
    }
    context_ = &context;
    stream_ended_ = false;
  }
  auto stream = stub_->Report(&context);
  // Acks are read on a thread of their own: a synchronous stream allows one reader and one
  // writer at a time, and the writer waits for the interval meanwhile.
  std::thread reader([&] {
    v1::StatsAck ack;
    while (stream->Read(&ack)) OnAck(ack);
    std::lock_guard lock(mu_);
    stream_ended_ = true;
    wake_.notify_all();
  });

  bool first = true;
  for (;;) {
    bool final = false;
    {
      std::lock_guard lock(mu_);
      final = stopping_;
    }
    v1::StatsReport report = NextReport(first, final);
    first = false;
    {
      // Set before the write: the ack may come back before Write() returns.
      std::lock_guard lock(mu_);
      last_sent_ = report.sequence();
      next_report_ = SteadyClock::now() + interval_;
    }
    if (!stream->Write(report)) break;
    std::unique_lock lock(mu_);
    if (final) {
      uint64_t sequence = report.sequence();
      wake_.wait_until(lock, final_deadline_, [&] { return acked_ >= sequence || stream_ended_; });
      final_done_ = true;
      if (acked_ < sequence) spdlog::warn("stats: the final report was not acknowledged in time");
      break;
    }
    WaitForNextReport(lock);
    if (stream_ended_) break;
  }

  stream->WritesDone();
  {
    std::unique_lock lock(mu_);
    // After the final report the control plane ends the stream itself; otherwise it is ended
    // here, now.
    if (final_done_) wake_.wait_until(lock, final_deadline_, [this] { return stream_ended_; });
    context_ = nullptr;
  }
  context.TryCancel();
  reader.join();
  grpc::Status status = stream->Finish();
  bool stopped;
  {
    std::lock_guard lock(mu_);
    stopped = stopping_;
  }
  if (!status.ok() && !stopped)
    spdlog::warn("stats: stream to {} ended: {} ({})", options_.server, status.error_message(),
                 static_cast<int>(status.error_code()));
}

void StatsReporter::WaitForNextReport(std::unique_lock<std::mutex>& lock) {
  // next_report_ moves when an ack arrives, so the deadline is read again after every wake-up.
  while (!stopping_ && !stream_ended_) {
    auto at = next_report_;
    if (SteadyClock::now() >= at) return;
    wake_.wait_until(lock, at);
  }
}

void StatsReporter::OnAck(const v1::StatsAck& ack) {
  if (ack.run_id() != run_id_) {
    spdlog::warn("stats: ack for run {:x}, sequence {} ignored: this run is {:x}", ack.run_id(),
                 ack.sequence(), run_id_);
    return;
  }
  connected_ = true;
  std::lock_guard lock(mu_);
  if (ack.sequence() > last_sent_) {
    spdlog::warn("stats: ack for sequence {} ignored: the last report sent is {}", ack.sequence(),
                 last_sent_);
    return;
  }
  acked_ = std::max(acked_, ack.sequence());
  if (ack.report_interval_ms() > 0) {
    interval_ =
        std::clamp(std::chrono::milliseconds(ack.report_interval_ms()), kMinInterval, kMaxInterval);
  }
  // The next report is due an interval after the ack of the last one.
  if (ack.sequence() == last_sent_) next_report_ = SteadyClock::now() + interval_;
  wake_.notify_all();
}

v1::StatsReport StatsReporter::NextReport(bool first, bool final) {
  v1::StatsReport report = collect_();
  if (first) *report.mutable_node() = options_.node;
  report.set_run_id(run_id_);
  report.set_run_started_unix_ms(run_started_unix_ms_);
  report.set_sequence(++sequence_);
  report.set_at_unix_ms(UnixMs(clock_.Now()));
  report.set_final(final);
  return report;
}

}  // namespace hermes::dataplane
