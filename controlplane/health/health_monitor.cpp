#include "controlplane/health/health_monitor.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "hermes/common/address.h"
#include "hermes/common/health_spec.h"

namespace hermes::controlplane {
namespace {

using Key = std::pair<std::string, std::string>;

std::string TargetKey(const std::string& cluster, const std::string& address) {
  return cluster + "/" + address;  // cluster names cannot contain '/'
}

Key SplitKey(const std::string& key) {
  auto slash = key.find('/');
  return {key.substr(0, slash), key.substr(slash + 1)};
}

// The addresses of "host:port" (an IP needs no lookup); empty when it does not resolve, and the
// probes then fail with "no address", which is what a proxy would see too.
std::vector<boost::asio::ip::tcp::endpoint> Resolve(const HostPort& hp) {
  boost::system::error_code ec;
  auto ip = boost::asio::ip::make_address(hp.host, ec);
  if (!ec) return {{ip, hp.port}};
  boost::asio::io_context io;
  boost::asio::ip::tcp::resolver resolver(io);
  auto results = resolver.resolve(hp.host, std::to_string(hp.port), ec);
  std::vector<boost::asio::ip::tcp::endpoint> out;
  if (ec) {
    spdlog::warn("health check: cannot resolve {}: {}", hp.host, ec.message());
    return out;
  }
  for (const auto& r : results) out.push_back(r.endpoint());
  return out;
}

}  // namespace

HealthMonitor::HealthMonitor(HealthEventStore* store, const Clock& clock, PublishHealthFn publish)
    : store_(store), clock_(clock), publish_(std::move(publish)) {}

HealthMonitor::~HealthMonitor() { Stop(); }

void HealthMonitor::Start() {
  if (store_) {
    auto latest = store_->LatestHealth();
    if (!latest) {
      spdlog::warn("health check: cannot read the recorded health: {}", latest.error().message);
    } else {
      std::lock_guard lock(mu_);
      for (const auto& [key, e] : latest.value()) {
        EndpointHealthView& v = view_[key];
        v.healthy = e.healthy;
        v.reason = e.reason;
        v.changed_at = e.at;
      }
    }
  }
  thread_ = std::thread([this] { io_.run(); });
  background_ = std::thread([this] { Background(); });
}

void HealthMonitor::Stop() {
  if (!thread_.joinable()) return;
  boost::asio::post(io_, [this] {
    if (checker_) checker_->Stop();
    work_.reset();
  });
  thread_.join();
  checker_.reset();
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  background_.join();  // after storing the last transitions
}

void HealthMonitor::SetConfig(const v1::Config& config) {
  std::map<Key, EndpointHealthView> view;
  {
    std::lock_guard lock(mu_);
    for (const v1::Cluster& c : config.clusters()) {
      for (const v1::Endpoint& e : c.endpoints()) {
        Key key{c.name(), e.address()};
        EndpointHealthView v;
        v.checked = c.health_check().enabled();
        if (auto old = view_.find(key); old != view_.end() && v.checked) {
          v.healthy = old->second.healthy;
          v.reason = old->second.reason;
          v.changed_at = old->second.changed_at;
        }
        view.emplace(key, v);
      }
    }
    view_ = std::move(view);
  }
  {
    std::lock_guard lock(mu_);
    config_ = config;
    config_changed_ = true;
  }
  wake_.notify_all();
}

std::vector<health::Target> HealthMonitor::BuildTargets(const v1::Config& config) {
  std::vector<health::Target> targets;
  for (const v1::Cluster& c : config.clusters()) {
    if (!c.health_check().enabled()) continue;
    health::ProbeSpec spec = health::ProbeSpecFrom(c.health_check());
    for (const v1::Endpoint& e : c.endpoints()) {
      auto hp = ParseHostPort(e.address());
      if (!hp) continue;  // validated configs always parse
      health::Target t;
      t.key = TargetKey(c.name(), e.address());
      t.host = hp->host;
      t.addresses = Resolve(*hp);
      if (t.addresses.empty()) continue;  // no verdict: the last one stays
      t.spec = spec;
      targets.push_back(std::move(t));
    }
  }
  return targets;
}

void HealthMonitor::Background() {
  // steady_clock, not clock_: these are deadlines of a condition-variable wait on real time
  // (clock_ stamps what is recorded; a test's clock cannot wake the wait).
  auto next_refresh = std::chrono::steady_clock::now() + refresh_;
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait_until(lock, next_refresh, [&] {
      return stopping_ || config_changed_ || !to_store_.empty();
    });
    if (stopping_ && to_store_.empty()) return;
    if (!to_store_.empty()) {
      std::vector<HealthEventRecord> events;
      events.swap(to_store_);
      lock.unlock();
      if (store_) {
        if (auto r = store_->RecordHealthEvents(events); !r)
          spdlog::error("health check: cannot record {} transitions: {}", events.size(), r.error().message);
      }
      lock.lock();
      continue;
    }
    bool changed = config_changed_;
    bool due = std::chrono::steady_clock::now() >= next_refresh;
    if (!config_ || (!changed && !due)) {
      if (due) next_refresh = std::chrono::steady_clock::now() + refresh_;
      continue;
    }
    v1::Config config = *config_;
    config_changed_ = false;
    next_refresh = std::chrono::steady_clock::now() + refresh_;
    lock.unlock();
    std::vector<health::Target> targets = BuildTargets(config);  // resolves: may block
    lock.lock();
    std::map<std::string, std::vector<boost::asio::ip::tcp::endpoint>> resolved;
    for (health::Target& t : targets) {
      resolved[t.key] = t.addresses;
      // A replaced prober starts from the verdict we hold (e.g. recorded before a restart).
      auto v = view_.find(SplitKey(t.key));
      t.initially_healthy = v == view_.end() || v->second.healthy;
    }
    if (!changed && resolved == resolved_) continue;  // a refresh that found nothing new
    resolved_ = std::move(resolved);
    boost::asio::post(io_, [this, targets = std::move(targets)]() mutable {
      if (!checker_) {
        checker_ = std::make_unique<health::HealthChecker>(
            io_.get_executor(),
            [this](const std::string& key, bool healthy, const std::string& reason) {
              OnTransition(key, healthy, reason);
            },
            static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
      }
      checker_->SetTargets(std::move(targets));
      Flush();  // the unhealthy set of the new config (endpoints removed, checks turned off)
    });
  }
}

void HealthMonitor::OnTransition(const std::string& key, bool healthy, const std::string& reason) {
  Key k = SplitKey(key);
  TimePoint now = clock_.Now();
  {
    std::lock_guard lock(mu_);
    auto it = view_.find(k);
    // Removed, or its check turned off, by a config change the checker has not seen yet.
    if (it == view_.end() || !it->second.checked) return;
    it->second.healthy = healthy;
    it->second.reason = reason;
    it->second.changed_at = now;
    pending_.push_back({k.first, k.second, healthy, reason, now});
    ++transitions_;
    if (flush_posted_) return;
    flush_posted_ = true;
  }
  if (healthy) {
    spdlog::info("health check: {} is healthy ({})", key, reason);
  } else {
    spdlog::warn("health check: {} is unhealthy ({})", key, reason);
  }
  // After the handlers already queued: every transition of this burst goes out in one push.
  boost::asio::post(io_, [this] { Flush(); });
}

void HealthMonitor::Flush() {
  std::vector<HealthEventRecord> events;
  discovery::UnhealthyEndpoints unhealthy;
  {
    std::lock_guard lock(mu_);
    flush_posted_ = false;
    events.swap(pending_);
    unhealthy = UnhealthyLocked();
  }
  // Push first: proxies should stop sending to a dead backend before anything else; the
  // background thread stores the transitions (an fsync must not stall the probes).
  if (publish_) publish_(std::move(unhealthy));
  if (!events.empty()) {
    {
      std::lock_guard lock(mu_);
      to_store_.insert(to_store_.end(), events.begin(), events.end());
    }
    wake_.notify_all();
  }
}

discovery::UnhealthyEndpoints HealthMonitor::UnhealthyLocked() const {
  discovery::UnhealthyEndpoints out;
  for (const auto& [key, v] : view_)
    if (v.checked && !v.healthy) out[key.first].insert(key.second);
  return out;
}

std::map<Key, EndpointHealthView> HealthMonitor::View() const {
  std::lock_guard lock(mu_);
  return view_;
}

discovery::UnhealthyEndpoints HealthMonitor::Unhealthy() const {
  std::lock_guard lock(mu_);
  return UnhealthyLocked();
}

uint64_t HealthMonitor::transitions() const {
  std::lock_guard lock(mu_);
  return transitions_;
}

}  // namespace hermes::controlplane
