// Managed mode: the proxy's discovery stream to the control plane. A thread keeps one stream
// open (reconnecting with exponential backoff and jitter; HTTP/2 keepalive detects a dead
// peer), applies each consistent update through `apply`, answers every response with an ACK or a
// NACK, and keeps the last good config in the cache directory so that a restart without a
// control plane serves it at once. A drain command (hermesctl drain) starts the proxy's drain;
// its progress goes back on the stream as drain_status requests.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/discovery/config_assembler.h"
#include "hermes/v1/discovery.grpc.pb.h"

namespace hermes::dataplane {

struct DiscoveryClientOptions {
  std::string server;  // "host:port" of hermes-controlplane
  v1::Node node;
  std::string token;      // bearer token, "" for none
  std::string cache_dir;  // where the last good config is kept
  std::chrono::milliseconds backoff_base{250};
  std::chrono::milliseconds backoff_max{15000};
  std::chrono::milliseconds keepalive_time{10000};
  std::chrono::milliseconds keepalive_timeout{5000};
};

// Applies an assembled config with the control plane's health verdicts; returns what is wrong
// with it (empty: applied).
using ApplyConfigFn = std::function<std::vector<std::string>(const v1::Config&,
                                                             const discovery::UnhealthyEndpoints&)>;
// Applies what an update changed (resource by resource, defaults not applied) with the control
// plane's health verdicts; returns what is wrong with it (empty: applied). Server::Apply.
using ApplyChangesFn =
    std::function<std::vector<std::string>(ConfigChanges, const discovery::UnhealthyEndpoints&)>;

// The proxy's drain, as the control plane's drain command reaches it (Server::Drain,
// Server::drained, Server::ActiveConnections): all three or none. Called on the client's
// threads, never on a worker.
struct DrainHooks {
  std::function<void()> start;    // stop taking connections, let the open ones finish; idempotent
  std::function<bool()> drained;  // started, and no connection is left
  std::function<int64_t()> active_connections;
};

class DiscoveryClient {
 public:
  // Without `drain` hooks a drain command is logged and ignored.
  DiscoveryClient(DiscoveryClientOptions options, ApplyChangesFn apply, DrainHooks drain = {});
  // Hands over the whole assembled config on every consistent update.
  DiscoveryClient(DiscoveryClientOptions options, ApplyConfigFn apply, DrainHooks drain = {});
  ~DiscoveryClient();
  DiscoveryClient(const DiscoveryClient&) = delete;
  DiscoveryClient& operator=(const DiscoveryClient&) = delete;

  // The cached last good config, if the cache holds one (call before Start()).
  std::optional<v1::Config> LoadCache(std::string* error);

  void Start();
  void Stop();

  bool connected() const { return connected_.load(); }
  uint64_t applied() const { return applied_.load(); }  // configs applied from the stream

 private:
  using Stream = grpc::ClientReaderWriter<v1::DiscoveryRequest, v1::DiscoveryResponse>;

  void Run();
  void RunStream();
  // Starts the drain and reports it; false when the stream broke.
  bool OnDrainCommand(Stream& stream);
  // While draining: reports each change of the connection count, until none is left.
  void ReportDrain();
  // Writes the drain's progress unless `only_changed` and it is what was written last on this
  // stream; false when the stream broke. write_mu_ held.
  bool WriteDrainStatus(Stream& stream, bool only_changed);
  void SaveCache(const v1::Config& config);
  std::string saved_;  // the cache's content as last written (stream thread only)
  std::string CachePath() const;

  DiscoveryClientOptions options_;
  ApplyChangesFn apply_changes_;  // one of the two is set
  ApplyConfigFn apply_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::AggregatedDiscovery::Stub> stub_;
  ConfigAssembler assembler_;  // the accepted state (Run thread only)

  std::mutex mu_;
  std::condition_variable wake_;
  grpc::ClientContext* context_ = nullptr;  // the open stream's, for Stop()
  bool stopping_ = false;
  std::thread thread_;
  std::atomic<bool> connected_{false};
  std::atomic<uint64_t> applied_{0};

  DrainHooks drain_;
  std::thread drain_reporter_;  // started by the first drain command (Run thread)
  // One writer at a time on the stream: the Run thread (subscriptions, ACKs) and the drain
  // reporter. Guards the fields below.
  std::mutex write_mu_;
  Stream* stream_ = nullptr;  // the open stream, once subscribed
  bool drain_started_ = false;
  std::optional<v1::DrainStatus> reported_;  // written last on stream_
};

}  // namespace hermes::dataplane
