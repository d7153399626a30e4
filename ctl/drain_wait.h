// `drain NODE --wait`: after DrainProxy, poll the proxy list until the node has drained, the
// wait times out, or the node disconnects.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <ostream>
#include <string>

#include "ctl/command_line.h"
#include "ctl/watch.h"
#include "hermes/common/clock.h"
#include "hermes/v1/admin.pb.h"

namespace hermes::ctl {

// How often --wait asks the control plane.
inline constexpr std::chrono::milliseconds kDrainPollInterval{500};

struct DrainWait {
  std::string node;
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
  OutputFormat format = OutputFormat::kTable;
};

// One ListProxies answer; nullopt when the call failed (and the caller has said why).
using ListProxiesCall = std::function<std::optional<v1::ListProxiesResponse>()>;

// Starts from DrainProxy's answer `proxy`. Exit 0 once the node is DRAINED; 1 when it
// disconnects first, when `timeout` passes on `clock`, on Ctrl-C, or when a call fails. A table
// prints "draining NODE: N connections open" at the start and whenever N changes, then "drained
// NODE"; -o json|yaml prints one document with the proxy as last seen when the wait ends.
int WaitForDrain(const DrainWait& wait, const v1::Proxy& proxy, const ListProxiesCall& list,
                 Waiter& waiter, const Clock& clock, std::ostream& out, std::ostream& err);

}  // namespace hermes::ctl
