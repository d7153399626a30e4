// The fleet's traffic as the proxies push it (proto/hermes/v1/stats.proto): exact totals since the
// stats began, rates over windows from an in-memory time series, and gauges (active requests,
// circuits, ejections) from the last report of each live proxy run. Counting follows
// proto/README.md, "The stats stream": per proxy run, the last cumulative report is kept (and made
// durable by StatsService through TakeUnsaved/MarkSaved); a report counts its difference to it.
// Thread-safe: one mutex (the control plane, not the request path).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "controlplane/stats/time_series.h"
#include "controlplane/stats/traffic_counters.h"
#include "controlplane/store/stats_store.h"
#include "hermes/common/clock.h"
#include "hermes/v1/admin.pb.h"
#include "hermes/v1/stats.pb.h"

namespace hermes::controlplane {

using EndpointKey = std::pair<std::string, std::string>;  // cluster, address

class StatsAggregator {
 public:
  // A run that ended without a final report (the proxy crashed) is kept apart this long after
  // its last report or stream, then folded into its node's retired counts.
  static constexpr std::chrono::hours kDefaultRunRetention{24 * 30};
  // A run contributes gauges until this many report intervals pass without a report of it or a
  // stream of its node.
  static constexpr int kLiveIntervals = 3;

  struct EndpointView {
    std::uint32_t proxies_reporting = 0;  // live proxies whose last report lists the endpoint
    std::uint32_t ejected_on = 0;         // of those, how many eject it
    std::int64_t active_requests = 0;     // summed over them
    v1::WindowRates rates;
  };

  // A run's reports up to `sequence` are durable: they may be acknowledged.
  struct DurableRun {
    std::string node_id;
    std::uint64_t run_id = 0;
    std::uint64_t sequence = 0;
  };

  // `clock` must outlive the aggregator. Time-series buckets are `report_interval` wide and kept
  // for `retention` (windows longer than that are cut to it).
  StatsAggregator(const Clock& clock, std::chrono::milliseconds report_interval,
                  std::chrono::seconds retention = std::chrono::hours(1),
                  std::chrono::seconds run_retention = kDefaultRunRetention);

  // Before the first Ingest: the runs a previous process stored, so totals go on and the next
  // report of a continuing run counts exactly what is new. All or nothing: on an error (a stored
  // report that does not parse) nothing is loaded.
  Result<void> Load(const StatsStore& store);

  // A report from `node_id`'s stats stream. true: counted. false: ignored, because its sequence is
  // not above the one counted for its run (a repeat) or the one its run was folded at (a late
  // copy). kInvalidArgument when malformed, saying what and where; kNotFound when it is newer
  // than its folded run (see Compact); nothing changes on an error.
  Result<bool> Ingest(const std::string& node_id, const v1::StatsReport& report);

  // A stats stream of the node opened / ended. A run's gauges count while its node has a stream
  // (and the run reported within kLiveIntervals intervals) and for kLiveIntervals intervals after
  // the node's last stream ended, if the run reported within kLiveIntervals intervals before
  // that; its counts stay in the totals for good. `runs`: those StreamCarriesRun named for the
  // ending stream.
  void NodeConnected(const std::string& node_id);
  void NodeDisconnected(const std::string& node_id, const std::vector<std::uint64_t>& runs = {});
  // An open stream of the node carries reports of `run_id` (call before its first Ingest): the
  // run is not folded until that stream ends.
  void StreamCarriesRun(const std::string& node_id, std::uint64_t run_id);

  // Which cluster each route of `config` sends to: GetStats with a cluster lists the routes that
  // send to it now. Call with the current config at start and with every published one.
  void SetRouteClusters(const v1::Config& config);

  // window_seconds 0: totals since the stats began (exact); otherwise the counts of that window.
  v1::GetStatsResponse Stats(const v1::GetStatsRequest& request) const;
  v1::ListCircuitsResponse Circuits(const v1::ListCircuitsRequest& request) const;
  // Every endpoint a live proxy reports or that had traffic within the retention.
  std::map<EndpointKey, EndpointView> Endpoints(std::chrono::seconds window) const;
  // The counts over the last `window` of the proxies in `ids` (first) and of every other proxy
  // (second): the rollout gate's input.
  std::pair<Counters, Counters> SplitCounts(std::chrono::seconds window,
                                            const std::set<std::string>& ids) const;
  // Fleet aggregates in the Prometheus text format (hermes_fleet_*).
  void AppendPrometheus(std::string& out) const;

  std::chrono::milliseconds report_interval() const { return report_interval_; }

  // ---- Durability, driven by StatsService's writer thread ----

  // The records changed since the last call (coalesced: a run's latest state), to be written in
  // one transaction.
  StoredStats TakeUnsaved();
  // `saved` (from TakeUnsaved) is durable. Returns, per run in it, how far its reports may now
  // be acknowledged.
  std::vector<DurableRun> MarkSaved(const StoredStats& saved);
  // Writing `failed` (from TakeUnsaved) failed: the next TakeUnsaved returns its records again.
  void MarkUnsaved(const StoredStats& failed);
  // Reports of the run up to this sequence are durable (0: none). A folded run whose fold is
  // durable answers UINT64_MAX: any report of it is settled, since none counts any more.
  std::uint64_t DurableSequence(const std::string& node_id, std::uint64_t run_id) const;
  // Folds finished runs into their node's retired counts (a final one kLiveIntervals intervals
  // after its last report; any other once no stream carries it and neither a report of it nor a
  // stream carrying it was seen for the run retention; only once its state is durable), and drops
  // time-series buckets older than the retention.
  void Compact();

 private:
  // Counts per scope: of one run (its last cumulative report) or of a node's folded runs.
  struct ScopeCounts {
    std::map<std::string, Counters, std::less<>> routes;
    std::map<std::string, Counters, std::less<>> clusters;
    std::map<EndpointKey, Counters> endpoints;

    ScopeCounts& operator+=(const ScopeCounts& other);
  };
  struct EndpointGauge {
    std::int64_t active_requests = 0;
    v1::CircuitState circuit = v1::CIRCUIT_STATE_UNSPECIFIED;
    bool ejected = false;
  };
  struct Gauges {
    std::map<std::string, std::int64_t, std::less<>> routes;
    std::map<std::string, std::int64_t, std::less<>> clusters;
    std::map<EndpointKey, EndpointGauge> endpoints;
  };
  struct Run {
    std::uint64_t sequence = 0;
    TimePoint started_at;
    TimePoint last_report_at;
    bool final = false;
    ScopeCounts counts;         // a scope missing from a later report keeps its last counts
    std::uint64_t durable = 0;  // the sequence stored
    bool unsaved = false;       // changed since the last TakeUnsaved
    Gauges gauges;              // of its last report counted (not stored)
    bool has_gauges = false;    // false before a report in this process and after a final one
    TimePoint stream_ended_at;  // when the last stream carrying it ended (not stored)
  };
  struct FoldedRun {
    std::uint64_t sequence = 0;
    TimePoint started_at;
    TimePoint last_report_at;
    bool durable = false;
    bool unsaved = false;
  };
  struct Node {
    std::map<std::uint64_t, Run> runs;
    std::map<std::uint64_t, FoldedRun> folded;
    ScopeCounts retired;  // folded runs, and counts from before a counter reset within a run
    bool retired_unsaved = false;
    int open_streams = 0;
    TimePoint gone_at;                         // when the last stream ended
    std::map<std::uint64_t, int> run_streams;  // open streams carrying each run, if any
  };
  struct Report;  // a validated report, read before the lock is taken

  static Result<Report> Read(const v1::StatsReport& report);
  std::int64_t BucketIndex(TimePoint t) const;
  // The buckets of a window ending now, and the seconds it covers.
  struct Window {
    std::int64_t first = 0;
    std::int64_t last = 0;
    double seconds = 0;
  };
  Window WindowOf(std::chrono::seconds window, TimePoint now) const;
  bool LiveLocked(const Node& node, const Run& run, TimePoint now) const;
  // Calls f(node id, gauges) for every live run (a node's runs in turn).
  void EachLiveGaugesLocked(TimePoint now,
                            const std::function<void(const std::string&, const Gauges&)>& f) const;
  static std::uint64_t DurableSequenceLocked(const Node& node, std::uint64_t run_id);
  void CountLocked(const std::string& node_id, Node& node, const Report& report, TimePoint now);
  // Calls f(node id, counts) for the retired counts and every run of every node.
  void EachCountsLocked(const std::function<void(const std::string&, const ScopeCounts&)>& f) const;
  std::string RouteClusterLocked(const std::string& route) const;
  // The counts as a report (kLatencyBoundsUs as bounds), as they are stored.
  static v1::StatsReport CountsReport(const ScopeCounts& counts);
  static StatsRunRecord RunRecord(const std::string& node_id, std::uint64_t run_id, const Run& run);

  const Clock& clock_;
  const std::chrono::milliseconds report_interval_;
  const std::chrono::seconds retention_;
  const std::chrono::seconds run_retention_;
  const TimePoint started_;  // the time series begins here

  mutable std::mutex mu_;
  std::map<std::string, Node, std::less<>> nodes_;
  std::map<std::string, std::string, std::less<>> route_clusters_;
  // Fleet-wide series per cluster, route and endpoint; per proxy (its clusters summed), per
  // (proxy, cluster) and per (proxy, route).
  std::map<std::string, TimeSeries, std::less<>> cluster_series_;
  std::map<std::string, TimeSeries, std::less<>> route_series_;
  std::map<EndpointKey, TimeSeries> endpoint_series_;
  std::map<std::string, TimeSeries, std::less<>> proxy_series_;
  std::map<std::pair<std::string, std::string>, TimeSeries> proxy_cluster_series_;
  std::map<std::pair<std::string, std::string>, TimeSeries> proxy_route_series_;
};

}  // namespace hermes::controlplane
