#include "ctl/drain_wait.h"

#include "ctl/render.h"
#include "hermes/common/duration.h"

namespace hermes::ctl {
namespace {

const v1::Proxy* FindProxy(const v1::ListProxiesResponse& response, const std::string& node) {
  for (const auto& p : response.proxies()) {
    if (p.node().id() == node) return &p;
  }
  return nullptr;
}

std::string Open(const v1::Proxy& p) {
  const int64_t n = p.active_connections();
  return std::to_string(n) + (n == 1 ? " connection" : " connections");
}

}  // namespace

int WaitForDrain(const DrainWait& wait, const v1::Proxy& proxy, const ListProxiesCall& list,
                 Waiter& waiter, const Clock& clock, std::ostream& out, std::ostream& err) {
  const bool table = wait.format == OutputFormat::kTable;
  v1::Proxy last = proxy;
  // Ends the wait: a document shows the proxy as last seen; a failure says why on stderr.
  const auto end = [&](int exit_code, const std::string& why) {
    if (!table) out << Document(DrainDocument(last), wait.format);
    if (!why.empty()) err << "hermesctl: " << why << "\n";
    return exit_code;
  };

  if (table) out << DrainLine(last) << std::flush;
  const auto deadline = clock.Now() + wait.timeout;
  while (last.drain() != v1::DRAINED) {
    if (!waiter.Wait(kDrainPollInterval)) {
      return end(1,
                 "stopped waiting; " + wait.node + " is still draining (" + Open(last) + " open)");
    }
    const std::optional<v1::ListProxiesResponse> answer = list();
    if (!answer) return 1;
    const v1::Proxy* now = FindProxy(*answer, wait.node);
    if (now && now->drain() == v1::DRAINED) {
      last = *now;
      break;
    }
    if (!now || now->state() == v1::DISCONNECTED) {
      if (now) last = *now;
      return end(1, wait.node + " disconnected before it drained, with " + Open(last) + " open");
    }
    if (table && now->active_connections() != last.active_connections()) {
      out << DrainLine(*now) << std::flush;
    }
    last = *now;
    if (clock.Now() >= deadline) {
      return end(1, wait.node + " is still draining after " + FormatDuration(wait.timeout) + " (" +
                        Open(last) + " open); wait longer with --wait-timeout");
    }
  }
  if (table && proxy.drain() != v1::DRAINED) out << DrainLine(last);
  return end(0, "");
}

}  // namespace hermes::ctl
