// Validate: every error in a config with defaults applied, in the order of the schema.
#include "config_validate.h"

namespace hermes::config {

std::vector<ConfigError> Validate(const v1::Config& config) {
  std::vector<ConfigError> errors;
  for (auto* validate : {&ValidateListeners, &ValidateRoutes, &ValidateClusters}) {
    std::vector<ConfigError> found = validate(config);
    errors.insert(errors.end(), std::make_move_iterator(found.begin()),
                  std::make_move_iterator(found.end()));
  }
  return errors;
}

}  // namespace hermes::config
