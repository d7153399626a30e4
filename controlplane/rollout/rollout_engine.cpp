#include "controlplane/rollout/rollout_engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

namespace hermes::controlplane {
namespace {

int64_t UnixMs(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string VersionName(int64_t v) { return "v" + std::to_string(v); }

std::string By(const std::string& author) { return author.empty() ? "unknown" : author; }

bool Active(const v1::Rollout& r) {
  return r.id() != 0 && (r.state() == v1::ROLLOUT_RUNNING || r.state() == v1::ROLLOUT_WAITING ||
                         r.state() == v1::ROLLOUT_PAUSED);
}

grpc::Status NoRollout() {
  return {grpc::StatusCode::FAILED_PRECONDITION,
          "no rollout is in progress (hermesctl rollout start VERSION)"};
}

std::string StateWord(v1::RolloutState s) {
  switch (s) {
    case v1::ROLLOUT_RUNNING:
      return "running";
    case v1::ROLLOUT_WAITING:
      return "waiting for promote";
    case v1::ROLLOUT_PAUSED:
      return "paused";
    case v1::ROLLOUT_COMPLETED:
      return "completed";
    case v1::ROLLOUT_ABORTED:
      return "aborted";
    default:
      return "unknown";
  }
}

// A read rollout's steps as basis points (they were validated when it started).
std::vector<rollout::BasisPoints> StepsOf(const v1::Rollout& r) {
  std::vector<double> percents(r.steps_percent().begin(), r.steps_percent().end());
  return rollout::ParseSteps(percents).steps;
}

}  // namespace

RolloutEngine::RolloutEngine(const VersionStore& versions, RolloutStore& rollout_store, Fleet& fleet, const Clock& clock,
                             TrafficFn traffic, ConfigsFn configs,
                             std::chrono::milliseconds min_interval)
    : versions_(versions),
      rollout_store_(rollout_store),
      fleet_(fleet),
      clock_(clock),
      traffic_(std::move(traffic)),
      configs_(std::move(configs)),
      min_interval_(min_interval) {}

RolloutEngine::~RolloutEngine() { Stop(); }

int64_t RolloutEngine::NowMs() const { return UnixMs(clock_.Now()); }

bool RolloutEngine::ActiveLocked() const { return Active(rollout_); }

Result<void> RolloutEngine::Restore() {
  std::lock_guard lock(mu_);
  auto history = rollout_store_.FleetHistory(1);
  if (!history) return history.error();
  if (!history.value().empty()) {
    auto v = versions_.Get(history.value().front().version);
    if (!v) return v.error();
    fleet_version_ = std::move(v).value();
  } else {
    auto newest = versions_.Current();
    if (!newest) return newest.error();
    if (newest.value()) {
      fleet_version_ = *newest.value();
      if (auto set = rollout_store_.SetFleetVersion(fleet_version_->id, "newest version at start"); !set)
        return set.error();
    }
  }
  auto rollouts = rollout_store_.ListRollouts(1);
  if (!rollouts) return rollouts.error();
  if (!rollouts.value().empty() && rollouts.value().front().active) {
    v1::Rollout r;
    if (!r.ParseFromString(rollouts.value().front().rollout)) {
      return StoreError{StoreErrorKind::kSchema,
                        "rollout " + std::to_string(rollouts.value().front().id) +
                            ": the stored state does not parse"};
    }
    auto target = versions_.Get(static_cast<VersionId>(r.version()));
    if (!target) return target.error();
    target_ = std::move(target).value();
    steps_ = StepsOf(r);
    rollout_ = std::move(r);
    if (steps_.empty() || rollout_.step() >= steps_.size()) {
      return StoreError{StoreErrorKind::kSchema, "rollout " + std::to_string(rollout_.id()) +
                                                     ": stored steps or step are invalid"};
    }
    if (rollout_.state() == v1::ROLLOUT_RUNNING) {
      // What this process did not see (stats kept in memory, proxies that were reconnecting)
      // cannot pass a gate: the step's interval starts again, as after a resume.
      v1::Rollout next = rollout_;
      next.set_step_started_unix_ms(std::max(next.step_started_unix_ms(), NowMs()));
      next.set_reason("the control plane restarted: the step's interval starts again");
      next.clear_gate();
      if (grpc::Status s = CommitLocked(std::move(next)); !s.ok())
        return StoreError{StoreErrorKind::kStorage, s.error_message()};
    }
  }
  if (fleet_version_) fleet_.Publish(fleet_version_->id, fleet_version_->config);
  PushLocked();
  return {};
}

void RolloutEngine::Run(std::chrono::milliseconds period) {
  thread_ = std::thread([this, period] {
    std::unique_lock lock(run_mu_);
    while (!stop_) {
      run_wake_.wait_for(lock, period, [this] { return stop_; });
      if (stop_) break;
      lock.unlock();
      Tick();
      lock.lock();
    }
  });
}

void RolloutEngine::Stop() {
  {
    std::lock_guard lock(run_mu_);
    stop_ = true;
  }
  run_wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int64_t RolloutEngine::fleet_version() const {
  std::lock_guard lock(mu_);
  return fleet_version_ ? fleet_version_->id : 0;
}

std::optional<ConfigVersion> RolloutEngine::FleetVersion() const {
  std::lock_guard lock(mu_);
  return fleet_version_;
}

v1::Rollout RolloutEngine::active() const {
  std::lock_guard lock(mu_);
  if (!ActiveLocked()) return {};
  return rollout_;
}

grpc::Status RolloutEngine::CommitLocked(v1::Rollout next, const ConfigVersion* fleet,
                                         const std::string& fleet_reason) {
  next.set_updated_unix_ms(NowMs());
  next.clear_proxies();
  RolloutRecord record;
  record.id = static_cast<int64_t>(next.id());
  record.active = Active(next);
  record.rollout = next.SerializeAsString();
  std::optional<FleetChange> change;
  if (fleet) change = FleetChange{fleet->id, fleet_reason, {}};
  if (auto saved = rollout_store_.SaveRollout(record, change ? &*change : nullptr); !saved)
    return {grpc::StatusCode::INTERNAL, saved.error().message};
  rollout_ = std::move(next);
  if (fleet) fleet_version_ = *fleet;
  dirty_ = false;
  return grpc::Status::OK;
}

void RolloutEngine::PushLocked() {
  if (!fleet_version_) return;
  if (!ActiveLocked() || !target_) {
    fleet_.SetRollout(std::nullopt);
    if (configs_) configs_(fleet_version_->config, nullptr);
    return;
  }
  RolloutAssignment a;
  a.rollout_id = rollout_.id();
  a.version = target_->id;
  a.config = target_->config;
  a.selector = {rollout_.selector().begin(), rollout_.selector().end()};
  a.share = steps_[rollout_.step()];
  a.moved = {rollout_.moved().begin(), rollout_.moved().end()};
  a.admit_joiners = rollout_.state() != v1::ROLLOUT_PAUSED;
  fleet_.SetRollout(std::move(a));
  if (configs_) configs_(fleet_version_->config, &target_->config);
}

std::vector<std::string> RolloutEngine::SelectedConnected(const v1::Rollout& r,
                                                          const std::vector<StreamStatus>& proxies) {
  rollout::Selector selector(r.selector().begin(), r.selector().end());
  std::set<std::string> ids;
  for (const StreamStatus& s : proxies) {
    if (s.connected && rollout::Selects(selector, s.node)) ids.insert(s.node.id());
  }
  return {ids.begin(), ids.end()};
}

void RolloutEngine::SyncMovedLocked(v1::Rollout& r) const {
  std::set<std::string> known(r.moved().begin(), r.moved().end());
  for (const std::string& id : fleet_.RolloutMoved())
    if (known.insert(id).second) r.add_moved(id);
}

void RolloutEngine::MoveForStepLocked(v1::Rollout& r) const {
  SyncMovedLocked(r);
  std::vector<std::string> selected = SelectedConnected(r, fleet_.Proxies());
  std::set<std::string> moved(r.moved().begin(), r.moved().end());
  for (std::string& id : rollout::ProxiesToMove(selected, moved, steps_[r.step()]))
    r.add_moved(std::move(id));
  r.set_selected_proxies(static_cast<uint32_t>(selected.size()));
  r.set_step_target(static_cast<uint32_t>(rollout::StepTarget(steps_[r.step()], selected.size())));
}

grpc::Status RolloutEngine::InProgressLocked() const {
  return {grpc::StatusCode::FAILED_PRECONDITION,
          "rollout " + std::to_string(rollout_.id()) + " of " + VersionName(rollout_.version()) +
              " is in progress (" + StateWord(rollout_.state()) +
              "); a change to every proxy would end it: hermesctl rollout abort ends it (moved "
              "proxies go back), --force aborts it and makes this change the fleet's"};
}

grpc::Status RolloutEngine::CheckDeployable(bool force) const {
  std::lock_guard lock(mu_);
  if (!ActiveLocked() || force) return grpc::Status::OK;
  return InProgressLocked();
}

grpc::Status RolloutEngine::Deploy(ConfigVersion version, bool force, const std::string& reason,
                                   uint64_t* aborted) {
  std::lock_guard lock(mu_);
  if (ActiveLocked()) {
    if (!force) return InProgressLocked();
    if (aborted) *aborted = rollout_.id();
    // Recorded first; the moved proxies are told only below, straight to the new version (not
    // back to the old one and then forward).
    v1::Rollout next = rollout_;
    next.set_state(v1::ROLLOUT_ABORTED);
    next.set_reason("aborted for a fleet-wide change (--force): " + reason);
    if (grpc::Status s = CommitLocked(std::move(next), &version, reason); !s.ok()) return s;
  } else if (fleet_version_ && fleet_version_->id == version.id) {
    return grpc::Status::OK;
  } else if (auto set = rollout_store_.SetFleetVersion(version.id, reason); !set) {
    return {grpc::StatusCode::INTERNAL, set.error().message};
  } else {
    fleet_version_ = std::move(version);
  }
  fleet_.Publish(fleet_version_->id, fleet_version_->config);
  PushLocked();
  return grpc::Status::OK;
}

grpc::Status RolloutEngine::Start(const v1::StartRolloutRequest& request, v1::Rollout* out) {
  std::lock_guard lock(mu_);
  if (ActiveLocked()) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            "rollout " + std::to_string(rollout_.id()) + " of " + VersionName(rollout_.version()) +
                " is already in progress (" + StateWord(rollout_.state()) + ")"};
  }
  if (!fleet_version_) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            "the fleet runs no version yet: apply one first (hermesctl apply -f FILE)"};
  }
  if (request.version() == 0) return {grpc::StatusCode::INVALID_ARGUMENT, "version: required"};
  auto target = versions_.Get(static_cast<VersionId>(request.version()));
  if (!target) {
    if (target.error().kind == StoreErrorKind::kNotFound)
      return {grpc::StatusCode::NOT_FOUND, "no version " + std::to_string(request.version())};
    return {grpc::StatusCode::INTERNAL, target.error().message};
  }
  if (target.value().id == fleet_version_->id) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            VersionName(target.value().id) + " is already the fleet's version"};
  }
  std::vector<double> percents(request.steps_percent().begin(), request.steps_percent().end());
  if (percents.empty()) percents = {10, 50, 100};
  rollout::StepsParse steps = rollout::ParseSteps(percents);
  if (!steps.error.empty()) return {grpc::StatusCode::INVALID_ARGUMENT, steps.error};
  int64_t interval = request.interval_ms() == 0 ? kDefaultInterval.count() : request.interval_ms();
  if (interval < 1000 || interval > 24 * 3600 * 1000) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "interval_ms: " + std::to_string(request.interval_ms()) + " is outside 1s..24h"};
  }
  if (interval < min_interval_.count()) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "interval_ms: " + std::to_string(interval) + " ms is shorter than the proxies' stats interval (" +
                std::to_string(min_interval_.count()) +
                " ms, hermes-controlplane --stats-interval): a step would be judged on no stats"};
  }
  double max_rate = request.set_max_error_rate() ? request.max_error_rate() : kDefaultMaxErrorRate;
  if (!std::isfinite(max_rate) || max_rate < 0 || max_rate > 1) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "max_error_rate: must be within 0..1 (0%..100%)"};
  }
  for (const auto& [key, value] : request.selector()) {
    if (key.empty()) return {grpc::StatusCode::INVALID_ARGUMENT, "selector: a key is empty"};
  }
  auto last = rollout_store_.ListRollouts(1);
  if (!last) return {grpc::StatusCode::INTERNAL, last.error().message};
  int64_t id = last.value().empty() ? 1 : last.value().front().id + 1;

  v1::Rollout r;
  r.set_id(static_cast<uint64_t>(id));
  r.set_version(static_cast<uint64_t>(target.value().id));
  r.set_previous_version(static_cast<uint64_t>(fleet_version_->id));
  *r.mutable_selector() = request.selector();
  for (double p : percents) r.add_steps_percent(p);
  r.set_interval_ms(interval);
  r.set_max_error_rate(max_rate);
  r.set_auto_promote(request.auto_promote());
  r.set_state(v1::ROLLOUT_RUNNING);
  r.set_author(By(request.author()));
  r.set_started_unix_ms(NowMs());
  r.set_step_started_unix_ms(r.started_unix_ms());
  // Nothing is kept unless the rollout is durable.
  std::optional<ConfigVersion> old_target = std::move(target_);
  std::vector<rollout::BasisPoints> old_steps = std::move(steps_);
  target_ = std::move(target).value();
  steps_ = std::move(steps.steps);
  MoveForStepLocked(r);
  if (grpc::Status s = CommitLocked(std::move(r)); !s.ok()) {
    target_ = std::move(old_target);
    steps_ = std::move(old_steps);
    return s;
  }
  no_moved_since_ms_ = 0;
  PushLocked();
  *out = rollout_;
  return grpc::Status::OK;
}

grpc::Status RolloutEngine::NextStepLocked(const std::string& why) {
  if (rollout_.step() + 1 >= steps_.size()) return CompleteLocked();
  v1::Rollout next = rollout_;
  next.set_step(next.step() + 1);
  next.set_state(v1::ROLLOUT_RUNNING);
  next.set_step_started_unix_ms(NowMs());
  next.set_reason(why);
  next.clear_gate();
  MoveForStepLocked(next);
  if (grpc::Status s = CommitLocked(std::move(next)); !s.ok()) return s;
  PushLocked();
  return grpc::Status::OK;
}

grpc::Status RolloutEngine::CompleteLocked() {
  // The selector picked the canary pool; the last step's success makes the version the fleet's.
  // The rollout's end and the fleet's new version are one transaction.
  v1::Rollout next = rollout_;
  next.set_state(v1::ROLLOUT_COMPLETED);
  next.set_reason("every step passed; " + VersionName(target_->id) + " is the fleet's version");
  const ConfigVersion target = *target_;
  if (grpc::Status s =
          CommitLocked(std::move(next), &target, "rollout " + std::to_string(rollout_.id()) + " completed");
      !s.ok())
    return s;
  fleet_.Publish(fleet_version_->id, fleet_version_->config);
  PushLocked();
  return grpc::Status::OK;
}

grpc::Status RolloutEngine::AbortLocked(const std::string& reason) {
  v1::Rollout next = rollout_;
  next.set_state(v1::ROLLOUT_ABORTED);
  next.set_reason(reason);
  grpc::Status saved = CommitLocked(next);
  if (!saved.ok()) {
    // A failing version must go whatever the store says: the proxies go back now, and Tick
    // keeps writing the abort until it is durable.
    rollout_ = std::move(next);
    dirty_ = true;
    saved = {saved.error_code(), "the rollout is aborted, but recording it failed (retrying): " +
                                     saved.error_message()};
  }
  PushLocked();
  return saved;
}

grpc::Status RolloutEngine::NoRolloutLocked() const {
  if (rollout_.id() == 0) return NoRollout();
  return {grpc::StatusCode::FAILED_PRECONDITION,
          "no rollout is in progress: rollout " + std::to_string(rollout_.id()) + " " +
              StateWord(rollout_.state()) + (rollout_.reason().empty() ? "" : " (" + rollout_.reason() + ")")};
}

grpc::Status RolloutEngine::Promote(const std::string& author, v1::Rollout* out) {
  std::lock_guard lock(mu_);
  if (!ActiveLocked()) return NoRolloutLocked();
  if (rollout_.state() == v1::ROLLOUT_PAUSED) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            "rollout " + std::to_string(rollout_.id()) + " is paused: resume it first (hermesctl rollout resume)"};
  }
  if (rollout_.state() != v1::ROLLOUT_WAITING) {
    const std::string why = rollout_.gate().at_unix_ms() == 0 ? "not evaluated yet" : rollout_.gate().failure();
    return {grpc::StatusCode::FAILED_PRECONDITION,
            "step " + std::to_string(rollout_.step() + 1) + " of rollout " + std::to_string(rollout_.id()) +
                " has not passed its gate yet (" + why + "); promote follows a passed gate"};
  }
  if (auto s = NextStepLocked("promoted by " + By(author)); !s.ok()) return s;
  *out = rollout_;
  return grpc::Status::OK;
}

grpc::Status RolloutEngine::Pause(const std::string& author, const std::string& reason,
                                  v1::Rollout* out) {
  std::lock_guard lock(mu_);
  if (!ActiveLocked()) return NoRolloutLocked();
  if (rollout_.state() != v1::ROLLOUT_PAUSED) {
    v1::Rollout next = rollout_;
    SyncMovedLocked(next);
    next.set_state(v1::ROLLOUT_PAUSED);
    next.set_reason("paused by " + By(author) + (reason.empty() ? "" : ": " + reason));
    if (grpc::Status s = CommitLocked(std::move(next)); !s.ok()) return s;
    PushLocked();
  }
  *out = rollout_;
  return grpc::Status::OK;
}

grpc::Status RolloutEngine::Resume(const std::string& author, v1::Rollout* out) {
  std::lock_guard lock(mu_);
  if (!ActiveLocked()) return NoRolloutLocked();
  if (rollout_.state() != v1::ROLLOUT_PAUSED) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            "rollout " + std::to_string(rollout_.id()) + " is not paused (" +
                StateWord(rollout_.state()) + ")"};
  }
  // The step's interval starts again: its gate judges traffic seen since the resume.
  v1::Rollout next = rollout_;
  next.set_state(v1::ROLLOUT_RUNNING);
  next.set_step_started_unix_ms(NowMs());
  next.set_reason("resumed by " + By(author));
  next.clear_gate();
  MoveForStepLocked(next);
  if (grpc::Status s = CommitLocked(std::move(next)); !s.ok()) return s;
  no_moved_since_ms_ = 0;
  PushLocked();
  *out = rollout_;
  return grpc::Status::OK;
}

grpc::Status RolloutEngine::Abort(const std::string& author, const std::string& reason,
                                  v1::Rollout* out) {
  std::lock_guard lock(mu_);
  if (!ActiveLocked()) return NoRolloutLocked();
  grpc::Status s = AbortLocked("aborted by " + By(author) + (reason.empty() ? "" : ": " + reason));
  *out = rollout_;
  return s;
}

grpc::Status RolloutEngine::Get(uint64_t id, v1::Rollout* out) const {
  std::lock_guard lock(mu_);
  if ((id == 0 && ActiveLocked()) || (id != 0 && id == rollout_.id())) {
    *out = rollout_;
    FillProxiesLocked(*out);
    return grpc::Status::OK;
  }
  auto all = rollout_store_.ListRollouts(id == 0 ? 1 : SIZE_MAX);
  if (!all) return {grpc::StatusCode::INTERNAL, all.error().message};
  for (const RolloutRecord& record : all.value()) {
    if (id != 0 && static_cast<uint64_t>(record.id) != id) continue;
    if (!out->ParseFromString(record.rollout))
      return {grpc::StatusCode::INTERNAL, "rollout " + std::to_string(record.id) + ": stored state does not parse"};
    return grpc::Status::OK;
  }
  return {grpc::StatusCode::NOT_FOUND,
          id == 0 ? "no rollout has been started" : "no rollout " + std::to_string(id)};
}

grpc::Status RolloutEngine::List(std::size_t limit, std::vector<v1::Rollout>* out) const {
  std::lock_guard lock(mu_);
  auto all = rollout_store_.ListRollouts(limit);
  if (!all) return {grpc::StatusCode::INTERNAL, all.error().message};
  for (const RolloutRecord& record : all.value()) {
    v1::Rollout r;
    if (!r.ParseFromString(record.rollout))
      return {grpc::StatusCode::INTERNAL, "rollout " + std::to_string(record.id) + ": stored state does not parse"};
    if (r.id() == rollout_.id()) r = rollout_;  // the live gate values
    out->push_back(std::move(r));
  }
  return grpc::Status::OK;
}

void RolloutEngine::FillProxiesLocked(v1::Rollout& out) const {
  out.clear_proxies();
  if (!ActiveLocked() || out.id() != rollout_.id()) return;
  rollout::Selector selector(rollout_.selector().begin(), rollout_.selector().end());
  std::map<std::string, StreamStatus> by_id;
  for (StreamStatus& s : fleet_.Proxies()) {
    if (!rollout::Selects(selector, s.node)) continue;
    auto [it, fresh] = by_id.try_emplace(s.node.id(), s);
    if (!fresh && s.connected && !it->second.connected) it->second = s;
  }
  std::vector<std::string> ids;
  for (const auto& [id, _] : by_id) ids.push_back(id);
  std::sort(ids.begin(), ids.end(), rollout::CanaryBefore);
  std::set<std::string> moved(rollout_.moved().begin(), rollout_.moved().end());
  for (const std::string& id : ids) {
    const StreamStatus& s = by_id[id];
    v1::RolloutProxy& p = *out.add_proxies();
    p.set_node(id);
    p.set_connected(s.connected);
    p.set_target_version(static_cast<uint64_t>(
        moved.contains(id) ? rollout_.version() : rollout_.previous_version()));
    p.set_running_version(static_cast<uint64_t>(s.running_version));
    v1::SyncState state = !s.connected ? v1::DISCONNECTED
                          : (s.last_nack && s.last_nack_config_version == static_cast<int64_t>(p.target_version()) &&
                             s.running_version != static_cast<int64_t>(p.target_version()))
                              ? v1::NACKED
                          : s.running_version == static_cast<int64_t>(p.target_version()) ? v1::SYNCED
                                                                                            : v1::STALE;
    p.set_state(state);
  }
}

void RolloutEngine::Tick() {
  std::lock_guard lock(mu_);
  if (dirty_) (void)CommitLocked(rollout_);  // an abort the store refused, written again
  if (!ActiveLocked() || rollout_.state() == v1::ROLLOUT_PAUSED) return;
  // Proxies the discovery server moved as they connected.
  v1::Rollout synced = rollout_;
  SyncMovedLocked(synced);
  if (synced.moved_size() != rollout_.moved_size()) (void)CommitLocked(std::move(synced));
  EvaluateLocked();
}

void RolloutEngine::EvaluateLocked() {
  const int64_t now = NowMs();
  const int64_t age_ms = std::max<int64_t>(0, now - rollout_.step_started_unix_ms());
  const std::set<std::string> moved(rollout_.moved().begin(), rollout_.moved().end());
  const rollout::Selector selector(rollout_.selector().begin(), rollout_.selector().end());
  const auto version = static_cast<int64_t>(rollout_.version());
  // Only the moved proxies' streams are copied: this runs 4 times a second over every stream.
  const Fleet::GateView view = fleet_.ViewForGate(selector, moved);

  // One status per node: its newest connected stream (an old stream of a restarted proxy may
  // linger until its connection times out).
  std::map<std::string, const StreamStatus*> nodes;
  for (const StreamStatus& s : view.moved) {
    if (!s.connected) continue;
    const StreamStatus*& best = nodes[s.node.id()];
    if (!best || s.connected_since > best->connected_since) best = &s;
  }

  rollout::GateInput in;
  in.max_error_rate = rollout_.max_error_rate();
  in.interval_passed = age_ms >= rollout_.interval_ms();
  for (const auto& [id, s] : nodes) {
    if (s->last_nack && s->last_nack_config_version == version && !s->in_sync) {
      in.nacked.push_back(id);
    } else if (s->running_version == version && s->in_sync) {
      ++in.acked;
    } else if (now - std::max({rollout_.step_started_unix_ms(), UnixMs(s->connected_since),
                               UnixMs(s->target_since)}) >= rollout_.interval_ms()) {
      ++in.overdue;  // a proxy just moved or reconnected gets its own interval
    }
  }
  in.moved_connected = nodes.size();
  // The window: the step's age, whole seconds, up to its interval. The rest of the fleet is
  // every other proxy that reported in it.
  int64_t window_s = std::clamp<int64_t>((std::min(age_ms, rollout_.interval_ms()) + 999) / 1000, 1,
                                         (rollout_.interval_ms() + 999) / 1000);
  if (traffic_) std::tie(in.step, in.rest) = traffic_(std::chrono::seconds(window_s), moved);
  rollout::GateVerdict verdict = rollout::Evaluate(in);
  // Every moved proxy gone for a whole interval (replaced under other ids, say): nothing can
  // pass this step and nothing would end it.
  if (in.moved_connected == 0) {
    if (no_moved_since_ms_ == 0) no_moved_since_ms_ = now;
    if (now - no_moved_since_ms_ >= rollout_.interval_ms()) {
      verdict.abort = true;
      verdict.failure = "no moved proxy has been connected for a whole interval";
    }
  } else {
    no_moved_since_ms_ = 0;
  }

  v1::RolloutGate& gate = *rollout_.mutable_gate();
  gate.set_at_unix_ms(now);
  gate.set_passed(verdict.ready);
  gate.set_failure(verdict.failure);
  gate.set_window_seconds(static_cast<uint32_t>(window_s));
  gate.set_proxies(static_cast<uint32_t>(in.moved_connected));
  gate.set_acked(static_cast<uint32_t>(in.acked));
  gate.set_nacked(static_cast<uint32_t>(in.nacked.size()));
  gate.set_requests(in.step.requests);
  gate.set_errors(in.step.errors);
  gate.set_error_rate(in.step.rate());
  gate.set_rest_requests(in.rest.requests);
  gate.set_rest_errors(in.rest.errors);
  gate.set_rest_error_rate(in.rest.rate());
  rollout_.set_selected_proxies(static_cast<uint32_t>(view.selected_streams));
  rollout_.set_step_target(static_cast<uint32_t>(
      rollout::StepTarget(steps_[rollout_.step()], rollout_.selected_proxies())));

  if (verdict.abort) {
    char step[64];
    std::snprintf(step, sizeof step, "gate failed at step %u (%g%%): ", rollout_.step() + 1,
                  rollout_.steps_percent(static_cast<int>(rollout_.step())));
    (void)AbortLocked(step + verdict.failure);
    return;
  }
  if (!verdict.ready || rollout_.state() != v1::ROLLOUT_RUNNING) return;
  if (rollout_.auto_promote()) {
    (void)NextStepLocked("step " + std::to_string(rollout_.step() + 1) + " passed its gate");
  } else {
    v1::Rollout next = rollout_;
    next.set_state(v1::ROLLOUT_WAITING);
    bool last = next.step() + 1 >= steps_.size();
    next.set_reason("step " + std::to_string(next.step() + 1) + " passed its gate: " +
                    (last ? "hermesctl rollout promote makes the version the fleet's"
                          : "waiting for hermesctl rollout promote"));
    (void)CommitLocked(std::move(next));
  }
}

}  // namespace hermes::controlplane
