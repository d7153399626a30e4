// The YAML config loader on arbitrary text: both formats (the native one and the original
// Hermes one, told apart by DetectFormat), defaults and validation, as `hermes -config` and
// `hermesctl apply` run it. A config it accepts must also survive the control plane's round trip:
// written back with ToYaml and read again, it loads without error to the same message. The same
// text as a merge fragment (hermesctl apply --merge) into a small config: a merge the control
// plane would store must be a config the whole-document path accepts, to the same message.
#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "hermes/common/config.h"
#include "hermes/common/yaml_writer.h"

namespace {

void CheckMerge(std::string_view yaml) {
  using namespace hermes::config;
  static const hermes::v1::Config base = LoadConfigString(R"(
listeners: [ { name: main, address: "127.0.0.1:8080" } ]
clusters:
  - { name: web, endpoints: [ { address: "10.0.0.1:80" } ] }
  - { name: api, endpoints: [ { address: "10.0.0.2:80" } ] }
routes:
  - { name: api, match: { prefix: /api }, cluster: api }
  - { name: web, match: { host: web.example.com }, cluster: web }
)").config;
  MergeResult merged = MergeConfigString(base, yaml, "fuzz.yaml", {"routes/web"}, "v1");
  for (const ConfigError& e : merged.merged.errors) (void)e.ToString();
  if (!merged.merged.ok()) return;
  (void)ToYaml(merged.added);
  (void)ToYaml(merged.replaced);
  std::string written = ToYaml(merged.merged.config);
  LoadResult whole = LoadConfigString(written, "merged.yaml");
  if (!whole.ok()) {
    std::fprintf(stderr, "a merged config does not load as a whole document:\n%s\nfirst error: %s\n",
                 written.c_str(), whole.errors.front().ToString().c_str());
    std::abort();
  }
  if (!google::protobuf::util::MessageDifferencer::Equals(merged.merged.config, whole.config)) {
    std::fprintf(stderr, "a merged config, loaded as a whole document, differs:\n%s\n", written.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hermes::config;
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
  CheckMerge(yaml);
  LoadResult loaded = LoadConfigString(yaml, "fuzz.yaml");
  for (const ConfigError& e : loaded.errors) (void)e.ToString();
  if (!loaded.ok()) return 0;

  std::string written = ToYaml(loaded.config);
  LoadResult again = LoadConfigString(written, "written.yaml");
  if (!again.ok()) {
    std::fprintf(stderr, "a loaded config, written back, does not load:\n%s\nfirst error: %s\n",
                 written.c_str(), again.errors.front().ToString().c_str());
    std::abort();
  }
  if (!google::protobuf::util::MessageDifferencer::Equals(loaded.config, again.config)) {
    std::fprintf(stderr, "a loaded config, written back and read again, differs:\n%s\n--- again:\n%s\n",
                 written.c_str(), ToYaml(again.config).c_str());
    std::abort();
  }
  return 0;
}
