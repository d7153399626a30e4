#include "dataplane/options.h"

#include <charconv>

namespace hermes::dataplane {

std::string UsageText() {
  return R"(usage: hermes -config FILE [--workers N] [--log-level LEVEL]
       hermes --validate -config FILE
       hermes --version | --help

Runs the Hermes reverse proxy from a YAML config file (the native format or the
original Hermes format).

  -config, --config FILE   config file to serve (re-read on SIGHUP and POST /reload)
  --validate               check the config, print every error with its field path, exit
  --workers N              worker threads (default: number of cores)
  --log-level LEVEL        trace, debug, info, warn, error (default info)
  --version                print the version
  --help                   this text
)";
}

ParsedOptions ParseOptions(const std::vector<std::string>& args) {
  ParsedOptions p;
  auto& o = p.options;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a.rfind("--", 0) != 0 && a.rfind("-", 0) == 0 && a.size() > 2) a = "-" + a;  // -config -> --config
    std::string value;
    bool has_value = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto take = [&](const char* flag) -> bool {
      if (has_value) return true;
      if (i + 1 >= args.size()) {
        p.error = std::string(flag) + " needs a value";
        return false;
      }
      value = args[++i];
      return true;
    };
    if (a == "--config" || a == "-c") {
      if (!take("--config")) return p;
      o.config_path = value;
    } else if (a == "--validate") {
      o.validate = true;
    } else if (a == "--version" || a == "-v") {
      o.show_version = true;
    } else if (a == "--help" || a == "-h") {
      o.show_help = true;
    } else if (a == "--workers") {
      if (!take("--workers")) return p;
      unsigned n = 0;
      auto r = std::from_chars(value.data(), value.data() + value.size(), n);
      if (r.ec != std::errc() || r.ptr != value.data() + value.size() || n == 0 || n > 256) {
        p.error = "--workers: \"" + value + "\" is not a number from 1 to 256";
        return p;
      }
      o.workers = n;
    } else if (a == "--log-level") {
      if (!take("--log-level")) return p;
      if (value != "trace" && value != "debug" && value != "info" && value != "warn" && value != "error") {
        p.error = "--log-level: \"" + value + "\" is not one of trace, debug, info, warn, error";
        return p;
      }
      o.log_level = value;
    } else {
      p.error = "unknown argument \"" + args[i] + "\"";
      return p;
    }
  }
  if (!o.show_help && !o.show_version && o.config_path.empty()) p.error = "missing -config FILE";
  return p;
}

}  // namespace hermes::dataplane
