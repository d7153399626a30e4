#include "dataplane/server/worker.h"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>

#include "dataplane/proxy/downstream_session.h"

namespace hermes::dataplane {
namespace {

// Deadlines are checked on a coarse tick (as nginx and HAProxy do) instead of one timer per
// operation: arming and cancelling a timer per request costs more than a store of a time point.
constexpr auto kTick = std::chrono::milliseconds(50);
constexpr int kSweepEveryTicks = 20;

}  // namespace

Worker::Worker(unsigned id, StatsStore& stats)
    : id_(id), stats_(stats), random_(0x9e3779b97f4a7c15ULL ^ (uint64_t{id} << 32) ^
                                      static_cast<uint64_t>(std::chrono::steady_clock::now()
                                                                .time_since_epoch()
                                                                .count())) {}

void Worker::Run() {
  asio::co_spawn(io_, TickLoop(), asio::detached);
  io_.run();
}

void Worker::PostSnapshot(SnapshotPtr snapshot) {
  asio::post(io_, [this, s = std::move(snapshot)]() mutable { snapshot_ = std::move(s); });
}

void Worker::PostAddListener(const std::string& name, int native_fd, tcp protocol) {
  asio::post(io_, [this, name, native_fd, protocol] {
    if (draining_) {
      ::close(native_fd);  // a drained worker takes no connection again
      return;
    }
    auto slot = std::make_shared<ListenerSlot>(io_.get_executor());
    slot->name = name;
    boost::system::error_code ec;
    slot->acceptor.assign(protocol, native_fd, ec);
    if (ec) return;
    if (auto old = listeners_.find(name); old != listeners_.end()) old->second->acceptor.close(ec);
    listeners_[name] = slot;
    asio::co_spawn(io_, AcceptLoop(slot), asio::detached);
  });
}

void Worker::PostRemoveListener(const std::string& name) {
  asio::post(io_, [this, name] {
    auto it = listeners_.find(name);
    if (it == listeners_.end()) return;
    boost::system::error_code ec;
    it->second->acceptor.close(ec);
    listeners_.erase(it);
  });
}

void Worker::PostDrain(std::function<void()> closed) {
  asio::post(io_, [this, closed = std::move(closed)] {
    draining_ = true;
    boost::system::error_code ec;
    for (auto& [_, slot] : listeners_) slot->acceptor.close(ec);
    listeners_.clear();
    slot_freed_.cancel();
    for (auto it = sessions_.begin(); it != sessions_.end();) (it++)->OnDrain();
    // Posted, not called: a connection accepted before the close starts its session in a task
    // queued ahead of this one, so by then it is counted in ActiveConnections().
    if (closed) asio::post(io_, std::move(closed));
  });
}

void Worker::PostStop() {
  asio::post(io_, [this] {
    stopped_ = true;
    boost::system::error_code ec;
    for (auto& [_, slot] : listeners_) slot->acceptor.close(ec);
    listeners_.clear();
    tick_.cancel();
    slot_freed_.cancel();
    for (auto it = sessions_.begin(); it != sessions_.end();) (it++)->Expire();
    pool_.Clear();
    work_.reset();
    io_.stop();
  });
}

void Worker::Attach(SessionBase& session) {
  sessions_.push_back(session);
  active_connections_.fetch_add(1, std::memory_order_relaxed);
}

void Worker::Detach(SessionBase& session) {
  session.unlink();
  active_connections_.fetch_sub(1, std::memory_order_relaxed);
  if (accept_waiters_ > 0) slot_freed_.cancel();
}

bool Worker::AtConnectionLimit(const std::string& listener) const {
  if (!snapshot_) return false;
  const ListenerSettings* s = snapshot_->FindListener(listener);
  if (!s || s->max_connections == 0) return false;
  // Each worker takes its share of the listener's limit.
  unsigned workers = stats_.workers();
  int64_t share = (s->max_connections + workers - 1) / workers;
  return s->stats->shards[id_].active_connections.Get() >= share;
}

Task<void> Worker::AcceptLoop(std::shared_ptr<ListenerSlot> slot) {
  Timer backoff(io_.get_executor());
  while (slot->acceptor.is_open()) {
    while (AtConnectionLimit(slot->name) && slot->acceptor.is_open()) {
      // Over the limit: leave new connections in the kernel's backlog until one closes.
      slot_freed_.expires_at(Timer::time_point::max());
      ++accept_waiters_;
      co_await slot_freed_.async_wait(kNoThrow);
      --accept_waiters_;
    }
    auto [ec, socket] = co_await slot->acceptor.async_accept(kNoThrow);
    if (ec) {
      if (ec == asio::error::operation_aborted || !slot->acceptor.is_open()) co_return;
      // EMFILE and friends: pause rather than spin.
      backoff.expires_after(std::chrono::milliseconds(50));
      co_await backoff.async_wait(kNoThrow);
      continue;
    }
    if (draining_ || !snapshot_) continue;  // socket closes here
    asio::co_spawn(io_, ServeConnection(*this, std::move(socket), slot->name), asio::detached);
  }
}

// Endpoints whose outlier ejection time is up come back; one worker does it for all.
void ReturnEjectedEndpoints(const Snapshot& snapshot, std::chrono::steady_clock::time_point now) {
  for (const auto& cluster : snapshot.clusters) {
    if (!cluster->outlier.enabled) continue;  // Sweep also forgives old ejections over time
    for (const auto& ep : cluster->endpoints) {
      if (ep.state->outlier.Sweep(cluster->state->outlier, now))
        cluster->state->availability_epoch.fetch_add(1, std::memory_order_release);
    }
  }
}

Task<void> Worker::TickLoop() {
  int ticks = 0;
  while (!stopped_) {
    tick_.expires_after(kTick);
    co_await tick_.async_wait(kNoThrow);
    if (stopped_) co_return;
    auto now = SessionBase::Clock::now();
    coarse_now_ = now;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      auto& s = *it++;
      if (s.deadline <= now) s.Expire();
    }
    if (++ticks % kSweepEveryTicks == 0) pool_.Sweep(now);
    if (id_ == 0 && snapshot_) ReturnEjectedEndpoints(*snapshot_, now);
  }
}

}  // namespace hermes::dataplane
