// The YAML config loader on arbitrary text: both formats (the native one and the original
// Hermes one, told apart by DetectFormat), defaults and validation, as `hermes -config` and
// `hermesctl apply` run it. A config it accepts must also survive the control plane's round trip:
// written back with ToYaml and read again, it loads without error to the same message.
#include <google/protobuf/util/message_differencer.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "hermes/common/config.h"
#include "hermes/common/yaml_writer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hermes::config;
  std::string_view yaml(reinterpret_cast<const char*>(data), size);
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
