#include "hermes/common/daemon_flags.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace hermes::flags {
namespace {

// "-config" -> "--config"; "-c", "--config", "-" and negative numbers stay as they are.
std::string DoubleDashed(const std::string& arg) {
  if (arg.size() > 2 && arg[0] == '-' && arg[1] != '-' &&
      !std::isdigit(static_cast<unsigned char>(arg[1])))
    return "-" + arg;
  return arg;
}

// CLI11's wording of a missing value ("--workers: 1 required TEXT missing") as the daemons had it.
std::string Describe(const CLI::ParseError& e) {
  const std::string what = e.what();
  if (e.get_name() == "ArgumentMismatch" && what.find(" required ") != std::string::npos) {
    return what.substr(0, what.find(':')) + " needs a value";
  }
  return what;
}

}  // namespace

void Prepare(CLI::App& app) {
  app.set_help_flag();
  app.allow_extras(true);  // Parse() names the first unknown argument itself
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

Result<void> Parse(CLI::App& app, const std::vector<std::string>& args) {
  std::vector<std::string> reversed;  // CLI11 takes the arguments last first
  reversed.reserve(args.size());
  for (auto it = args.rbegin(); it != args.rend(); ++it) reversed.push_back(DoubleDashed(*it));
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return Failure(Describe(e));
  }
  const std::vector<std::string> unknown = app.remaining();
  if (!unknown.empty()) {
    // Named as the user wrote it (-bogus, not --bogus).
    auto original = std::find_if(args.begin(), args.end(), [&](const std::string& a) {
      return DoubleDashed(a) == unknown.front();
    });
    return Failure("unknown argument \"" + (original != args.end() ? *original : unknown.front()) +
                   "\"");
  }
  return {};
}

CLI::Validator LogLevel() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        for (const char* level : kLogLevels) {
          if (value == level) return "";
        }
        std::string allowed;
        for (const char* level : kLogLevels)
          allowed += (allowed.empty() ? "" : ", ") + std::string(level);
        return "\"" + value + "\" is not one of " + allowed;
      },
      "LEVEL");
}

CLI::Validator Count(uint64_t min, uint64_t max, std::string description) {
  return CLI::Validator(
      [min, max, description](std::string& value) -> std::string {
        uint64_t n = 0;
        auto r = std::from_chars(value.data(), value.data() + value.size(), n);
        if (r.ec == std::errc() && r.ptr == value.data() + value.size() && n >= min && n <= max)
          return "";
        return "\"" + value + "\" is not " + description;
      },
      "N");
}

CLI::Validator KeyValue() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        const size_t eq = value.find('=');
        if (eq != std::string::npos && eq > 0) return "";
        return "\"" + value + "\" is not key=value";
      },
      "KEY=VALUE");
}

}  // namespace hermes::flags
