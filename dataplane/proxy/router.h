// The router: one request's way to a response head from a cluster (Envoy's router filter). It
// takes the cluster's request slot, picks endpoints (sticky pin, balancer, the tries so far
// avoided), asks each one's breaker, has the upstream connector make the try, gives the endpoint
// its breaker and outlier verdicts, and asks RetryState whether to go again. It never touches a
// socket or a protocol: the connector makes tries (HTTP/1 today, HTTP/2 next) and the downstream
// session writes whatever the client is told. Time comes from an injected clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <boost/container/small_vector.hpp>

#include "dataplane/asio.h"
#include "dataplane/config/snapshot.h"
#include "dataplane/lb/random.h"
#include "dataplane/proxy/retry_state.h"
#include "hermes/common/clock.h"

namespace hermes::dataplane::proxy {

// How one try on one endpoint ended, as the connector reports it.
struct TryReport {
  enum class Kind : uint8_t {
    kResponse,    // a final response head (or 101) is in; `outcome.status` says which
    kFailed,      // no usable response head: `outcome` says why, `status`/`reason` what to answer
    kClientGone,  // the client went away (or was answered) while the try ran: nothing to answer
    kOverloaded,  // a cluster limit refused the try before it reached the endpoint
  };
  static TryReport Response(unsigned status) { return {Kind::kResponse, TryOutcome::Response(status)}; }
  static TryReport Failed(resilience::AttemptFailure kind, bool reached, bool body_used,
                          unsigned status, std::string_view reason) {
    return {Kind::kFailed, TryOutcome::Failure(kind, reached, body_used), status, reason};
  }
  static TryReport ClientGone() { return {Kind::kClientGone}; }
  static TryReport Overloaded(std::string_view reason) { return {Kind::kOverloaded, {}, 503, reason}; }

  Kind kind = Kind::kFailed;
  TryOutcome outcome;
  unsigned status = 502;    // kFailed, kOverloaded: the local response's status
  std::string_view reason;  // static text
};

// The upstream side of tries, as the router sees it. One connector serves one request.
class UpstreamConnector {
 public:
  virtual ~UpstreamConnector() = default;
  // One try of the request on `endpoint`, up to its response head. `retry` bounds how long the
  // response head may take (RetryState::TryTimeout, asked when the request has been sent).
  virtual Task<TryReport> Try(const Endpoint& endpoint, const RetryState& retry) = 0;
  // The last try's response is not the request's (a retry follows): its upstream connection and
  // whatever it read go.
  virtual void Abandon() = 0;
  // Waits out a retry's backoff.
  virtual Task<void> Backoff(std::chrono::milliseconds wait) = 0;
};

// The request, as far as routing cares; the protocol's side (hash key, sticky pin) is computed by
// the session from the request's fields.
struct RouterRequest {
  Clock::time_point started{};  // when the head was read: the route timeout runs from here
  RetryRequest retry;
  std::optional<uint64_t> hash;   // the cluster's hash policy's key, if one applied
  std::optional<size_t> pinned;   // the endpoint the client's sticky cookie or header names
};

struct RouterResult {
  enum class Kind : uint8_t {
    kResponse,    // the connector holds the response head of `endpoint`: stream it
    kLocalReply,  // answer `status` with `reason` (x-hermes-overloaded when `overloaded`)
    kClientGone,  // nothing to answer
  };
  Kind kind = Kind::kLocalReply;
  // The endpoint of the request's final try, if one was made (its stats record the request).
  const Endpoint* endpoint = nullptr;
  unsigned status = 0;
  std::string_view reason;  // static text
  bool overloaded = false;
  bool pin = false;  // kResponse: the response pins the client to `endpoint` (sticky)
};

// One per request, on the worker's thread. Holds the cluster's request slot and the route's and
// cluster's active-request gauges from Forward() until it is destroyed (after the response).
class Router {
 public:
  Router(const Route& route, unsigned worker, lb::Random& random, const MonotonicClock& clock);
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  Task<RouterResult> Forward(const RouterRequest& request, UpstreamConnector& connector);

  // Endpoints (indexes into the cluster's) this request picked, breaker skips included, in order.
  std::span<const uint32_t> tried() const { return {tried_.data(), tried_.size()}; }

 private:
  std::optional<size_t> Pick(const RouterRequest& request);
  // The endpoint's breaker and outlier verdict on a try that came to something.
  void Judge(const Endpoint& endpoint, resilience::Admission admission, const TryReport& report,
             Clock::time_point now);
  bool Tried(size_t index) const;

  const Route& route_;
  const Cluster& cluster_;
  unsigned worker_;
  lb::Random& random_;
  const MonotonicClock& clock_;
  TrafficShard& route_shard_;
  TrafficShard& cluster_shard_;
  boost::container::small_vector<uint32_t, 8> tried_;  // no heap for up to 8 picks
  bool admitted_ = false;
};

}  // namespace hermes::dataplane::proxy
