#include "dataplane/server/options.h"

#include <string>

#include "hermes/common/daemon_flags.h"

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

Result<Options> ParseOptions(const std::vector<std::string>& args) {
  Options o;
  CLI::App app("hermes");
  flags::Prepare(app);
  app.add_option("-c,--config", o.config_path);
  app.add_flag("--validate", o.validate);
  app.add_flag("-v,--version", o.show_version);
  app.add_flag("-h,--help", o.show_help);
  app.add_option("--workers", o.workers)->check(flags::Count(1, 256, "a number from 1 to 256"));
  uint64_t max_config_bytes = 0;
  app.add_option("--max-config-bytes", max_config_bytes)
      ->check(
          flags::Count(1, kMaxConfigBytesCeiling,
                       "a number of bytes from 1 to " + std::to_string(kMaxConfigBytesCeiling)));
  app.add_option("--log-level", o.log_level)->check(flags::LogLevel());
  app.add_option("--control-plane", o.control_plane);
  app.add_option("--node-id", o.node_id);
  app.add_option("--group", o.group);
  std::vector<std::string> labels;
  app.add_option("--label", labels)
      ->check(flags::KeyValue())
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--cache-dir", o.cache_dir);
  app.add_option("--listen", o.listen);
  app.add_option("--admin-listen", o.admin_listen);
  app.add_option("--token-file", o.token_file);
  if (auto parsed = flags::Parse(app, args); !parsed) return Failure(parsed.error());
  if (app.count("--max-config-bytes")) o.max_config_bytes = max_config_bytes;
  for (const std::string& label : labels) {
    const size_t eq = label.find('=');
    o.labels.emplace_back(label.substr(0, eq), label.substr(eq + 1));
  }

  if (o.show_help || o.show_version) return o;
  if (!o.control_plane.empty()) {
    if (!o.config_path.empty()) return Failure("-config and --control-plane exclude each other");
    if (o.node_id.empty()) return Failure("--control-plane needs --node-id ID");
    if (o.validate) return Failure("--validate needs -config FILE");
    return o;
  }
  if (o.config_path.empty()) return Failure("missing -config FILE (or --control-plane HOST:PORT)");
  return o;
}

}  // namespace hermes::dataplane
