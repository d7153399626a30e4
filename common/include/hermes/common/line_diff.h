// A unified diff of two texts by lines, as `diff -u` prints it: what `hermesctl diff` and an
// apply's dry run show of two stored configs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace hermes::config {

// The most lines LineDiff shows as removed plus added. The diff's cost grows with the number of
// changed lines times the texts' length, and it runs under the control plane's apply lock.
inline constexpr std::size_t kMaxDiffLines = 2000;

// "--- <from_name>\n+++ <to_name>\n" then hunks, each "@@ -a,b +c,d @@" (",1" left out, and an
// empty range numbered from the line before it, as diff -u does) with up to 3 lines of context
// (" "), removals ("-") before additions ("+"). "" when the texts have the same lines. More than
// kMaxDiffLines changed lines: the two header lines and "diff not shown: more than 2000 lines
// differ\n". Time O((n + m) * d), memory O(n + m), for n and m lines and d changed ones
// (Myers' O(ND) algorithm with its linear-space refinement).
std::string LineDiff(std::string_view from, std::string_view to, std::string_view from_name,
                     std::string_view to_name);

}  // namespace hermes::config
