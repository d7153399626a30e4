#include "dataplane/config/resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>

namespace hermes::dataplane {

std::vector<tcp::endpoint> SystemLookup::Lookup(const HostPort& hp) {
  std::vector<tcp::endpoint> out;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  if (::getaddrinfo(hp.host.c_str(), nullptr, &hints, &res) != 0) return out;
  for (auto* ai = res; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    tcp::endpoint ep;
    std::memcpy(ep.data(), ai->ai_addr, ai->ai_addrlen);
    ep.port(hp.port);
    if (std::find(out.begin(), out.end(), ep) == out.end()) out.push_back(ep);
  }
  ::freeaddrinfo(res);
  return out;
}

bool NeedsLookup(const std::string& address) {
  auto hp = ParseHostPort(address);
  if (!hp || hp->host.empty()) return false;
  boost::system::error_code ec;
  (void)asio::ip::make_address(hp->host, ec);
  return static_cast<bool>(ec);
}

AsyncResolver::AsyncResolver(std::shared_ptr<HostLookup> lookup, std::function<void()> changed,
                             std::size_t max_queued)
    : lookup_(std::move(lookup)),
      changed_(std::move(changed)),
      max_queued_(max_queued),
      thread_([this] { Run(); }) {}

AsyncResolver::~AsyncResolver() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::size_t AsyncResolver::Resolve(const std::vector<std::string>& addresses) {
  return Enqueue(addresses, /*again=*/false);
}

std::size_t AsyncResolver::Refresh(const std::vector<std::string>& addresses) {
  {
    std::lock_guard lock(mu_);
    std::unordered_set<std::string_view> wanted(addresses.begin(), addresses.end());
    bool stale = std::any_of(hosts_->entries.begin(), hosts_->entries.end(),
                             [&](const auto& e) { return !wanted.contains(e.first); });
    if (stale) {
      auto next = std::make_shared<ResolvedHosts>(*hosts_);
      std::erase_if(next->entries, [&](const auto& e) { return !wanted.contains(e.first); });
      hosts_ = std::move(next);
    }
  }
  return Enqueue(addresses, /*again=*/true);
}

std::size_t AsyncResolver::Enqueue(const std::vector<std::string>& addresses, bool again) {
  std::size_t refused = 0;
  bool added = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& address : addresses) {
      if (queued_.contains(address) || !NeedsLookup(address)) continue;
      if (!again && hosts_->Find(address)) continue;
      if (queue_.size() >= max_queued_) {
        ++refused;
        continue;
      }
      queue_.push_back(address);
      queued_.insert(address);
      added = true;
    }
  }
  if (added) wake_.notify_one();
  return refused;
}

std::shared_ptr<const ResolvedHosts> AsyncResolver::hosts() const {
  std::lock_guard lock(mu_);
  return hosts_;
}

std::size_t AsyncResolver::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void AsyncResolver::Publish(
    std::vector<std::pair<std::string, std::vector<tcp::endpoint>>>& answers) {
  bool changed = false;
  {
    std::lock_guard lock(mu_);
    std::shared_ptr<ResolvedHosts> next;
    for (auto& [address, addrs] : answers) {
      queued_.erase(address);
      if (addrs.empty()) continue;  // a failed lookup keeps the last answer
      const auto* before = (next ? next.get() : hosts_.get())->Find(address);
      if (before && *before == addrs) continue;
      if (!next) next = std::make_shared<ResolvedHosts>(*hosts_);
      next->entries[address] = std::move(addrs);
    }
    if (next) {
      hosts_ = std::move(next);
      changed = true;
    }
  }
  answers.clear();
  if (changed && changed_) changed_();
}

void AsyncResolver::Run() {
  std::vector<std::pair<std::string, std::vector<tcp::endpoint>>> answers;
  for (;;) {
    std::string address;
    {
      std::unique_lock lock(mu_);
      if (queue_.empty() && !answers.empty()) {
        lock.unlock();
        Publish(answers);
        lock.lock();
      }
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      address = std::move(queue_.front());
      queue_.pop_front();
    }
    auto hp = ParseHostPort(address);
    std::vector<tcp::endpoint> addrs = hp ? lookup_->Lookup(*hp) : std::vector<tcp::endpoint>{};
    answers.emplace_back(std::move(address), std::move(addrs));
    if (answers.size() >= kPublishEvery) Publish(answers);
  }
}

}  // namespace hermes::dataplane
