// Compiles the settings of one listener (limits, timeouts, trusted proxies, path options).
#pragma once

#include "dataplane/config/snapshot.h"
#include "hermes/v1/config.pb.h"

namespace hermes::dataplane {

// A listener with defaults applied and valid.
ListenerSettings CompileListener(const hermes::v1::Listener& listener, StatsStore& stats);

}  // namespace hermes::dataplane
