// One worker: an io_context on its own thread, its acceptors (SO_REUSEPORT, one per listener),
// its downstream sessions, its upstream keep-alive pool and its view of the current snapshot.
// Everything here runs on the worker's thread; other threads talk to it only by posting.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include <boost/intrusive/list.hpp>

#include "dataplane/asio.h"
#include "dataplane/lb/random.h"
#include "dataplane/config/snapshot.h"
#include "dataplane/proxy/exchange.h"
#include "dataplane/server/buffer_pool.h"
#include "dataplane/upstream/connection_pool.h"

namespace hermes::dataplane {

// What a session exposes to its worker's timing wheel and drain.
class SessionBase : public boost::intrusive::list_base_hook<
                        boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~SessionBase() = default;
  Clock::time_point deadline = Clock::time_point::max();
  bool expired = false;  // the deadline passed (Expire ran) since it was last set
  // `d` from `now` (the worker's coarse time); zero or less: no deadline.
  void SetDeadline(Clock::time_point now, Clock::duration d) {
    expired = false;
    deadline = d.count() > 0 ? now + d : Clock::time_point::max();
  }
  // Cancels the session's pending I/O because its deadline passed.
  virtual void Expire() = 0;
  // Draining: a session waiting for a next request closes now; one serving finishes first.
  virtual void OnDrain() = 0;
};

// Returns endpoints whose outlier ejection has expired (run by worker 0 every tick).
void ReturnEjectedEndpoints(const Snapshot& snapshot, std::chrono::steady_clock::time_point now);

class Worker {
 public:
  Worker(unsigned id, StatsStore& stats);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs the event loop on the calling thread until Stop().
  void Run();

  // Thread-safe: each posts a task to the worker's thread.
  void PostSnapshot(SnapshotPtr snapshot);
  void PostAddListener(const std::string& name, int native_fd, tcp protocol);
  void PostRemoveListener(const std::string& name);
  // Closes the acceptors for good (a listener added later is closed at once), closes the
  // connections waiting for a request and lets those serving one finish it. `closed`, if
  // given, runs on the worker's thread once its acceptors are closed and every connection
  // they accepted is counted in ActiveConnections().
  void PostDrain(std::function<void()> closed = {});
  void PostStop();
  int64_t ActiveConnections() const { return active_connections_.load(std::memory_order_relaxed); }

  // Worker thread only.
  unsigned id() const { return id_; }
  const SnapshotPtr& snapshot() const { return snapshot_; }
  upstream::ConnectionPool& pool() { return pool_; }
  // What a connection holds only while it works on a request (buffer_pool.h, exchange.h).
  BufferPool& buffers() { return buffers_; }
  Lease<proxy::Exchange> TakeExchange() {
    std::unique_ptr<proxy::Exchange> e = exchanges_.Take();
    if (!e) e = std::make_unique<proxy::Exchange>();
    return {std::move(e), exchanges_};
  }
  lb::Random& random() { return random_; }
  bool draining() const { return draining_; }
  StatsStore& stats() { return stats_; }
  void Attach(SessionBase& session);
  void Detach(SessionBase& session);
  Executor executor() { return io_.get_executor(); }
  // The time of the last tick: deadlines are checked per tick, so they need no finer clock.
  std::chrono::steady_clock::time_point coarse_now() const { return coarse_now_; }

 private:
  struct ListenerSlot {
    explicit ListenerSlot(const Executor& ex) : acceptor(ex) {}
    std::string name;
    Acceptor acceptor;
  };

  Task<void> AcceptLoop(std::shared_ptr<ListenerSlot> slot);
  Task<void> TickLoop();
  bool AtConnectionLimit(const std::string& listener) const;

  unsigned id_;
  StatsStore& stats_;
  // Before io_: the sessions' frames, destroyed with io_, give their leases back to these.
  BufferPool buffers_;
  FreeList<proxy::Exchange> exchanges_{128, &proxy::Exchange::Reuse};
  // Only this worker's thread does I/O on its sockets (other threads only post), so the
  // reactor's per-descriptor locking can go; the scheduler keeps its lock for those posts.
  asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  asio::executor_work_guard<Executor> work_{io_.get_executor()};
  SnapshotPtr snapshot_;
  std::map<std::string, std::shared_ptr<ListenerSlot>> listeners_;
  boost::intrusive::list<SessionBase, boost::intrusive::constant_time_size<false>> sessions_;
  std::atomic<int64_t> active_connections_{0};
  upstream::ConnectionPool pool_;
  lb::Random random_;
  Timer tick_{io_.get_executor()};
  Timer slot_freed_{io_.get_executor()};  // wakes accept loops waiting below max_connections
  int accept_waiters_ = 0;
  std::chrono::steady_clock::time_point coarse_now_ = std::chrono::steady_clock::now();
  bool draining_ = false;
  bool stopped_ = false;
};

}  // namespace hermes::dataplane
