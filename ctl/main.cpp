// hermesctl: the operator's CLI for the control plane. Parses the command line and dispatches.
#include <iostream>
#include <string>
#include <vector>

#include "ctl/command_line.h"
#include "ctl/commands.h"
#include "ctl/usage.h"

int main(int argc, char** argv) {
  using namespace hermes::ctl;
  const std::vector<std::string> args(argv + 1, argv + argc);
  const ParseResult parsed = ParseCommandLine(args, Environment::FromProcess());
  if (!parsed.error.empty()) {
    std::cerr << UsageErrorText(parsed.error, parsed.invocation.command);
    return 2;
  }
  return Dispatch(parsed.invocation, std::cout, std::cerr);
}
