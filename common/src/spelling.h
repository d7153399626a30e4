// "Did you mean ...?" suggestions for misspelt config keys.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hermes::config {

// The candidate closest to `word` by edit distance (ignoring case), if it is close enough to be a
// likely typo: at most one edit per three characters, and never more than three.
std::optional<std::string> ClosestName(std::string_view word,
                                       const std::vector<std::string>& candidates);

}  // namespace hermes::config
