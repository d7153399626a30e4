// hermesctl's help texts: the overview and one page per command and subcommand, each with
// examples.
#pragma once

#include <string>
#include <string_view>

namespace hermes::ctl {

// The overview for an empty `command`, else that command's page ("" for an unknown command).
std::string HelpText(std::string_view command);

// What stderr gets for a usage error: the error, then the usage of `command` (or the overview).
std::string UsageErrorText(std::string_view error, std::string_view command);

std::string VersionText();

}  // namespace hermes::ctl
