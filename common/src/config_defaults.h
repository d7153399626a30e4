// Documented defaults (config.proto comments) that more than one file needs.
#pragma once

#include <string_view>

namespace hermes::config {

inline constexpr std::string_view kDefaultListenAddress = ":8080";
inline constexpr std::string_view kDefaultAdminAddress = "127.0.0.1:8081";

}  // namespace hermes::config
