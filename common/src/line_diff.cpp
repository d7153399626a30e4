// LineDiff: Myers, "An O(ND) Difference Algorithm and Its Variations" (1986), section 4b: the
// middle snake found from both ends in linear space, then both halves alone.
#include "hermes/common/line_diff.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

namespace hermes::config {
namespace {

constexpr std::size_t kContext = 3;

using Lines = std::vector<std::string_view>;

Lines SplitLines(std::string_view text) {
  Lines lines;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

// Marks which lines of `a` are removed and which of `b` added by a shortest edit script.
class EditScript {
 public:
  EditScript(const Lines& a, const Lines& b)
      : a_(a), b_(b), removed_(a.size(), false), added_(b.size(), false) {
    const std::size_t diagonals = a.size() + b.size() + 3;
    offset_ = static_cast<std::ptrdiff_t>(diagonals / 2 + 1);
    forward_.resize(2 * static_cast<std::size_t>(offset_) + 1);
    backward_.resize(forward_.size());
  }

  // false when more than `max_edits` lines are removed plus added (then nothing is marked).
  bool Compute(std::size_t max_edits) { return Compare(0, a_.size(), 0, b_.size(), max_edits); }

  const std::vector<bool>& removed() const { return removed_; }
  const std::vector<bool>& added() const { return added_; }

 private:
  struct Split {
    std::size_t x, y;  // a point on a shortest path from (x0, y0) to (x1, y1)
  };

  // Edits a[x0, x1) into b[y0, y1). `max_edits` bounds the search of this range only.
  bool Compare(std::size_t x0, std::size_t x1, std::size_t y0, std::size_t y1,
               std::size_t max_edits) {
    while (x0 < x1 && y0 < y1 && a_[x0] == b_[y0]) ++x0, ++y0;
    while (x0 < x1 && y0 < y1 && a_[x1 - 1] == b_[y1 - 1]) --x1, --y1;
    if (x0 == x1 || y0 == y1) {
      if ((x1 - x0) + (y1 - y0) > max_edits) return false;
      std::fill(removed_.begin() + static_cast<std::ptrdiff_t>(x0),
                removed_.begin() + static_cast<std::ptrdiff_t>(x1), true);
      std::fill(added_.begin() + static_cast<std::ptrdiff_t>(y0),
                added_.begin() + static_cast<std::ptrdiff_t>(y1), true);
      return true;
    }
    std::optional<Split> split = MiddleSnake(x0, x1, y0, y1, max_edits);
    if (!split) return false;
    // Both halves are strictly smaller (the split is neither end), and their edits are the
    // whole's, already within the bound.
    return Compare(x0, split->x, y0, split->y, max_edits) &&
           Compare(split->x, x1, split->y, y1, max_edits);
  }

  // Both ranges non-empty, first and last lines differing. Returns the start of the middle
  // snake, or nullopt when the shortest path has more than `max_edits` edits.
  std::optional<Split> MiddleSnake(std::size_t x0, std::size_t x1, std::size_t y0, std::size_t y1,
                                   std::size_t max_edits) {
    const auto n = static_cast<std::ptrdiff_t>(x1 - x0);
    const auto m = static_cast<std::ptrdiff_t>(y1 - y0);
    const std::ptrdiff_t delta = n - m;
    const bool odd = (delta & 1) != 0;
    const std::ptrdiff_t max_d =
        std::min<std::ptrdiff_t>((n + m + 1) / 2, static_cast<std::ptrdiff_t>(max_edits / 2 + 1));
    // forward_[k]: the furthest x on diagonal k = x - y from (0, 0); backward_[k]: the furthest
    // distance back from (n, m) on diagonal k = (n - x) - (m - y).
    auto f = [&](std::ptrdiff_t k) -> std::ptrdiff_t& { return forward_[offset_ + k]; };
    auto r = [&](std::ptrdiff_t k) -> std::ptrdiff_t& { return backward_[offset_ + k]; };
    auto same = [&](std::ptrdiff_t x, std::ptrdiff_t y) {
      return a_[x0 + static_cast<std::size_t>(x)] == b_[y0 + static_cast<std::size_t>(y)];
    };
    f(1) = 0;
    r(1) = 0;
    for (std::ptrdiff_t d = 0; d <= max_d; ++d) {
      for (std::ptrdiff_t k = -d; k <= d; k += 2) {
        std::ptrdiff_t x = (k == -d || (k != d && f(k - 1) < f(k + 1))) ? f(k + 1) : f(k - 1) + 1;
        std::ptrdiff_t y = x - k;
        const Split start{x0 + static_cast<std::size_t>(x), y0 + static_cast<std::size_t>(y)};
        while (x < n && y < m && same(x, y)) ++x, ++y;
        f(k) = x;
        const std::ptrdiff_t back = delta - k;
        if (odd && back >= -(d - 1) && back <= d - 1 && f(k) + r(back) >= n) {
          if (static_cast<std::size_t>(2 * d - 1) > max_edits) return std::nullopt;
          return start;
        }
      }
      for (std::ptrdiff_t k = -d; k <= d; k += 2) {
        std::ptrdiff_t x = (k == -d || (k != d && r(k - 1) < r(k + 1))) ? r(k + 1) : r(k - 1) + 1;
        std::ptrdiff_t y = x - k;
        const Split start{x1 - static_cast<std::size_t>(x), y1 - static_cast<std::size_t>(y)};
        while (x < n && y < m && same(n - x - 1, m - y - 1)) ++x, ++y;
        r(k) = x;
        const std::ptrdiff_t ahead = delta - k;
        if (!odd && ahead >= -d && ahead <= d && r(k) + f(ahead) >= n) {
          if (static_cast<std::size_t>(2 * d) > max_edits) return std::nullopt;
          return start;
        }
      }
    }
    return std::nullopt;  // more than max_edits
  }

  const Lines& a_;
  const Lines& b_;
  std::vector<bool> removed_;
  std::vector<bool> added_;
  std::ptrdiff_t offset_ = 0;
  std::vector<std::ptrdiff_t> forward_;
  std::vector<std::ptrdiff_t> backward_;
};

// "-3,4", "+7" (one line), "-2,0" (none: the line before).
std::string Range(char sign, std::size_t first, std::size_t count) {
  std::string out(1, sign);
  out += std::to_string(count == 0 ? first : first + 1);
  if (count != 1) out += "," + std::to_string(count);
  return out;
}

}  // namespace

std::string LineDiff(std::string_view from, std::string_view to, std::string_view from_name,
                     std::string_view to_name) {
  if (from == to) return "";
  const Lines a = SplitLines(from);
  const Lines b = SplitLines(to);
  EditScript script(a, b);
  std::string out = "--- " + std::string(from_name) + "\n+++ " + std::string(to_name) + "\n";
  if (!script.Compute(kMaxDiffLines)) {
    return out + "diff not shown: more than " + std::to_string(kMaxDiffLines) + " lines differ\n";
  }

  // The script as lines: ' ' both, '-' only a, '+' only b; removals first in each change.
  struct Edit {
    char op;
    std::size_t i, j;  // the next line of a and of b at this edit
  };
  std::vector<Edit> edits;
  edits.reserve(a.size() + b.size());
  for (std::size_t i = 0, j = 0; i < a.size() || j < b.size();) {
    if (i < a.size() && script.removed()[i]) {
      edits.push_back({'-', i++, j});
    } else if (j < b.size() && script.added()[j]) {
      edits.push_back({'+', i, j++});
    } else {
      edits.push_back({' ', i++, j++});
    }
  }

  bool changed = false;
  for (std::size_t k = 0; k < edits.size();) {
    if (edits[k].op == ' ') {
      ++k;
      continue;
    }
    changed = true;
    // A hunk: from kContext lines before this change to kContext after the last change that
    // follows within 2 * kContext unchanged lines.
    const std::size_t begin = k >= kContext ? k - kContext : 0;
    std::size_t last = k;
    for (std::size_t x = k + 1, unchanged = 0; x < edits.size() && unchanged <= 2 * kContext; ++x) {
      if (edits[x].op == ' ') {
        ++unchanged;
      } else {
        last = x;
        unchanged = 0;
      }
    }
    const std::size_t end = std::min(edits.size(), last + kContext + 1);
    std::size_t from_count = 0, to_count = 0;
    for (std::size_t x = begin; x < end; ++x) {
      if (edits[x].op != '+') ++from_count;
      if (edits[x].op != '-') ++to_count;
    }
    out += "@@ " + Range('-', edits[begin].i, from_count) + " " +
           Range('+', edits[begin].j, to_count) + " @@\n";
    for (std::size_t x = begin; x < end; ++x) {
      out += edits[x].op;
      out.append(edits[x].op == '+' ? b[edits[x].j] : a[edits[x].i]).append("\n");
    }
    k = end;
  }
  return changed ? out : "";
}

}  // namespace hermes::config
