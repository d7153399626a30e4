#include "dataplane/server/options.h"

#include <charconv>
#include <string>

namespace hermes::dataplane {
namespace {

// A config of a gigabyte is a mistake, not a fleet.
constexpr uint64_t kMaxConfigBytesCeiling = 1024ull * 1024 * 1024;

}  // namespace

std::string UsageText() {
  return R"(usage: hermes -config FILE [--workers N] [--log-level LEVEL] [--max-config-bytes N]
       hermes --control-plane HOST:PORT --node-id ID [--group G] [--label k=v]...
              [--cache-dir DIR] [--listen ADDR] [--admin-listen ADDR] [--token-file FILE]
       hermes --validate -config FILE [--max-config-bytes N]
       hermes --version | --help

Runs the Hermes reverse proxy from a YAML config file (the native format or the
original Hermes format), or managed by hermes-controlplane, which pushes its config.

  -config, --config FILE   config file to serve (re-read on SIGHUP and POST /reload)
  --validate               check the config, print every error with its field path, exit
  --max-config-bytes N     refuse a config file over N bytes, on start and on reload
                           (default 4194304); while parsing, a config may also have at
                           most 200000 values, 64 levels of nesting, and no one value or
                           [...]/{...} collection over 256 KiB (see README, Config)
  --workers N              worker threads (default: number of cores)
  --log-level LEVEL        trace, debug, info, warn, error (default info)
  --control-plane ADDR     managed mode: take config from hermes-controlplane at ADDR
  --node-id ID             this proxy's id in the fleet (managed mode; required)
  --group G                its group
  --label k=v              a label for rollout selectors (repeatable)
  --cache-dir DIR          last good config kept here (default ./hermes-cache)
  --listen ADDR            serve here whatever listener address is pushed
  --admin-listen ADDR      admin listener here whatever address is pushed
  --token-file FILE        bearer token for the control plane
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
    } else if (a == "--max-config-bytes") {
      if (!take("--max-config-bytes")) return p;
      uint64_t n = 0;
      auto r = std::from_chars(value.data(), value.data() + value.size(), n);
      if (r.ec != std::errc() || r.ptr != value.data() + value.size() || n == 0 ||
          n > kMaxConfigBytesCeiling) {
        p.error = "--max-config-bytes: \"" + value + "\" is not a number of bytes from 1 to " +
                  std::to_string(kMaxConfigBytesCeiling);
        return p;
      }
      o.max_config_bytes = n;
    } else if (a == "--log-level") {
      if (!take("--log-level")) return p;
      if (value != "trace" && value != "debug" && value != "info" && value != "warn" && value != "error") {
        p.error = "--log-level: \"" + value + "\" is not one of trace, debug, info, warn, error";
        return p;
      }
      o.log_level = value;
    } else if (a == "--control-plane") {
      if (!take("--control-plane")) return p;
      o.control_plane = value;
    } else if (a == "--node-id") {
      if (!take("--node-id")) return p;
      o.node_id = value;
    } else if (a == "--group") {
      if (!take("--group")) return p;
      o.group = value;
    } else if (a == "--label") {
      if (!take("--label")) return p;
      auto eq = value.find('=');
      if (eq == std::string::npos || eq == 0) {
        p.error = "--label: \"" + value + "\" is not key=value";
        return p;
      }
      o.labels.emplace_back(value.substr(0, eq), value.substr(eq + 1));
    } else if (a == "--cache-dir") {
      if (!take("--cache-dir")) return p;
      o.cache_dir = value;
    } else if (a == "--listen") {
      if (!take("--listen")) return p;
      o.listen = value;
    } else if (a == "--admin-listen") {
      if (!take("--admin-listen")) return p;
      o.admin_listen = value;
    } else if (a == "--token-file") {
      if (!take("--token-file")) return p;
      o.token_file = value;
    } else {
      p.error = "unknown argument \"" + args[i] + "\"";
      return p;
    }
  }
  if (o.show_help || o.show_version) return p;
  if (!o.control_plane.empty()) {
    if (!o.config_path.empty()) p.error = "-config and --control-plane exclude each other";
    else if (o.node_id.empty()) p.error = "--control-plane needs --node-id ID";
    else if (o.validate) p.error = "--validate needs -config FILE";
    return p;
  }
  if (o.config_path.empty()) p.error = "missing -config FILE (or --control-plane HOST:PORT)";
  return p;
}

}  // namespace hermes::dataplane
