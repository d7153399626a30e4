#include "controlplane/discovery/discovery_server.h"

#include <deque>

#include "controlplane/auth/bearer_token.h"
#include "controlplane/store/fleet_store.h"

namespace hermes::controlplane {

// One proxy's stream. gRPC calls OnReadDone/OnWriteDone/OnDone on its threads; Publish() calls
// Push() from the publisher's thread: mu_ orders them. One write in flight at a time, the rest
// queued (at most one response per type is outstanding anyway).
class DiscoveryServer::Reactor final
    : public grpc::ServerBidiReactor<v1::DiscoveryRequest, v1::DiscoveryResponse> {
 public:
  Reactor(DiscoveryServer& server, grpc::CallbackServerContext* context) : server_(server) {
    status_.peer = context->peer();
    status_.connected_since = status_.last_seen = server_.clock_.Now();
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
      node_ = request_.node();  // written before Register publishes the reactor; constant after
      registered_ = true;
      server_.Register(this);
    }
    std::vector<std::pair<std::string, std::optional<NackRecord>>> to_record;
    {
      std::lock_guard lock(mu_);
      status_.last_seen = server_.clock_.Now();
      if (request_.has_drain_status()) {
        status_.drain = request_.drain_status().drained() ? StreamStatus::Drain::kDrained
                                                          : StreamStatus::Drain::kDraining;
        status_.active_connections = request_.drain_status().active_connections();
      }
      StreamState::RequestOutcome o = state_.OnRequest(request_);
      if (o.nack) {
        status_.last_nack = o.nack;
        status_.last_nack_at = status_.last_seen;
        status_.last_nack_config_version = o.nack->config_version;
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

  // Only with the server's mu_ held (Publish, SetRollout, PublishHealth, Register), which orders
  // them: the set given last is the one wanted. A rollout's abort sends an older version.
  void SetDesired(std::shared_ptr<const ResourceSet> desired, bool in_rollout) {
    std::lock_guard lock(mu_);
    if (finished_ || !desired || desired == desired_) return;
    desired_ = std::move(desired);
    if (status_.config_version != desired_->config_version)
      status_.target_since = server_.clock_.Now();
    status_.config_version = desired_->config_version;
    status_.in_rollout = in_rollout;
    Enqueue(state_.SetDesired(desired_));
    Refresh();
  }

  void SendDrain() {
    std::lock_guard lock(mu_);
    if (finished_) return;
    if (status_.drain == StreamStatus::Drain::kServing) status_.drain = StreamStatus::Drain::kDraining;
    v1::DiscoveryResponse command;
    command.mutable_drain();
    Enqueue({std::move(command)});
  }

  // The node of a registered stream (constant once registered; read under the server's mu_).
  const v1::Node& node() const { return node_; }
  const std::string& node_id() const { return node_.id(); }

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
    if (status_.in_sync && desired_) status_.running_version = desired_->config_version;
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
  v1::Node node_;
  StreamStatus status_;

  friend class DiscoveryServer;
};

DiscoveryServer::DiscoveryServer(FleetStore* store, const Clock& clock, std::string token,
                                 std::string sticky_secret)
    : store_(store), clock_(clock), token_(std::move(token)), sticky_secret_(std::move(sticky_secret)) {
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
    // One transaction per wake-up: 10,000 proxies reconnecting are a few fsyncs, not 50,000.
    std::vector<NodeEventRecord> records;
    records.reserve(events.size());
    for (auto& [_, e] : events) records.push_back({e.node, e.type, e.version, e.nack_error});
    (void)store_->RecordNodeState(upserts, records);
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
    const bool selected = rollout_ && rollout::Selects(rollout_->selector, status.node);
    if (selected) ++rollout_selected_streams_;
    // The step's share can only call for another move when it grew past the moved count; the
    // count of streams never undercounts the connected selected nodes, so most joins (and every
    // join of a reconnect storm once the share is met) skip the scan of every stream.
    if (selected && rollout_->admit_joiners &&
        rollout::StepTarget(rollout_->share, rollout_selected_streams_) > rollout_->moved.size()) {
      AdmitJoinersLocked();
    }
    auto [desired, in_rollout] = DesiredFor(status.node.id());
    if (desired) r->SetDesired(desired, in_rollout);
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
  if (streams_.erase(r) > 0 && rollout_ && !r->node_id().empty() &&
      rollout::Selects(rollout_->selector, r->node()) && rollout_selected_streams_ > 0)
    --rollout_selected_streams_;
  StreamStatus s = r->Status();
  s.connected = false;
  if (!s.node.id().empty()) gone_[s.node.id()] = std::move(s);
}

std::shared_ptr<const ResourceSet> DiscoveryServer::Build(int64_t version,
                                                          const v1::Config& config) const {
  std::shared_ptr<ResourceSet> set;
  if (config.sticky_secret().empty() && !sticky_secret_.empty()) {
    v1::Config pushed = config;
    pushed.set_sticky_secret(sticky_secret_);
    set = std::make_shared<ResourceSet>(BuildResources(pushed, unhealthy_));
  } else {
    set = std::make_shared<ResourceSet>(BuildResources(config, unhealthy_));
  }
  set->config_version = version;
  return set;
}

std::pair<std::shared_ptr<const ResourceSet>, bool> DiscoveryServer::DesiredFor(
    const std::string& node_id) const {
  if (rollout_ && rollout_desired_ && rollout_->moved.contains(node_id)) return {rollout_desired_, true};
  return {desired_, false};
}

void DiscoveryServer::PushAllLocked() {
  for (Reactor* r : streams_) {
    auto [desired, in_rollout] = DesiredFor(r->node_id());
    if (desired) r->SetDesired(desired, in_rollout);
  }
}

void DiscoveryServer::AdmitJoinersLocked() {
  std::set<std::string> ids;
  for (const Reactor* r : streams_) {
    if (!r->node_id().empty() && rollout::Selects(rollout_->selector, r->node())) ids.insert(r->node_id());
  }
  std::vector<std::string> selected(ids.begin(), ids.end());
  std::vector<std::string> moved = rollout::ProxiesToMove(selected, rollout_->moved, rollout_->share);
  if (moved.empty()) return;
  rollout_->moved.insert(moved.begin(), moved.end());
  // Only the streams of the proxies just moved change.
  const std::set<std::string> now_moved(moved.begin(), moved.end());
  for (Reactor* r : streams_) {
    if (now_moved.contains(r->node_id())) r->SetDesired(rollout_desired_, true);
  }
}

void DiscoveryServer::Publish(int64_t version, const v1::Config& config) {
  std::lock_guard lock(mu_);
  config_ = config;
  config_version_ = version;
  desired_ = Build(version, config);
  PushAllLocked();
}

void DiscoveryServer::SetRollout(std::optional<RolloutAssignment> rollout) {
  std::lock_guard lock(mu_);
  if (rollout && rollout_ && rollout->rollout_id == rollout_->rollout_id)
    rollout->moved.insert(rollout_->moved.begin(), rollout_->moved.end());
  bool rebuild = !rollout || !rollout_ || rollout->version != rollout_->version;
  rollout_ = std::move(rollout);
  rollout_selected_streams_ = 0;
  if (!rollout_) {
    rollout_desired_.reset();
  } else {
    if (rebuild || !rollout_desired_) rollout_desired_ = Build(rollout_->version, rollout_->config);
    for (const Reactor* r : streams_) {
      if (!r->node_id().empty() && rollout::Selects(rollout_->selector, r->node()))
        ++rollout_selected_streams_;
    }
  }
  PushAllLocked();
}

std::set<std::string> DiscoveryServer::RolloutMoved() const {
  std::lock_guard lock(mu_);
  return rollout_ ? rollout_->moved : std::set<std::string>{};
}

Fleet::GateView DiscoveryServer::ViewForGate(const rollout::Selector& selector,
                                             const std::set<std::string>& moved) const {
  std::lock_guard lock(mu_);
  GateView view;
  for (const Reactor* r : streams_) {
    if (r->node_id().empty()) continue;
    if (moved.contains(r->node_id())) view.moved.push_back(r->Status());
    if (rollout::Selects(selector, r->node())) ++view.selected_streams;
  }
  return view;
}

bool DiscoveryServer::Drain(const std::string& node_id) {
  std::lock_guard lock(mu_);
  bool found = false;
  for (Reactor* r : streams_) {
    if (r->node_id() != node_id) continue;
    r->SendDrain();
    found = true;
  }
  return found;
}

void DiscoveryServer::PublishHealth(discovery::UnhealthyEndpoints unhealthy) {
  std::lock_guard lock(mu_);
  // The health monitor flushes after every config change too: an unchanged verdict rebuilds
  // nothing (a rebuild copies and hashes every resource and walks every stream).
  if (unhealthy == unhealthy_) return;
  unhealthy_ = std::move(unhealthy);
  if (config_) desired_ = Build(config_version_, *config_);
  if (rollout_) rollout_desired_ = Build(rollout_->version, rollout_->config);
  PushAllLocked();
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
