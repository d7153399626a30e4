// Central active health checking: the control plane probes every endpoint of every cluster whose
// `health_check` is enabled (one HealthChecker, one thread, for the whole fleet), records each
// transition with its time and reason in the store, and hands the set of unhealthy endpoints to
// the discovery server, which pushes it to every proxy as an endpoints update.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <optional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "controlplane/store/health_event_store.h"
#include "hermes/common/clock.h"
#include "hermes/common/health_checker.h"
#include "hermes/common/resources.h"
#include "hermes/v1/config.pb.h"

namespace hermes::controlplane {

// What the control plane knows of one endpoint's health.
struct EndpointHealthView {
  bool checked = false;       // its cluster has an enabled health check
  bool healthy = true;        // the verdict (true for unchecked endpoints)
  std::string reason;         // of the last transition ("" if none yet)
  TimePoint changed_at{};     // of the last transition (epoch if none)
};

using PublishHealthFn = std::function<void(discovery::UnhealthyEndpoints)>;

class HealthMonitor {
 public:
  // `store` may be null (no history). `publish` runs on the monitor's thread after transitions
  // (coalesced: one call for every transition of one burst).
  HealthMonitor(HealthEventStore* store, const Clock& clock, PublishHealthFn publish);
  ~HealthMonitor();
  HealthMonitor(const HealthMonitor&) = delete;
  HealthMonitor& operator=(const HealthMonitor&) = delete;

  // Loads the last recorded verdict of every endpoint (so that an endpoint found down before a
  // restart stays out of rotation until probes find it healthy) and starts the thread.
  void Start();
  void Stop();

  // The config to check (thread-safe; returns at once): endpoints of clusters with
  // `health_check.enabled`. Host names are resolved on the monitor's background thread, again
  // every `refresh` (30 s); a name that does not resolve is not probed and keeps its last verdict.
  void SetConfig(const v1::Config& config);

  // Every endpoint of the last config, by (cluster, address).
  std::map<std::pair<std::string, std::string>, EndpointHealthView> View() const;
  discovery::UnhealthyEndpoints Unhealthy() const;
  uint64_t transitions() const;

 private:
  void OnTransition(const std::string& key, bool healthy, const std::string& reason);
  void Flush();  // on the probing thread
  discovery::UnhealthyEndpoints UnhealthyLocked() const;
  // The background thread: resolves names into targets for the probing thread, and writes
  // transitions to the store (an fsync must not stall probes).
  void Background();
  std::vector<health::Target> BuildTargets(const v1::Config& config);

  HealthEventStore* store_;
  const Clock& clock_;
  PublishHealthFn publish_;
  boost::asio::io_context io_{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
  std::thread thread_;
  std::unique_ptr<health::HealthChecker> checker_;  // used on the probing thread only
  std::thread background_;
  std::condition_variable wake_;
  std::chrono::milliseconds refresh_{30000};

  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, EndpointHealthView> view_;
  std::vector<HealthEventRecord> pending_;   // transitions not yet published
  std::vector<HealthEventRecord> to_store_;  // published, not yet stored
  std::optional<v1::Config> config_;         // the config being checked
  bool config_changed_ = false;              // config_ not yet turned into targets
  std::map<std::string, std::vector<boost::asio::ip::tcp::endpoint>> resolved_;  // last targets' addresses
  bool stopping_ = false;
  bool flush_posted_ = false;
  uint64_t transitions_ = 0;
};

}  // namespace hermes::controlplane
