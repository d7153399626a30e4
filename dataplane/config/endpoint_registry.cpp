#include "dataplane/config/endpoint_registry.h"

namespace hermes::dataplane {

EndpointTotals EndpointState::Totals() const {
  EndpointTotals t = earlier;
  for (const auto& shard : shards) t.Add(shard);
  return t;
}

std::shared_ptr<EndpointState> EndpointStateRegistry::Get(const std::string& cluster,
                                                          const std::string& address) {
  std::string key = cluster + "/" + address;
  if (auto it = states_.find(key); it != states_.end()) return it->second;
  EndpointTotals earlier;
  if (auto retired = retired_.find(key); retired != retired_.end()) {
    earlier = retired->second->second;
    retired_order_.erase(retired->second);
    retired_.erase(retired);
  }
  auto state = std::make_shared<EndpointState>(workers_, earlier);
  states_.emplace(std::move(key), state);
  return state;
}

std::shared_ptr<ClusterState> EndpointStateRegistry::GetCluster(const std::string& cluster) {
  auto [it, inserted] = clusters_.try_emplace(cluster);
  if (inserted) it->second = std::make_shared<ClusterState>();
  return it->second;
}

void EndpointStateRegistry::Prune() {
  std::erase_if(states_, [this](const auto& e) {
    if (e.second.use_count() != 1) return false;
    // The last other owner let go with a release decrement: after this fence its workers'
    // counter writes are visible here.
    std::atomic_thread_fence(std::memory_order_acquire);
    retired_order_.emplace_back(e.first, e.second->Totals());
    retired_[e.first] = std::prev(retired_order_.end());
    return true;
  });
  while (retired_order_.size() > max_retired_) {
    retired_.erase(retired_order_.front().first);
    retired_order_.pop_front();
  }
  std::erase_if(clusters_, [](const auto& e) { return e.second.use_count() == 1; });
}

}  // namespace hermes::dataplane
