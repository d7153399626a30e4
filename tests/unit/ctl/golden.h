// Golden files: the hand-written expected output of hermesctl's commands, one file per command
// and format in tests/unit/ctl/golden/. A test renders a fixed response and compares exactly.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace hermes::ctl {

inline std::string Golden(const std::string& name) {
  const std::string path = std::string(HERMES_SOURCE_DIR) + "/tests/unit/ctl/golden/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read golden file " << path;
    return "";
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace hermes::ctl
