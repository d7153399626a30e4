// Resolves endpoint host names off the request path, off the server lock and off the control
// thread: a resolver thread takes names from a bounded queue, looks each one up (blocking, as
// getaddrinfo is) and publishes the answers, so that a slow or dead DNS server delays only the
// names it is asked about. IP literals need no lookup (the compile step reads them itself).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "dataplane/config/snapshot.h"

namespace hermes::dataplane {

// A blocking name lookup: the seam for a fake in tests.
class HostLookup {
 public:
  virtual ~HostLookup() = default;
  // Every address of host_port.host with host_port.port, in resolver order; empty when the
  // lookup failed. Called on the resolver thread only.
  virtual std::vector<tcp::endpoint> Lookup(const HostPort& host_port) = 0;
};

// getaddrinfo, every address kept, so that "localhost" tries ::1 and 127.0.0.1.
class SystemLookup final : public HostLookup {
 public:
  std::vector<tcp::endpoint> Lookup(const HostPort& host_port) override;
};

class AsyncResolver {
 public:
  // Names waiting for a lookup; a name asked beyond it waits for the next Refresh().
  static constexpr std::size_t kMaxQueued = 4096;
  // Answers published together at most (a batch is published early when the queue empties).
  static constexpr std::size_t kPublishEvery = 32;

  // `changed` runs on the resolver thread after hosts() changed (a name answered for the first
  // time or with other addresses); it must not block.
  AsyncResolver(std::shared_ptr<HostLookup> lookup, std::function<void()> changed,
                std::size_t max_queued = kMaxQueued);
  // Waits for a lookup under way to return (getaddrinfo cannot be cancelled).
  ~AsyncResolver();
  AsyncResolver(const AsyncResolver&) = delete;
  AsyncResolver& operator=(const AsyncResolver&) = delete;

  // Queues the host names among `addresses` ("host:port") that have no answer and are not
  // queued. Returns how many were refused because the queue was full. Never blocks on a lookup.
  std::size_t Resolve(const std::vector<std::string>& addresses);
  // Queues every host name among `addresses` again (answered or not) and forgets the answers
  // of names not among them. Returns how many were refused because the queue was full.
  std::size_t Refresh(const std::vector<std::string>& addresses);

  // The answers so far. A name whose lookup fails keeps its last answer.
  std::shared_ptr<const ResolvedHosts> hosts() const;
  std::size_t queued() const;

 private:
  std::size_t Enqueue(const std::vector<std::string>& addresses, bool again);
  void Run();
  void Publish(std::vector<std::pair<std::string, std::vector<tcp::endpoint>>>& answers);

  std::shared_ptr<HostLookup> lookup_;
  std::function<void()> changed_;
  const std::size_t max_queued_;

  mutable std::mutex mu_;  // guards the fields below; never held during a lookup
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> queued_;  // queue_'s names and the one being looked up
  std::shared_ptr<const ResolvedHosts> hosts_ = std::make_shared<ResolvedHosts>();
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the fields above exist
};

// True when `address` ("host:port") names a host that needs a lookup (not an IP literal).
bool NeedsLookup(const std::string& address);

}  // namespace hermes::dataplane
