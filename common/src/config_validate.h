// Validation of each part of a Config; Validate() (config.h) runs them all.
#pragma once

#include <vector>

#include "hermes/common/config.h"

namespace hermes::config {

std::vector<ConfigError> ValidateListeners(const v1::Config& config);  // and the admin address
std::vector<ConfigError> ValidateRoutes(const v1::Config& config);
std::vector<ConfigError> ValidateClusters(const v1::Config& config);

}  // namespace hermes::config
