#include "ctl/table.h"

#include <algorithm>

namespace hermes::ctl {
namespace {

bool IsContinuationByte(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

constexpr std::string_view kColumnGap = "   ";

}  // namespace

size_t DisplayWidth(std::string_view text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return !IsContinuationByte(c); }));
}

std::string Truncate(std::string_view text, size_t max_width) {
  std::string line(text);
  std::replace_if(
      line.begin(), line.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  if (DisplayWidth(line) <= max_width) return line;
  constexpr std::string_view kEllipsis = "...";
  if (max_width <= kEllipsis.size()) return std::string(kEllipsis.substr(0, max_width));
  // Keep max_width - 3 code points.
  size_t keep = max_width - kEllipsis.size();
  size_t end = 0;
  while (end < line.size()) {
    if (!IsContinuationByte(line[end])) {
      if (keep == 0) break;
      --keep;
    }
    ++end;
  }
  return line.substr(0, end) + std::string(kEllipsis);
}

std::string RenderTable(const Table& table) {
  std::vector<size_t> widths(table.headers.size(), 0);
  const auto measure = [&](const std::vector<std::string>& row) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c]));
    }
  };
  measure(table.headers);
  for (const auto& row : table.rows) measure(row);

  std::string out;
  const auto render = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t c = 0; c < widths.size(); ++c) {
      const std::string_view cell = c < row.size() ? std::string_view(row[c]) : "";
      if (c > 0) line += kColumnGap;
      line += cell;
      if (c + 1 < widths.size()) line.append(widths[c] - DisplayWidth(cell), ' ');
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line;
    out += '\n';
  };
  render(table.headers);
  for (const auto& row : table.rows) render(row);
  return out;
}

}  // namespace hermes::ctl
