// The config's `health_check` block as the checker's ProbeSpec: one conversion for the control
// plane (which checks the fleet's backends) and a standalone hermes (which checks its own).
#pragma once

#include "hermes/common/health_checker.h"
#include "hermes/v1/config.pb.h"

namespace hermes::health {

// `check` is validated, defaults applied.
ProbeSpec ProbeSpecFrom(const v1::HealthCheck& check);

}  // namespace hermes::health
