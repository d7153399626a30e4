#include "controlplane/discovery/discovery_server.h"

#include <deque>

#include "controlplane/auth/bearer_token.h"
#include "controlplane/store/config_store.h"

namespace hermes::controlplane {

// One proxy's stream. gRPC calls OnReadDone/OnWriteDone/OnDone on its threads; Publish() calls
// Push() from the publisher's thread: mu_ orders them. One write in flight at a time, the rest
// queued (at most one response per type is outstanding anyway).
class DiscoveryServer::Reactor final
    : public grpc::ServerBidiReactor<v1::DiscoveryRequest, v1::DiscoveryResponse> {
 public:
  Reactor(DiscoveryServer& server, grpc::CallbackServerContext* context) : server_(server) {
    status_.peer = context->peer();
    status_.connected_since = status_.last_seen = std::chrono::system_clock::now();
    status_.connected = true;
    if (!BearerTokenMatches(*context, server_.token_)) {
      finished_ = true;
      Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "missing or wrong bearer token (hermes --token-file)"));
      return;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      std::lock_guard lock(mu_);
      Close(grpc::Status::OK);
      return;
    }
    if (!registered_) {
      // Only this read path touches the reactor before it is registered; no lock is held while
      // the server's is taken (lock order: server, then reactor).
      if (request_.node().id().empty()) {
        std::lock_guard lock(mu_);
        Close(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                           "the first request of a stream must carry node.id"));
        return;
      }
      {
        std::lock_guard lock(mu_);
        status_.node = request_.node();
      }
      registered_ = true;
      server_.Register(this);
    }
    std::vector<std::pair<std::string, std::optional<NackRecord>>> to_record;
    {
      std::lock_guard lock(mu_);
      status_.last_seen = std::chrono::system_clock::now();
      StreamState::RequestOutcome o = state_.OnRequest(request_);
      if (o.nack) {
        status_.last_nack = o.nack;
        status_.last_nack_at = status_.last_seen;
        to_record.emplace_back(discovery::ResourceTypeName(o.nack->type), o.nack);
      } else if (o.acked_version && desired_ &&
                 *o.acked_version == desired_->version(request_.type()) &&
                 recorded_[request_.type()] != status_.config_version) {
        // Once per stored version and type: a health-only update ACKed by every proxy must not
        // cost the store a durable write per proxy.
        recorded_[request_.type()] = status_.config_version;
        to_record.emplace_back(discovery::ResourceTypeName(request_.type()), std::nullopt);
      }
      Enqueue(std::move(o.send));
      Refresh();
    }
    Record(to_record);
    StartRead(&request_);
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) {
      Close(grpc::Status::OK);
      return;
    }
    queue_.pop_front();
    WriteNext();
  }

  void OnDone() override {
    if (registered_) server_.Unregister(this);
    delete this;
  }

  // From Publish() (the server's mu_ held) and Register(). An older config than the one it has
  // (a Register racing a Publish) is ignored: versions only grow.
  void SetDesired(std::shared_ptr<const ResourceSet> desired) {
    std::lock_guard lock(mu_);
    if (finished_ || !desired) return;
    if (desired_ && desired->config_version < desired_->config_version) return;
    desired_ = std::move(desired);
    status_.config_version = desired_->config_version;
    Enqueue(state_.SetDesired(desired_));
    Refresh();
  }

  StreamStatus Status() const {
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  void Enqueue(std::vector<v1::DiscoveryResponse> responses) {
    for (auto& r : responses) queue_.push_back(std::move(r));
    WriteNext();
  }

  void WriteNext() {
    if (writing_ || finished_ || queue_.empty()) return;
    writing_ = true;
    StartWrite(&queue_.front());
  }

  void Close(grpc::Status status) {
    if (finished_) return;
    finished_ = true;
    status_.connected = false;
    Finish(std::move(status));
  }

  void Refresh() {
    status_.in_sync = state_.InSync();
    for (v1::ResourceType t : kTypeOrder) {
      status_.acked[t] = state_.acked_version(t);
      status_.pending[t] = state_.pending(t);
    }
  }

  void Record(const std::vector<std::pair<std::string, std::optional<NackRecord>>>& events) {
    if (!server_.store_ || events.empty() || status_.config_version == 0) return;
    for (const auto& [type, nack] : events) {
      server_.QueueEvent({status_.node.id(), type, status_.config_version,
                          nack ? std::optional<std::string>(nack->error) : std::nullopt});
    }
  }

  DiscoveryServer& server_;
  mutable std::mutex mu_;
  v1::DiscoveryRequest request_;
  StreamState state_;
  std::map<v1::ResourceType, int64_t> recorded_;  // the stored version last recorded as ACKed, per type
  std::shared_ptr<const ResourceSet> desired_;
  std::deque<v1::DiscoveryResponse> queue_;  // front is being written while writing_
  bool writing_ = false;
  bool finished_ = false;
  bool registered_ = false;
  StreamStatus status_;

  friend class DiscoveryServer;
};

DiscoveryServer::DiscoveryServer(ConfigStore* store, std::string token)
    : store_(store), token_(std::move(token)) {
  if (store_) writer_ = std::thread([this] { WriteNodeState(); });
}

DiscoveryServer::~DiscoveryServer() {
  {
    std::lock_guard lock(writer_mu_);
    writer_stop_ = true;
  }
  writer_wake_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void DiscoveryServer::QueueUpsert(NodeRecord node) {
  {
    std::lock_guard lock(writer_mu_);
    upserts_.push_back(std::move(node));
  }
  writer_wake_.notify_one();
}

void DiscoveryServer::QueueEvent(NodeEvent event) {
  {
    std::lock_guard lock(writer_mu_);
    auto key = std::make_pair(event.node, event.type);
    events_[key] = std::move(event);
  }
  writer_wake_.notify_one();
}

void DiscoveryServer::WriteNodeState() {
  for (;;) {
    std::vector<NodeRecord> upserts;
    std::map<std::pair<std::string, std::string>, NodeEvent> events;
    {
      std::unique_lock lock(writer_mu_);
      writer_wake_.wait(lock, [this] { return writer_stop_ || !upserts_.empty() || !events_.empty(); });
      if (upserts_.empty() && events_.empty() && writer_stop_) return;
      upserts.swap(upserts_);
      events.swap(events_);
    }
    for (const auto& node : upserts) (void)store_->UpsertNode(node);
    for (const auto& [_, e] : events) {
      if (e.nack_error) {
        (void)store_->RecordNack(e.node, e.type, e.version, *e.nack_error);
      } else {
        (void)store_->RecordAck(e.node, e.type, e.version);
      }
    }
  }
}

grpc::ServerBidiReactor<v1::DiscoveryRequest, v1::DiscoveryResponse>* DiscoveryServer::Stream(
    grpc::CallbackServerContext* context) {
  return new Reactor(*this, context);
}

void DiscoveryServer::Register(Reactor* r) {
  StreamStatus status = r->Status();
  {
    // SetDesired under mu_ (the order Publish uses: server, then reactor): a publish cannot slip
    // in between and be overwritten by the older set, which has the same config version when
    // only health changed.
    std::lock_guard lock(mu_);
    streams_.insert(r);
    gone_.erase(status.node.id());
    if (desired_) r->SetDesired(desired_);
  }
  if (store_) {
    NodeRecord node;
    node.id = status.node.id();
    node.group = status.node.group();
    for (const auto& [k, v] : status.node.labels()) node.labels[k] = v;
    node.address = status.peer;
    node.connected_since = status.connected_since;
    node.last_seen = status.last_seen;
    QueueUpsert(std::move(node));
  }
}

void DiscoveryServer::Unregister(Reactor* r) {
  std::lock_guard lock(mu_);
  streams_.erase(r);
  StreamStatus s = r->Status();
  s.connected = false;
  if (!s.node.id().empty()) gone_[s.node.id()] = std::move(s);
}

void DiscoveryServer::Publish(int64_t version, const v1::Config& config) {
  std::lock_guard lock(mu_);
  config_ = config;
  config_version_ = version;
  auto desired = std::make_shared<ResourceSet>(BuildResources(config, unhealthy_));
  desired->config_version = version;
  desired_ = desired;
  for (Reactor* r : streams_) r->SetDesired(desired_);
}

void DiscoveryServer::PublishHealth(discovery::UnhealthyEndpoints unhealthy) {
  std::lock_guard lock(mu_);
  unhealthy_ = std::move(unhealthy);
  if (!config_) return;
  auto desired = std::make_shared<ResourceSet>(BuildResources(*config_, unhealthy_));
  desired->config_version = config_version_;
  desired_ = desired;
  for (Reactor* r : streams_) r->SetDesired(desired_);
}

std::vector<StreamStatus> DiscoveryServer::Proxies() const {
  std::lock_guard lock(mu_);
  std::vector<StreamStatus> out;
  for (const Reactor* r : streams_) out.push_back(r->Status());
  for (const auto& [_, s] : gone_) out.push_back(s);
  return out;
}

size_t DiscoveryServer::connected() const {
  std::lock_guard lock(mu_);
  return streams_.size();
}

}  // namespace hermes::controlplane
