#include "dataplane/server/server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <condition_variable>
#include <unordered_set>

#include "dataplane/admin/admin_server.h"
#include "dataplane/lb/load_balancer.h"
#include "hermes/common/bearer_token.h"
#include "hermes/common/config.h"
#include "hermes/common/duration.h"
#include "hermes/common/health_checker.h"
#include "hermes/common/health_spec.h"

namespace hermes::dataplane {
namespace {

constexpr int kBacklog = 4096;
constexpr Millis kDrainPoll{100};
// Drain() waits this long at most for the workers to close their acceptors: a worker that
// stopped (a shutdown under way) never answers.
constexpr Millis kAcceptorsCloseWait{2000};

// The workers that have yet to close their acceptors; Drain() waits for none to be left.
class Countdown {
 public:
  explicit Countdown(size_t n) : left_(n) {}
  void Done() {
    {
      std::lock_guard lock(mu_);
      --left_;
    }
    done_.notify_all();
  }
  void Wait(Millis limit) {
    std::unique_lock lock(mu_);
    done_.wait_for(lock, limit, [this] { return left_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable done_;
  size_t left_;
};

}  // namespace

Server::Server(ServerOptions options)
    : options_(std::move(options)),
      stats_(std::max(1u, options_.workers)),
      registry_(stats_.workers()) {
  for (unsigned i = 0; i < stats_.workers(); ++i)
    workers_.push_back(std::make_unique<Worker>(i, stats_));
  std::shared_ptr<HostLookup> lookup = options_.lookup;
  if (!lookup) lookup = std::make_shared<SystemLookup>();
  // Answers are applied on the control thread, never on the resolver's.
  resolver_ = std::make_unique<AsyncResolver>(
      std::move(lookup), [this] { asio::post(control_, [this] { OnResolved(); }); });
}

Server::~Server() {
  if (control_thread_.joinable()) {
    Shutdown();
    Wait();
  }
}

std::vector<std::string> Server::Start(const v1::Config& config) {
  std::vector<std::string> errors = Apply(config);
  if (!errors.empty()) return errors;

  admin_ = std::make_unique<AdminServer>(*this, options_.admin_timeouts);
  if (config.admin().address() != "off") {
    if (auto err = admin_->Listen(config.admin().address()); !err.empty()) {
      for (auto& w : workers_) w->PostStop();
      for (auto& w : workers_) w->Run();  // drains the posted tasks, closing the sockets
      return {err};
    }
  }
  admin_address_ = config.admin().address();
  for (auto& w : workers_) threads_.emplace_back([w = w.get()] { w->Run(); });
  asio::co_spawn(control_, RefreshDnsLoop(), asio::detached);
  if (options_.handle_signals) asio::co_spawn(control_, SignalLoop(), asio::detached);
  control_thread_ = std::thread([this] { control_.run(); });
  ready_ = true;
  return {};
}

std::vector<std::string> Server::Reload() {
  if (options_.config_path.empty()) return {"no config file to reload"};
  auto loaded = config::LoadConfigFile(options_.config_path, options_.config_limits);
  std::vector<std::string> errors;
  for (const auto& e : loaded.errors) errors.push_back(e.ToString());
  if (errors.empty()) errors = Apply(loaded.config);
  if (errors.empty()) {
    spdlog::info("reloaded {}", options_.config_path);
  } else {
    spdlog::error("reload of {} refused; the running config stays:", options_.config_path);
    for (const auto& e : errors) spdlog::error("  {}", e);
  }
  return errors;
}

std::vector<std::string> Server::Apply(const v1::Config& config,
                                       const discovery::UnhealthyEndpoints& unhealthy) {
  std::lock_guard lock(mu_);
  discovery::UnhealthyEndpoints previous = std::move(central_unhealthy_);
  central_unhealthy_ = unhealthy;
  // A published snapshot has central_unhealthy_ applied before the workers see it.
  Applied applied =
      ApplyLocked(config, [&] { return applier_.ApplyConfig(config, *resolver_->hosts()); });
  if (!applied.errors.empty()) {
    central_unhealthy_ = std::move(previous);
  } else if (!applied.published) {
    ApplyCentralHealth();  // a health-only update
  }
  return applied.errors;
}

std::vector<std::string> Server::Apply(ConfigChanges changes,
                                       const discovery::UnhealthyEndpoints& unhealthy) {
  std::lock_guard lock(mu_);
  discovery::UnhealthyEndpoints previous = std::move(central_unhealthy_);
  central_unhealthy_ = unhealthy;
  v1::Config settings;
  if (changes.listeners) {
    settings = *changes.listeners;
    config::ApplyDefaults(settings);  // the applier does it too: here for the addresses to open
  } else if (snapshot_) {
    *settings.mutable_listeners() = snapshot_->config.listeners();
    *settings.mutable_admin() = snapshot_->config.admin();
  }
  Applied applied = ApplyLocked(
      settings, [&] { return applier_.ApplyChanges(std::move(changes), *resolver_->hosts()); });
  if (!applied.errors.empty()) {
    central_unhealthy_ = std::move(previous);
  } else if (!applied.published) {
    ApplyCentralHealth();
  }
  return applied.errors;
}

std::vector<std::string> Server::Apply(const v1::Config& config) {
  std::lock_guard lock(mu_);
  return ApplyLocked(config, [&] { return applier_.ApplyConfig(config, *resolver_->hosts()); })
      .errors;
}

Server::Applied Server::ApplyLocked(const v1::Config& settings,
                                    const std::function<ApplyResult()>& compile) {
  std::string admin_token;
  if (!settings.admin().token_file().empty()) {
    Result<std::string> read = ReadTokenFile(settings.admin().token_file());
    if (!read) return {{"admin.token_file: " + read.error()}};
    admin_token = std::move(read).value();
  }
  if (draining_) {
    // Drained: the listeners stay closed; the rest applies to the connections still open.
    ApplyResult result = compile();
    if (!result.errors.empty()) return {std::move(result.errors)};
    Publish(result);
    admin_token_ = std::move(admin_token);
    return {{}, result.snapshot != nullptr};
  }
  std::vector<std::string> errors;

  // Listeners: open what is new or moved before anything changes, so a bind failure refuses
  // the whole config and the running one stays.
  struct Pending {
    std::string name;
    OpenListener listener;
    ListenerSockets sockets;
  };
  std::vector<Pending> opened;
  for (int i = 0; i < settings.listeners_size(); ++i) {
    const auto& l = settings.listeners(i);
    auto it = listeners_.find(l.name());
    if (it != listeners_.end() && it->second.address == l.address()) continue;
    Pending p{l.name(), {l.address(), 0}, {}};
    auto hp = ParseHostPort(l.address());
    std::string err = hp ? OpenListenerSockets(*hp, stats_.workers(), kBacklog, p.sockets)
                         : "invalid address \"" + l.address() + "\"";
    if (!err.empty()) {
      errors.push_back("listeners[" + std::to_string(i) + "].address: " + err);
      continue;
    }
    p.listener.port = p.sockets.port;
    opened.push_back(std::move(p));
  }
  ApplyResult result;
  if (errors.empty()) {
    result = compile();
    errors = std::move(result.errors);
  }
  if (!errors.empty()) {
    for (auto& p : opened) CloseSockets(p.sockets.fds);
    return {std::move(errors)};
  }

  Publish(result);
  admin_token_ = std::move(admin_token);
  for (auto& p : opened) {
    for (unsigned w = 0; w < workers_.size(); ++w)
      workers_[w]->PostAddListener(p.name, p.sockets.fds[w], p.sockets.protocol);
    listeners_[p.name] = p.listener;
  }
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    bool kept = false;
    for (const auto& l : settings.listeners()) kept |= l.name() == it->first;
    if (kept) {
      ++it;
      continue;
    }
    for (auto& w : workers_) w->PostRemoveListener(it->first);
    it = listeners_.erase(it);
  }
  return {{}, result.snapshot != nullptr};
}

void Server::Publish(const ApplyResult& result) {
  if (!result.snapshot) return;
  snapshot_ = result.snapshot;
  if (!result.compiled_clusters.empty()) {
    // New names are served once resolved (OnResolved); the rest at once.
    std::unordered_set<std::string_view> compiled(result.compiled_clusters.begin(),
                                                  result.compiled_clusters.end());
    std::vector<std::string> addresses;
    for (const auto& c : snapshot_->clusters) {
      if (!compiled.contains(c->name)) continue;
      for (const auto& ep : c->endpoints)
        if (ep.resolved.empty()) addresses.push_back(ep.address);
    }
    if (size_t refused = resolver_->Resolve(addresses))
      spdlog::warn("resolver queue full: {} host names wait for the next refresh", refused);
  }
  UpdateHealthTargets();  // before the workers see the snapshot: new endpoints get their health
  for (auto& w : workers_) w->PostSnapshot(snapshot_);
  registry_.Prune();
}

void Server::OnResolved() {
  std::lock_guard lock(mu_);
  if (!snapshot_ || shutting_down_) return;
  Publish(applier_.ApplyResolved(*resolver_->hosts()));
}

void Server::BackInService(const Cluster& cluster, const Endpoint& ep) {
  // The checker's verdict ends what the proxy's own passive checks decided from the failures
  // that made the endpoint unhealthy: the ejection ends, an open breaker goes half-open.
  auto now = std::chrono::steady_clock::now();
  ep.state->outlier.ReturnNow(cluster.state->outlier, now);
  ep.state->breaker.CutOpenWait(cluster.breaker, now);
}

void Server::ApplyCentralHealth() {
  for (const auto& cluster : snapshot_->clusters) {
    auto down = central_unhealthy_.find(cluster->name);
    bool changed = false;
    for (const auto& ep : cluster->endpoints) {
      bool healthy = down == central_unhealthy_.end() || !down->second.count(ep.address);
      bool was = ep.state->healthy.exchange(healthy, std::memory_order_relaxed);
      changed |= was != healthy;
      if (healthy && !was) BackInService(*cluster, ep);
    }
    if (changed) cluster->state->availability_epoch.fetch_add(1, std::memory_order_release);
  }
}

void Server::UpdateHealthTargets() {
  if (options_.central_health) {
    // The control plane checks; its last verdicts stay while it is unreachable.
    ApplyCentralHealth();
    return;
  }
  std::vector<health::Target> targets;
  for (size_t i = 0; i < snapshot_->clusters.size(); ++i) {
    const Cluster& cluster = *snapshot_->clusters[i];
    const v1::HealthCheck& check = cluster.source->health_check();
    if (!check.enabled()) {
      // Not checked (any more): the checker's last verdict no longer applies.
      bool changed = false;
      for (const auto& ep : cluster.endpoints) changed |= !ep.state->healthy.exchange(true);
      if (changed) cluster.state->availability_epoch.fetch_add(1, std::memory_order_release);
      continue;
    }
    health::ProbeSpec spec = health::ProbeSpecFrom(check);
    for (const auto& ep : cluster.endpoints) {
      targets.push_back({cluster.name + "/" + ep.address, ep.host_port.host, ep.resolved, spec});
    }
  }
  asio::post(control_, [this, targets = std::move(targets)]() mutable {
    if (!checker_) {
      checker_ = std::make_unique<health::HealthChecker>(
          control_.get_executor(),
          [this](const std::string& key, bool healthy, const std::string& reason) {
            OnHealthTransition(key, healthy, reason);
          },
          static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    }
    if (!shutting_down_) checker_->SetTargets(std::move(targets));
  });
}

void Server::OnHealthTransition(const std::string& key, bool healthy, const std::string& reason) {
  // key is "cluster/address"; cluster names cannot contain '/'.
  auto slash = key.find('/');
  std::string cluster = key.substr(0, slash), address = key.substr(slash + 1);
  {
    std::lock_guard lock(mu_);
    registry_.Get(cluster, address)->healthy.store(healthy, std::memory_order_relaxed);
    registry_.GetCluster(cluster)->availability_epoch.fetch_add(1, std::memory_order_release);
    if (healthy) {
      for (const auto& c : snapshot_->clusters) {
        if (c->name != cluster) continue;
        for (const auto& ep : c->endpoints)
          if (ep.address == address) BackInService(*c, ep);
      }
    }
  }
  if (healthy) {
    spdlog::info("health check: {} is healthy again ({})", key, reason);
  } else {
    spdlog::warn("health check: {} is unhealthy ({})", key, reason);
  }
}

Task<void> Server::RefreshDnsLoop() {
  // Only queues the names: the lookups run on the resolver thread, and OnResolved publishes
  // the clusters whose addresses changed.
  Timer timer(control_.get_executor());
  for (;;) {
    Millis every{30000};
    {
      std::lock_guard lock(mu_);
      for (const auto& c : snapshot_->config.clusters())
        every = std::min(every, std::chrono::duration_cast<Millis>(ToChrono(c.dns_refresh())));
    }
    timer.expires_after(std::max(every, Millis(100)));
    auto [ec] = co_await timer.async_wait(kNoThrow);
    if (ec || shutting_down_) co_return;
    std::vector<std::string> addresses;
    {
      std::lock_guard lock(mu_);
      for (const auto& c : snapshot_->clusters)
        for (const auto& ep : c->endpoints)
          if (NeedsLookup(ep.address)) addresses.push_back(ep.address);
    }
    if (size_t refused = resolver_->Refresh(addresses))
      spdlog::warn("resolver queue full: {} host names wait for the next refresh", refused);
  }
}

Task<void> Server::SignalLoop() {
  asio::basic_signal_set<Executor> signals(control_.get_executor(), SIGHUP, SIGTERM, SIGINT);
  for (;;) {
    auto [ec, sig] = co_await signals.async_wait(kNoThrow);
    if (ec) co_return;
    if (sig == SIGHUP) {
      Reload();
      continue;
    }
    spdlog::info("signal {}: draining", sig);
    Shutdown();
    co_return;
  }
}

void Server::Shutdown() {
  if (shutting_down_.exchange(true)) return;
  ready_ = false;
  // The drain runs on its own thread so that Shutdown() may be called from anywhere, the
  // control thread included; Wait() joins it.
  drain_thread_ = std::thread([this] { DrainAndStop(); });
}

void Server::DrainAndStop() {
  Millis drain{30000};
  {
    std::lock_guard lock(mu_);
    if (snapshot_) {
      drain = Millis(0);
      for (const auto& l : snapshot_->listeners) drain = std::max(drain, l.drain_timeout);
    }
  }
  for (auto& w : workers_) w->PostDrain();
  auto until = std::chrono::steady_clock::now() + drain;
  while (ActiveConnections() > 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  for (auto& w : workers_) w->PostStop();
  if (admin_) admin_->Close();
  asio::post(control_, [this] {
    if (checker_) checker_->Stop();
  });
  control_work_.reset();
  asio::post(control_, [this] { control_.stop(); });
}

void Server::Drain() {
  auto closing = std::make_shared<Countdown>(workers_.size());
  {
    std::lock_guard lock(mu_);
    if (shutting_down_ || draining_.exchange(true)) return;
    ready_ = false;
    for (auto& w : workers_) {
      w->PostDrain([this, closing] {
        drained_workers_.fetch_add(1);
        closing->Done();
      });
    }
    listeners_.clear();  // the workers close the sockets
  }
  closing->Wait(kAcceptorsCloseWait);
  spdlog::info("draining: the listeners are closed; connections left to finish: {}",
               ActiveConnections());
  asio::post(control_, [this] { asio::co_spawn(control_, WatchDrain(), asio::detached); });
}

bool Server::drained() const {
  return draining_ && drained_workers_.load() == workers_.size() && ActiveConnections() == 0;
}

Task<void> Server::WatchDrain() {
  Timer timer(control_.get_executor());
  while (!drained()) {
    timer.expires_after(kDrainPoll);
    auto [ec] = co_await timer.async_wait(kNoThrow);
    if (ec || shutting_down_) co_return;
  }
  spdlog::info("drained: no connection left; the process serves no traffic until restarted");
}

void Server::Wait() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  if (control_thread_.joinable()) control_thread_.join();
  if (drain_thread_.joinable()) drain_thread_.join();
}

uint16_t Server::ListenerPort(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = listeners_.find(name);
  return it == listeners_.end() ? 0 : it->second.port;
}

uint16_t Server::AdminPort() const { return admin_ ? admin_->port() : 0; }

std::string Server::AdminToken() const {
  std::lock_guard lock(mu_);
  return admin_token_;
}

SnapshotPtr Server::snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

int64_t Server::ActiveConnections() const {
  int64_t n = 0;
  for (const auto& w : workers_) n += w->ActiveConnections();
  return n;
}

}  // namespace hermes::dataplane
