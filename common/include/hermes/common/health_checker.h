// Active health checking: probes targets (HTTP or TCP) on an interval with jitter and timeouts,
// applies healthy/unhealthy thresholds, and reports transitions. One component for both daemons:
// a standalone hermes runs it for its own clusters; the control plane will run it for the fleet.
// Everything runs on one io_context thread (no locks); probes are asynchronous, so thousands of
// targets cost one thread.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace hermes::health {

using Millis = std::chrono::milliseconds;

struct ProbeSpec {
  enum class Kind : uint8_t { kHttp, kTcp };
  Kind kind = Kind::kHttp;
  std::string method = "GET";
  std::string path = "/health";
  std::string host;  // Host header; "" = the target's host
  std::vector<std::pair<uint16_t, uint16_t>> expected{{200, 399}};  // inclusive ranges
  Millis interval{10000};
  Millis unhealthy_interval{0};  // 0 = interval
  Millis timeout{2000};
  Millis initial_jitter{0};
  Millis interval_jitter{0};
  uint32_t healthy_threshold = 2;
  uint32_t unhealthy_threshold = 3;

  bool operator==(const ProbeSpec&) const = default;
};

// Consecutive-result thresholds (Envoy's): a healthy target turns unhealthy after
// unhealthy_threshold failures in a row, an unhealthy one healthy after healthy_threshold
// successes in a row. Targets start healthy.
class HealthState {
 public:
  // The new health when this result changes it.
  std::optional<bool> OnResult(bool success, const ProbeSpec& spec);
  bool healthy() const { return healthy_; }

 private:
  bool healthy_ = true;
  uint32_t successes_ = 0;
  uint32_t failures_ = 0;
};

struct Target {
  std::string key;  // caller's name for it (e.g. "cluster/address")
  std::string host;  // for the Host header
  std::vector<boost::asio::ip::tcp::endpoint> addresses;  // tried in order
  ProbeSpec spec;
};

// key, healthy, reason (e.g. "HTTP 503", "connect: Connection refused", "timeout after 2s")
using TransitionFn = std::function<void(const std::string&, bool, const std::string&)>;

class HealthChecker {
 public:
  HealthChecker(boost::asio::any_io_executor executor, TransitionFn on_transition, uint64_t seed);
  ~HealthChecker();
  HealthChecker(const HealthChecker&) = delete;
  HealthChecker& operator=(const HealthChecker&) = delete;

  // Replaces the set of targets (call on the executor's thread). A target whose key, spec and
  // addresses stay keeps its state and schedule; others start over, healthy.
  void SetTargets(std::vector<Target> targets);
  // Stops every probe (call on the executor's thread).
  void Stop();

  std::optional<bool> healthy(const std::string& key) const;
  uint64_t probes() const { return probes_; }

 private:
  struct Running;
  void Spawn(std::shared_ptr<Running> running);

  boost::asio::any_io_executor executor_;
  TransitionFn on_transition_;
  uint64_t seed_;
  std::map<std::string, std::shared_ptr<Running>> targets_;
  uint64_t probes_ = 0;
};

}  // namespace hermes::health
