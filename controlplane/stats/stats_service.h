// The stats service (proto/hermes/v1/stats.proto): one bidirectional stream per proxy on gRPC's
// callback API (no thread per stream). Each report is counted by the StatsAggregator at once and
// acknowledged only once a store commit holds it (proto/README.md, "The stats stream"). Commits
// come from one writer thread here, never from a gRPC thread; reports arriving meanwhile are
// coalesced (a run's latest state is written).
#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/stats/stats_aggregator.h"
#include "controlplane/store/stats_store.h"
#include "hermes/v1/stats.grpc.pb.h"

namespace hermes::controlplane {

class StatsService final : public v1::StatsService::CallbackService {
 public:
  using StoreErrorFn = std::function<void(const StoreError&)>;

  // `aggregator` must outlive the service. `store` may be null: nothing is written and a report
  // is acknowledged once counted. `token` non-empty: every stream must carry
  // "authorization: Bearer <token>". `on_store_error` (may be empty) hears of every failed write,
  // from the writer thread; the write is retried a second later.
  StatsService(StatsAggregator& aggregator, StatsStore* store, std::string token,
               StoreErrorFn on_store_error = {});
  // Writes what is not yet stored, then stops the writer. Shut the gRPC server down first.
  ~StatsService() override;
  StatsService(const StatsService&) = delete;
  StatsService& operator=(const StatsService&) = delete;

  // A stream ends RESOURCE_EXHAUSTED when it carries more than 16 runs or 64 acks wait to be
  // written to it (a peer that does not read), FAILED_PRECONDITION on a report of a folded run
  // newer than its fold, INVALID_ARGUMENT on a malformed report.
  grpc::ServerBidiReactor<v1::StatsReport, v1::StatsAck>* Report(
      grpc::CallbackServerContext* context) override;

  // Open streams that have sent their first report.
  std::size_t streams() const;

 private:
  class Reactor;
  void Register(const std::string& node_id, Reactor* reactor);
  void Unregister(const std::string& node_id, Reactor* reactor,
                  const std::vector<std::uint64_t>& runs);
  void WakeWriter();
  void Write();
  void Acknowledge(const std::vector<StatsAggregator::DurableRun>& durable);

  StatsAggregator& aggregator_;
  StatsStore* const store_;
  const std::string token_;
  const StoreErrorFn on_store_error_;

  // Lock order: streams_mu_, then a reactor's own.
  mutable std::mutex streams_mu_;
  std::multimap<std::string, Reactor*> streams_;  // by node id

  std::mutex writer_mu_;
  std::condition_variable writer_wake_;
  bool unsaved_ = false;
  bool stop_ = false;
  std::thread writer_;
};

}  // namespace hermes::controlplane
