// The `hermes` process: worker threads, a control thread (config loads, reloads, DNS refresh,
// signals, the admin listener), and the listening sockets they share.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/admin/admin_server.h"
#include "dataplane/asio.h"
#include "dataplane/config/config_applier.h"
#include "dataplane/config/resolver.h"
#include "dataplane/config/snapshot.h"
#include "dataplane/server/listener_socket.h"
#include "dataplane/server/worker.h"
#include "dataplane/stats/stats.h"
#include "hermes/common/config.h"
#include "hermes/common/resources.h"
#include "hermes/v1/config.pb.h"

namespace hermes::health {
class HealthChecker;
}
namespace hermes::dataplane {

struct ServerOptions {
  std::string config_path;  // re-read on reload; empty when the config is given directly
  unsigned workers = 1;
  bool handle_signals = false;  // SIGHUP reloads, SIGTERM/SIGINT drain and stop
  // Managed mode: endpoint health comes from the control plane (ApplyHealth), which checks the
  // fleet's backends centrally; this process runs no probes of its own.
  bool central_health = false;
  AdminTimeouts admin_timeouts = {};          // tests shorten them
  config::DocumentLimits config_limits = {};  // for config_path, on every reload
  // Endpoint host names are looked up through this on the resolver thread; null: getaddrinfo.
  std::shared_ptr<HostLookup> lookup;
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Applies the first config, binds its listeners and starts every thread. Returns the errors
  // that prevent starting (empty on success).
  std::vector<std::string> Start(const hermes::v1::Config& config);

  // Re-reads config_path and applies it. Errors leave the running config in place. Thread-safe.
  // Every apply (the first, reloads, pushed configs) re-reads admin.token_file: an unreadable
  // or empty file refuses the config.
  std::vector<std::string> Reload();

  // Applies a validated config (defaults applied): listeners opened before the old ones close,
  // then every worker swaps to the new snapshot between requests. Thread-safe.
  std::vector<std::string> Apply(const hermes::v1::Config& config);

  // Managed mode: applies a pushed config together with the control plane's health verdicts.
  // When the config equals the running one (a health-only update) only the endpoints' health
  // flags change: no snapshot is compiled and no balancer rebuilt. Thread-safe.
  std::vector<std::string> Apply(const hermes::v1::Config& config,
                                 const discovery::UnhealthyEndpoints& unhealthy);

  // Managed mode: applies what a discovery update changed (defaults applied and validated here,
  // resource by resource) with the control plane's health verdicts. Only the changed clusters
  // compile; an update that changes only health verdicts compiles nothing. Thread-safe.
  std::vector<std::string> Apply(ConfigChanges changes,
                                 const discovery::UnhealthyEndpoints& unhealthy);

  // Stops accepting, lets requests in flight finish (up to the drain timeout), then stops
  // every thread. Thread-safe; Wait() returns once it is done.
  void Shutdown();
  void Wait();

  // Takes no connection again (hermesctl drain): every worker closes its acceptors, which
  // have all closed when this returns (a connect is refused), connections waiting for a request
  // close, those serving one close after its response. Unlike Shutdown() nothing stops: the
  // admin listener and the discovery and stats streams go on, and configs applied later change
  // everything but the listeners, which stay closed. Not ready() from then on. Thread-safe,
  // idempotent.
  void Drain();
  bool draining() const { return draining_.load(); }
  // Draining, and no connection is left.
  bool drained() const;

  // The bound port of a listener (after port 0) or of the admin listener, 0 if none.
  uint16_t ListenerPort(const std::string& name) const;
  uint16_t AdminPort() const;

  SnapshotPtr snapshot() const;
  StatsStore& stats() { return stats_; }
  int64_t ActiveConnections() const;
  bool ready() const { return ready_.load(); }
  // The bearer token admin.token_file held when the running config was applied; "" for none.
  std::string AdminToken() const;
  const ServerOptions& options() const { return options_; }

 private:
  struct OpenListener {
    std::string address;
    uint16_t port = 0;
  };

  struct Applied {
    std::vector<std::string> errors;
    bool published = false;  // a new snapshot went to the workers
  };
  // Opens the listeners `settings` names that are not open yet (a bind failure refuses the
  // change), compiles by `compile`, publishes, then closes the listeners `settings` lacks.
  // `settings`: the listeners and admin settings the change makes. mu_ held.
  Applied ApplyLocked(const hermes::v1::Config& settings,
                      const std::function<ApplyResult()>& compile);
  void Publish(const ApplyResult& result);
  // The resolver answered: recompiles the clusters whose addresses changed (control thread).
  void OnResolved();
  // Hands the snapshot's health-checked endpoints to the checker (mu_ held).
  void UpdateHealthTargets();
  void OnHealthTransition(const std::string& key, bool healthy, const std::string& reason);
  // Sets every endpoint's health from central_unhealthy_ (mu_ held); bumps the epoch of each
  // cluster where one changed.
  void ApplyCentralHealth();
  // An endpoint found healthy again by active checks (mu_ held).
  void BackInService(const Cluster& cluster, const Endpoint& ep);
  Task<void> RefreshDnsLoop();
  Task<void> SignalLoop();
  // Logs once when a Drain() has no connection left.
  Task<void> WatchDrain();
  void DrainAndStop();

  ServerOptions options_;
  StatsStore stats_;
  EndpointStateRegistry registry_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  asio::io_context control_{1};
  asio::executor_work_guard<Executor> control_work_{control_.get_executor()};
  std::thread control_thread_;
  std::thread drain_thread_;
  std::unique_ptr<AdminServer> admin_;
  std::unique_ptr<health::HealthChecker> checker_;  // lives on the control thread

  mutable std::mutex mu_;  // config changes and the fields below; never taken on the request path
  SnapshotPtr snapshot_;
  ConfigApplier applier_{stats_, registry_};
  std::map<std::string, OpenListener> listeners_;  // by listener name
  std::string admin_address_;
  std::string admin_token_;
  discovery::UnhealthyEndpoints central_unhealthy_;  // central_health: the last pushed verdicts
  std::atomic<bool> ready_{false};
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> draining_{false};       // Drain() was called (Shutdown() does not set it)
  std::atomic<size_t> drained_workers_{0};  // workers whose acceptors Drain() closed
  // Last: destroyed first, so that no answer is posted to a control_ being torn down.
  std::unique_ptr<AsyncResolver> resolver_;
};

}  // namespace hermes::dataplane
