#include "dataplane/discovery/discovery_client.h"

#include <grpcpp/channel.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace hermes::dataplane {
namespace {

// How often a draining proxy looks at its connection count (sent only when it changes).
constexpr auto kDrainPoll = std::chrono::milliseconds(100);

}  // namespace

DiscoveryClient::DiscoveryClient(DiscoveryClientOptions options, ApplyChangesFn apply,
                                 DrainHooks drain)
    : DiscoveryClient(std::move(options), ApplyConfigFn{}, std::move(drain)) {
  apply_changes_ = std::move(apply);
}

DiscoveryClient::DiscoveryClient(DiscoveryClientOptions options, ApplyConfigFn apply,
                                 DrainHooks drain)
    : options_(std::move(options)), apply_(std::move(apply)), drain_(std::move(drain)) {
  grpc::ChannelArguments args;
  // Keepalive pings find a control plane that vanished without closing the connection; the
  // control plane permits them (hermes-controlplane sets the matching server arguments).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options_.keepalive_time.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(options_.keepalive_timeout.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // Our own backoff governs reconnects; gRPC's should not add minutes on top of it.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options_.backoff_max.count()));
  channel_ = grpc::CreateCustomChannel(options_.server, grpc::InsecureChannelCredentials(), args);
  stub_ = v1::AggregatedDiscovery::NewStub(channel_);
}

DiscoveryClient::~DiscoveryClient() { Stop(); }

std::string DiscoveryClient::CachePath() const {
  return (std::filesystem::path(options_.cache_dir) / "config.pb").string();
}

std::optional<v1::Config> DiscoveryClient::LoadCache(std::string* error) {
  std::ifstream in(CachePath(), std::ios::binary);
  if (!in) return std::nullopt;
  v1::Config config;
  if (!config.ParseFromIstream(&in)) {
    *error = CachePath() + ": not a cached Hermes config (ignored)";
    return std::nullopt;
  }
  assembler_.Load(config);
  return config;
}

void DiscoveryClient::SaveCache(const v1::Config& config) {
  // A health-only update leaves the config as it was: no rewrite.
  std::string bytes = config.SerializeAsString();
  if (bytes == saved_) return;
  std::error_code ec;
  std::filesystem::create_directories(options_.cache_dir, ec);
  std::string tmp = CachePath() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())) ||
        !out.flush()) {
      spdlog::warn(
          "cannot write the config cache {}: the next start without a control plane "
          "will not serve this config",
          tmp);
      return;
    }
  }
  std::filesystem::rename(tmp, CachePath(), ec);  // atomic: a crash leaves the old or the new
  if (ec) {
    spdlog::warn("cannot replace the config cache {}: {}", CachePath(), ec.message());
    return;
  }
  saved_ = std::move(bytes);
}

void DiscoveryClient::Start() {
  thread_ = std::thread([this] { Run(); });
}

void DiscoveryClient::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (context_) context_->TryCancel();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Only the Run thread starts the reporter: joined after it.
  if (drain_reporter_.joinable()) drain_reporter_.join();
}

void DiscoveryClient::Run() {
  std::mt19937_64 rng(std::random_device{}());
  int failures = 0;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    uint64_t before = applied_.load();
    auto started = std::chrono::steady_clock::now();
    RunStream();
    connected_ = false;
    // A stream that lived a while (or delivered config) starts the backoff over.
    if (applied_.load() != before ||
        std::chrono::steady_clock::now() - started > std::chrono::seconds(10))
      failures = 0;
    auto cap = std::min<int64_t>(options_.backoff_max.count(), options_.backoff_base.count()
                                                                   << std::min(failures, 16));
    ++failures;
    // Jitter: uniform in [cap/2, cap], so a fleet that lost its control plane does not
    // reconnect in lockstep.
    auto wait = std::chrono::milliseconds(
        cap / 2 + static_cast<int64_t>(rng() % static_cast<uint64_t>(cap / 2 + 1)));
    {
      std::unique_lock lock(mu_);
      if (wake_.wait_for(lock, wait, [this] { return stopping_; })) return;
    }
    // This loop's backoff is the only one: without the reset, a call made while the channel
    // sits out gRPC's own reconnect backoff fails at once and doubles ours on top of it.
    grpc::experimental::ChannelResetConnectionBackoff(channel_.get());
  }
}

void DiscoveryClient::RunStream() {
  grpc::ClientContext context;
  if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    context_ = &context;
  }
  auto stream = stub_->Stream(&context);
  bool open = true;
  {
    std::lock_guard lock(write_mu_);
    bool first = true;
    for (v1::ResourceType t : discovery::kTypeOrder) {
      v1::DiscoveryRequest subscribe;
      if (first) *subscribe.mutable_node() = options_.node;
      first = false;
      subscribe.set_type(t);
      if (assembler_.received(t)) subscribe.set_version_info(assembler_.version(t));
      open = stream->Write(subscribe);
      if (!open) break;
    }
    // A new stream learns at once that this proxy drains (the control plane forgets a node's
    // state when its stream ends).
    reported_.reset();
    if (open && drain_started_) open = WriteDrainStatus(*stream, /*only_changed=*/false);
    if (open) stream_ = stream.get();
  }

  v1::DiscoveryResponse response;
  while (open && stream->Read(&response)) {
    connected_ = true;
    if (response.has_drain()) {
      // A command, not resources: no ACK.
      if (!OnDrainCommand(*stream)) break;
      continue;
    }
    // Validation happens in the apply; a refused update leaves the assembler as it was.
    std::string refused = assembler_.AcceptRevertibly(response);
    std::string why;
    bool consistent = false;
    std::vector<std::string> errors;
    if (!refused.empty()) {
      errors.push_back(std::move(refused));
    } else if (apply_changes_) {
      std::optional<ConfigChanges> changes = assembler_.Changes(&why);
      consistent = changes.has_value();
      if (changes) errors = apply_changes_(std::move(*changes), assembler_.Unhealthy());
    } else {
      std::optional<v1::Config> config = assembler_.Assemble(&why);
      consistent = config.has_value();
      if (config) errors = apply_(*config, assembler_.Unhealthy());
    }

    v1::DiscoveryRequest answer;
    answer.set_type(response.type());
    answer.set_response_nonce(response.nonce());
    if (errors.empty()) {
      answer.set_version_info(response.version_info());
      if (consistent) {
        assembler_.MarkApplied();
        ++applied_;
      } else {
        spdlog::debug("discovery: {} {} accepted, not applied yet: {}",
                      v1::ResourceType_Name(response.type()), response.version_info(), why);
      }
    } else {
      assembler_.Revert();
      if (assembler_.known(response.type()))
        answer.set_version_info(assembler_.version(response.type()));
      std::string detail;
      for (const auto& e : errors) detail += (detail.empty() ? "" : "; ") + e;
      answer.mutable_error_detail()->set_message(detail);
      spdlog::warn("discovery: refused {} version {}: {}", v1::ResourceType_Name(response.type()),
                   response.version_info(), detail);
    }
    {
      std::lock_guard lock(write_mu_);
      if (!stream->Write(answer)) break;
    }
    // After the ACK: the cache is for the next start, not for serving now.
    if (errors.empty() && consistent) {
      if (auto config = assembler_.Assemble(&why)) SaveCache(*config);
    }
  }
  {
    std::lock_guard lock(write_mu_);
    stream_ = nullptr;
  }
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  {
    std::lock_guard lock(mu_);
    context_ = nullptr;
  }
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED)
    spdlog::warn("discovery: stream to {} ended: {} ({})", options_.server, status.error_message(),
                 static_cast<int>(status.error_code()));
}

bool DiscoveryClient::OnDrainCommand(Stream& stream) {
  if (!drain_.start || !drain_.drained || !drain_.active_connections) {
    spdlog::warn("discovery: {} sent a drain command, but this proxy cannot drain (ignored)",
                 options_.server);
    return true;
  }
  drain_.start();
  std::lock_guard lock(write_mu_);
  bool first = !drain_started_;
  drain_started_ = true;
  if (first) {
    spdlog::info("discovery: {} asked this proxy to drain", options_.server);
    drain_reporter_ = std::thread([this] { ReportDrain(); });
  }
  // A repeated command gets the current status again.
  return WriteDrainStatus(stream, /*only_changed=*/false);
}

void DiscoveryClient::ReportDrain() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (wake_.wait_for(lock, kDrainPoll, [this] { return stopping_; })) return;
    }
    std::lock_guard lock(write_mu_);
    // Without a stream, or when the write fails, the next stream reports it on subscribing.
    if (stream_) WriteDrainStatus(*stream_, /*only_changed=*/true);
    // Drained is final (no connection is taken any more): once it is written, nothing is left
    // to report but on a new stream, which RunStream does.
    if (reported_ && reported_->drained()) return;
  }
}

bool DiscoveryClient::WriteDrainStatus(Stream& stream, bool only_changed) {
  v1::DrainStatus status;
  // drained() first: once true the count is 0 and stays there, so the two agree.
  status.set_drained(drain_.drained());
  status.set_active_connections(drain_.active_connections());
  if (only_changed && reported_ && reported_->drained() == status.drained() &&
      reported_->active_connections() == status.active_connections())
    return true;
  v1::DiscoveryRequest request;
  *request.mutable_drain_status() = status;
  if (!stream.Write(request)) return false;
  reported_ = status;
  return true;
}

}  // namespace hermes::dataplane
