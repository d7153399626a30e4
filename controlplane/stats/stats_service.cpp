// StatsService: the per-stream reactor and the writer thread.
#include "controlplane/stats/stats_service.h"

#include <algorithm>
#include <deque>
#include <set>

#include "controlplane/auth/bearer_token.h"

namespace hermes::controlplane {
namespace {

using namespace std::chrono_literals;

constexpr auto kRetryAfterFailedWrite = 1s;
// Bounds on what one stream can make the control plane hold. A proxy process is one run, so a
// stream carries one (a few when a proxy reuses its stream across restarts of its stats);
// acks wait only while a write is in flight, a handful at most unless the peer stops reading.
constexpr std::size_t kMaxRunsPerStream = 16;
constexpr std::size_t kMaxQueuedAcks = 64;

}  // namespace

// One proxy's stream. gRPC calls OnReadDone/OnWriteDone/OnDone on its threads and the writer
// thread calls Durable(): mu_ orders them. One write in flight at a time, the rest queued.
class StatsService::Reactor final : public grpc::ServerBidiReactor<v1::StatsReport, v1::StatsAck> {
 public:
  Reactor(StatsService& service, grpc::CallbackServerContext* context) : service_(service) {
    if (!BearerTokenMatches(*context, service_.token_)) {
      std::lock_guard lock(mu_);
      Close(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                         "missing or wrong bearer token (hermes --token-file)"));
      return;
    }
    StartRead(&report_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::lock_guard lock(mu_);
      Close(grpc::Status::OK);
      return;
    }
    // The stream may have been finished meanwhile (a failed write): nothing more of it is
    // counted, and no read may start after Finish.
    if (Finished()) return;
    // node_id_ and runs_ are written here only; reads are serialized.
    if (node_id_.empty()) {
      if (report_.node().id().empty()) {
        std::lock_guard lock(mu_);
        Close(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                           "the first report of a stream must carry node.id"));
        return;
      }
      node_id_ = report_.node().id();
      service_.Register(node_id_, this);
    }
    const std::uint64_t run = report_.run_id();
    const std::uint64_t sequence = report_.sequence();
    if (std::find(runs_.begin(), runs_.end(), run) == runs_.end()) {
      if (runs_.size() >= kMaxRunsPerStream) {
        std::lock_guard lock(mu_);
        Close(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                           "stats stream of node \"" + node_id_ + "\": run " + std::to_string(run) +
                               " would be its " + std::to_string(kMaxRunsPerStream + 1) +
                               "th run; a stream carries at most " +
                               std::to_string(kMaxRunsPerStream)));
        return;
      }
      // Before counting: from here the run is not folded while this stream lasts.
      service_.aggregator_.StreamCarriesRun(node_id_, run);
      runs_.push_back(run);
    }
    auto counted = service_.aggregator_.Ingest(node_id_, report_);
    if (!counted.ok()) {
      const bool folded = counted.error().kind == StoreErrorKind::kNotFound;
      std::lock_guard lock(mu_);
      Close(grpc::Status(
          folded ? grpc::StatusCode::FAILED_PRECONDITION : grpc::StatusCode::INVALID_ARGUMENT,
          counted.error().message));
      return;
    }
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      pending_[run].insert(sequence);
    }
    // Pending first, then the durable sequence: a commit that lands in between is seen either
    // here or by the writer's Durable() call, never missed.
    if (service_.store_ == nullptr) {
      Durable(run, sequence);
    } else {
      if (*counted) service_.WakeWriter();
      Durable(run, service_.aggregator_.DurableSequence(node_id_, run));
    }
    std::lock_guard lock(mu_);
    if (!finished_) StartRead(&report_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) {
      Close(grpc::Status::OK);
      return;
    }
    queue_.pop_front();
    WriteNext();
  }

  void OnDone() override {
    if (!node_id_.empty()) service_.Unregister(node_id_, this, runs_);
    delete this;
  }

  // Reports of `run` up to `durable` are stored: one ack for the newest of them this stream got.
  void Durable(std::uint64_t run, std::uint64_t durable) {
    std::lock_guard lock(mu_);
    auto it = pending_.find(run);
    if (it == pending_.end() || finished_) return;
    std::set<std::uint64_t>& sequences = it->second;
    auto end = sequences.upper_bound(durable);
    if (end == sequences.begin()) return;
    v1::StatsAck ack;
    ack.set_run_id(run);
    ack.set_sequence(*std::prev(end));
    ack.set_report_interval_ms(
        static_cast<std::uint32_t>(service_.aggregator_.report_interval().count()));
    sequences.erase(sequences.begin(), end);
    if (sequences.empty()) pending_.erase(it);
    if (queue_.size() >= kMaxQueuedAcks) {
      Close(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                         "stats stream of node \"" + node_id_ +
                             "\": " + std::to_string(kMaxQueuedAcks) +
                             " acks are waiting to be written; the proxy does not read its acks"));
      return;
    }
    queue_.push_back(std::move(ack));
    WriteNext();
  }

 private:
  bool Finished() {
    std::lock_guard lock(mu_);
    return finished_;
  }

  void WriteNext() {
    if (writing_ || finished_ || queue_.empty()) return;
    writing_ = true;
    StartWrite(&queue_.front());
  }

  void Close(grpc::Status status) {
    if (finished_) return;
    finished_ = true;
    Finish(std::move(status));
  }

  StatsService& service_;
  std::mutex mu_;
  v1::StatsReport report_;
  std::string node_id_;
  std::vector<std::uint64_t> runs_;  // the runs this stream carried, at most kMaxRunsPerStream
  std::map<std::uint64_t, std::set<std::uint64_t>> pending_;  // by run: sequences not acked
  std::deque<v1::StatsAck> queue_;  // front is being written while writing_
  bool writing_ = false;
  bool finished_ = false;
};

StatsService::StatsService(StatsAggregator& aggregator, StatsStore* store, std::string token,
                           StoreErrorFn on_store_error)
    : aggregator_(aggregator),
      store_(store),
      token_(std::move(token)),
      on_store_error_(std::move(on_store_error)) {
  writer_ = std::thread([this] { Write(); });
}

StatsService::~StatsService() {
  {
    std::lock_guard lock(writer_mu_);
    stop_ = true;
  }
  writer_wake_.notify_all();
  writer_.join();
}

grpc::ServerBidiReactor<v1::StatsReport, v1::StatsAck>* StatsService::Report(
    grpc::CallbackServerContext* context) {
  return new Reactor(*this, context);
}

std::size_t StatsService::streams() const {
  std::lock_guard lock(streams_mu_);
  return streams_.size();
}

void StatsService::Register(const std::string& node_id, Reactor* reactor) {
  {
    std::lock_guard lock(streams_mu_);
    streams_.emplace(node_id, reactor);
  }
  aggregator_.NodeConnected(node_id);
}

void StatsService::Unregister(const std::string& node_id, Reactor* reactor,
                              const std::vector<std::uint64_t>& runs) {
  // The aggregator first: once streams() no longer counts the stream, its end is known there.
  aggregator_.NodeDisconnected(node_id, runs);
  {
    std::lock_guard lock(streams_mu_);
    auto [begin, end] = streams_.equal_range(node_id);
    for (auto it = begin; it != end; ++it) {
      if (it->second == reactor) {
        streams_.erase(it);
        break;
      }
    }
  }
}

void StatsService::WakeWriter() {
  {
    std::lock_guard lock(writer_mu_);
    unsaved_ = true;
  }
  writer_wake_.notify_one();
}

void StatsService::Acknowledge(const std::vector<StatsAggregator::DurableRun>& durable) {
  std::lock_guard lock(streams_mu_);
  for (const StatsAggregator::DurableRun& d : durable) {
    auto [begin, end] = streams_.equal_range(d.node_id);
    for (auto it = begin; it != end; ++it) it->second->Durable(d.run_id, d.sequence);
  }
}

// The writer thread: commits what changed (coalesced while the previous commit ran), then
// acknowledges it; folds finished runs and drops old buckets once per report interval.
void StatsService::Write() {
  const auto compact_every = std::max<std::chrono::milliseconds>(aggregator_.report_interval(), 1s);
  // steady_clock: the deadline of a condition-variable wait on real time. The aggregator's
  // buckets and what Compact drops follow the injected clock.
  auto next_compact = std::chrono::steady_clock::now();
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock lock(writer_mu_);
      writer_wake_.wait_until(lock, next_compact, [this] { return stop_ || unsaved_; });
      stopping = stop_;
      unsaved_ = false;
    }
    if (std::chrono::steady_clock::now() >= next_compact) {
      aggregator_.Compact();
      next_compact = std::chrono::steady_clock::now() + compact_every;
    }
    if (store_ != nullptr) {
      StoredStats batch = aggregator_.TakeUnsaved();
      if (!batch.empty()) {
        if (auto saved = store_->SaveStats(batch); saved.ok()) {
          Acknowledge(aggregator_.MarkSaved(batch));
        } else {
          aggregator_.MarkUnsaved(batch);
          if (on_store_error_) on_store_error_(saved.error());
          if (!stopping) {
            std::unique_lock lock(writer_mu_);
            writer_wake_.wait_for(lock, kRetryAfterFailedWrite, [this] { return stop_; });
            unsaved_ = true;  // write again, whether or not a report came meanwhile
          }
        }
      }
    }
    if (stopping) return;
  }
}

}  // namespace hermes::controlplane
