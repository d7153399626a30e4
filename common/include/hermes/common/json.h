// Minimal JSON text helpers for the admin endpoints (shapes are small and fixed).
#pragma once

#include <string>
#include <string_view>

namespace hermes {

// Appends `s` as a JSON string literal, quotes included.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace hermes
