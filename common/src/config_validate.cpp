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
  // A short key could be found from observed ids by brute force (the value is never echoed).
  if (!config.sticky_secret().empty() && config.sticky_secret().size() < 16)
    errors.push_back({"sticky_secret", "must be at least 16 bytes long", ""});
  return errors;
}

}  // namespace hermes::config
