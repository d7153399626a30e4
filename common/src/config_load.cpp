// LoadConfigFile / LoadConfigString: YAML -> (original format translated) -> defaults ->
// validation, with every error placed at the file position it came from.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>

#include "hermes/common/config.h"
#include "hermes/common/yaml_reader.h"
#include "legacy_config.h"
#include "source_format.h"

namespace hermes::config {
namespace {

struct ReadConfig {
  v1::Config config;
  SourceLocations locations;  // by the path as the user wrote it (original-format paths for it)
  std::vector<ConfigError> errors;
};

ReadConfig ReadNative(const YAML::Node& root, std::string_view source_name) {
  ReadConfig result;
  YamlReadResult read = ReadYamlNode(root, result.config, source_name);
  result.locations = std::move(read.locations);
  result.errors = std::move(read.errors);
  return result;
}

ReadConfig ReadLegacy(const YAML::Node& root, std::string_view source_name) {
  ReadConfig result;
  v1::legacy::LegacyConfig legacy;
  YamlReadResult read = ReadYamlNode(root, legacy, source_name);
  result.locations = std::move(read.locations);
  if (!read.ok()) {
    result.errors = std::move(read.errors);
    return result;
  }
  LegacyTranslation translation = TranslateLegacy(legacy);
  result.config = std::move(translation.config);
  result.errors = std::move(translation.errors);
  for (ConfigError& error : result.errors) {
    error.location = FindLocation(result.locations, error.path);
  }
  return result;
}

struct CloseFile {
  void operator()(std::FILE* file) const { std::fclose(file); }
};

LoadResult Load(std::string_view yaml, std::string_view source_name, const DocumentLimits& limits) {
  LoadResult result;
  YamlDocument document = ParseYaml(yaml, source_name, limits);
  if (!document.errors.empty()) {
    result.errors = std::move(document.errors);
    return result;
  }
  DetectedFormat detected = DetectFormat(document.root, source_name);
  result.format = detected.format;
  if (!detected.errors.empty()) {
    result.errors = std::move(detected.errors);
    return result;
  }
  const bool legacy = detected.format == SourceFormat::kLegacy;
  ReadConfig read =
      legacy ? ReadLegacy(document.root, source_name) : ReadNative(document.root, source_name);
  // Validating a half-read config would mostly repeat the reading errors in other words.
  if (!read.errors.empty()) {
    result.errors = std::move(read.errors);
    return result;
  }
  result.config = std::move(read.config);
  ApplyDefaults(result.config);
  for (ConfigError& error : Validate(result.config)) {
    if (legacy) error.path = LegacyPath(error.path);
    error.location = FindLocation(read.locations, error.path);
    result.errors.push_back(std::move(error));
  }
  return result;
}

}  // namespace

LoadResult LoadConfigString(std::string_view yaml, std::string_view source_name,
                            const DocumentLimits& limits) {
  try {
    return Load(yaml, source_name, limits);
  } catch (const std::exception& e) {
    LoadResult result;
    result.errors.push_back({"", std::string("cannot load config: ") + e.what(), ""});
    return result;
  }
}

LoadResult LoadConfigFile(const std::string& path, const DocumentLimits& limits) {
  auto unreadable = [&](int error) {
    LoadResult result;
    result.errors.push_back(
        {"", "cannot read config file \"" + path + "\": " + std::generic_category().message(error),
         ""});
    return result;
  };
  std::unique_ptr<std::FILE, CloseFile> file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return unreadable(errno);
  auto oversize = [&](uint64_t bytes) {
    LoadResult result;
    result.errors.push_back(*CheckDocumentSize(bytes, limits.max_bytes, path));
    return result;
  };
  struct stat info {};
  if (fstat(fileno(file.get()), &info) == 0 && S_ISREG(info.st_mode) &&
      static_cast<uint64_t>(info.st_size) > limits.max_bytes) {
    return oversize(static_cast<uint64_t>(info.st_size));
  }
  // Not a regular file (a pipe): read no more than one byte past the limit.
  std::string text;
  char buffer[16384];
  size_t n = 0;
  while (text.size() <= limits.max_bytes &&
         (n = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
    text.append(buffer, n);
  }
  if (std::ferror(file.get()) != 0) return unreadable(errno);
  if (text.size() > limits.max_bytes) return oversize(text.size());
  return LoadConfigString(text, path, limits);
}

}  // namespace hermes::config
