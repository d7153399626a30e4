// `hermesctl completion bash`: a bash completion script generated from the command table, so
// it offers exactly the commands and flags the parser takes.
#pragma once

#include <string>

namespace hermes::ctl {

// The script; `source <(hermesctl completion bash)` loads it.
std::string BashCompletion();

}  // namespace hermes::ctl
