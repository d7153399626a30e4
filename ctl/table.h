// Plain aligned text tables: every column as wide as its widest cell, three spaces between
// columns, no trailing spaces.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hermes::ctl {

struct Table {
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;  // each as many cells as headers
};

std::string RenderTable(const Table& table);

// Columns on a terminal: UTF-8 code points (continuation bytes take no column).
size_t DisplayWidth(std::string_view text);

// One line of at most `max_width` columns: line breaks become spaces, and a longer text keeps
// its start and ends in "...". Never splits a UTF-8 sequence.
std::string Truncate(std::string_view text, size_t max_width);

}  // namespace hermes::ctl
