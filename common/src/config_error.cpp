// How a config error reads to a user: "file.yaml:12:5: clusters[1].health_check.interval: ...".
#include "hermes/common/config.h"

namespace hermes::config {

std::string ConfigError::ToString() const {
  std::string text;
  if (!location.empty()) text += location + ": ";
  if (!path.empty()) text += path + ": ";
  return text + message;
}

}  // namespace hermes::config
