// MergeConfigString: a partial config (hermesctl apply --merge) merged into a whole one by
// resource name, then defaulted and validated whole like any config.
#include <charconv>
#include <set>
#include <unordered_map>

#include "hermes/common/config.h"
#include "hermes/common/yaml_reader.h"
#include "source_format.h"

namespace hermes::config {
namespace {

using google::protobuf::RepeatedPtrField;

bool Blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// "clusters[12].health_check" -> type "clusters", index 12, rest ".health_check".
struct IndexedPath {
  std::string_view type;
  int index = 0;
  std::string_view rest;
};

std::optional<IndexedPath> SplitIndexedPath(std::string_view path) {
  const size_t open = path.find('[');
  if (open == std::string_view::npos) return std::nullopt;
  const size_t close = path.find(']', open);
  if (close == std::string_view::npos) return std::nullopt;
  IndexedPath out{path.substr(0, open), 0, path.substr(close + 1)};
  const char* first = path.data() + open + 1;
  const char* last = path.data() + close;
  const auto [end, ec] = std::from_chars(first, last, out.index);
  if (ec != std::errc() || end != last) return std::nullopt;
  return out;
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

// One repeated section (listeners, routes or clusters) of the merge.
template <typename T>
class Section {
 public:
  Section(std::string_view type, std::string_view singular, RepeatedPtrField<T>& merged,
          RepeatedPtrField<T>& replaced, RepeatedPtrField<T>& added)
      : type_(type), singular_(singular), merged_(merged), replaced_(replaced), added_(added) {}

  std::string_view type() const { return type_; }

  // Takes the names in `remove` out of the merged section; each must be there.
  void Remove(const std::vector<std::pair<std::string, size_t>>& remove,
              std::string_view base_name, std::vector<ConfigError>& errors) {
    if (remove.empty()) return;
    std::set<std::string_view> gone;
    for (const auto& [name, k] : remove) gone.insert(name);
    RepeatedPtrField<T> kept;
    kept.Reserve(merged_.size());
    for (T& entry : merged_) {
      if (gone.erase(entry.name()) > 0) {
        *replaced_.Add() = std::move(entry);
      } else {
        *kept.Add() = std::move(entry);
      }
    }
    merged_.Swap(&kept);
    for (const auto& [name, k] : remove) {
      if (!gone.contains(name)) continue;
      errors.push_back({"remove[" + std::to_string(k) + "]",
                        "no " + std::string(singular_) + " named " + Quote(name) + " in " +
                            std::string(base_name),
                        ""});
    }
  }

  // Each fragment entry replaces the merged one of its name (in its place) or is added last.
  void Upsert(const RepeatedPtrField<T>& fragment, const std::set<std::string>& removed,
              std::vector<ConfigError>& errors) {
    origin_.assign(static_cast<size_t>(merged_.size()), -1);
    // Copies: a replaced entry's name moves out with it.
    std::unordered_map<std::string, int> at;
    at.reserve(static_cast<size_t>(merged_.size()));
    for (int i = 0; i < merged_.size(); ++i) at.emplace(merged_.Get(i).name(), i);
    std::unordered_map<std::string_view, int> seen;
    for (int j = 0; j < fragment.size(); ++j) {
      const T& entry = fragment.Get(j);
      const std::string path = std::string(type_) + "[" + std::to_string(j) + "].name";
      if (entry.name().empty()) {
        errors.push_back({path,
                          "is required in a merge: it says which " + std::string(singular_) +
                              " to replace or add",
                          ""});
        continue;
      }
      if (auto [it, fresh] = seen.emplace(entry.name(), j); !fresh) {
        errors.push_back({path,
                          Quote(entry.name()) + " is also " + std::string(type_) + "[" +
                              std::to_string(it->second) + "]'s name",
                          ""});
        continue;
      }
      if (removed.contains(std::string(type_) + "/" + entry.name())) {
        errors.push_back({path, Quote(entry.name()) + " is also removed (remove)", ""});
        continue;
      }
      if (auto it = at.find(entry.name()); it != at.end()) {
        T& slot = *merged_.Mutable(it->second);
        *replaced_.Add() = std::move(slot);
        slot = entry;
        origin_[static_cast<size_t>(it->second)] = j;
      } else {
        *merged_.Add() = entry;
        origin_.push_back(j);
      }
    }
  }

  // After the defaults: the merged entries that came from the fragment, as they will be stored.
  void CollectAdded() {
    for (size_t i = 0; i < origin_.size(); ++i) {
      if (origin_[i] >= 0) *added_.Add() = merged_.Get(static_cast<int>(i));
    }
  }

  // The fragment index of merged entry `i`, or -1 when it came from the base.
  int FragmentIndex(int i) const {
    return i >= 0 && static_cast<size_t>(i) < origin_.size() ? origin_[static_cast<size_t>(i)] : -1;
  }

 private:
  std::string_view type_;
  std::string_view singular_;
  RepeatedPtrField<T>& merged_;
  RepeatedPtrField<T>& replaced_;
  RepeatedPtrField<T>& added_;
  std::vector<int> origin_;  // by merged index: the fragment index, or -1
};

MergeResult Merge(const v1::Config& base, std::string_view yaml, std::string_view source_name,
                  const std::vector<std::string>& remove, std::string_view base_name,
                  const DocumentLimits& limits) {
  MergeResult result;
  std::vector<ConfigError>& errors = result.merged.errors;
  v1::Config fragment;
  SourceLocations locations;
  if (!Blank(yaml)) {
    YamlDocument document = ParseYaml(yaml, source_name, limits);
    if (!document.errors.empty()) {
      errors = std::move(document.errors);
      return result;
    }
    DetectedFormat detected = DetectFormat(document.root, source_name);
    if (!detected.errors.empty()) {
      errors = std::move(detected.errors);
      return result;
    }
    if (detected.format == SourceFormat::kLegacy) {
      errors.push_back({"",
                        "a merge takes the native format (listeners, routes and clusters by "
                        "name); a config in the original Hermes format is applied whole",
                        LocationOf(document.root.Mark(), source_name)});
      return result;
    }
    YamlReadResult read = ReadYamlNode(document.root, fragment, source_name);
    if (!read.ok()) {
      errors = std::move(read.errors);
      return result;
    }
    locations = std::move(read.locations);
  } else if (remove.empty()) {
    errors.push_back({"", "nothing to merge: the document is empty and nothing is removed", ""});
    return result;
  }
  if (fragment.has_admin()) {
    errors.push_back({"admin", "is not merged: apply the whole config to change it",
                      FindLocation(locations, "admin")});
  }
  if (!fragment.sticky_secret().empty()) {
    errors.push_back({"sticky_secret", "is not merged: apply the whole config to change it",
                      FindLocation(locations, "sticky_secret")});
  }

  v1::Config& merged = result.merged.config;
  merged = base;
  Section<v1::Listener> listeners("listeners", "listener", *merged.mutable_listeners(),
                                  *result.replaced.mutable_listeners(),
                                  *result.added.mutable_listeners());
  Section<v1::Route> routes("routes", "route", *merged.mutable_routes(),
                            *result.replaced.mutable_routes(), *result.added.mutable_routes());
  Section<v1::Cluster> clusters("clusters", "cluster", *merged.mutable_clusters(),
                                *result.replaced.mutable_clusters(),
                                *result.added.mutable_clusters());

  // "clusters/NAME" -> the removals of each type, with their index for errors.
  std::vector<std::pair<std::string, size_t>> remove_of[3];
  std::set<std::string> removed;
  for (size_t k = 0; k < remove.size(); ++k) {
    const std::string& ref = remove[k];
    const std::string path = "remove[" + std::to_string(k) + "]";
    const size_t slash = ref.find('/');
    const std::string_view type = std::string_view(ref).substr(0, slash);
    const std::string name = slash == std::string::npos ? "" : ref.substr(slash + 1);
    int t = type == "listeners" ? 0 : type == "routes" ? 1 : type == "clusters" ? 2 : -1;
    if (t < 0 || name.empty()) {
      errors.push_back({path,
                        Quote(ref) + ": want clusters/NAME, routes/NAME or listeners/NAME", ""});
      continue;
    }
    if (!removed.insert(ref).second) {
      errors.push_back({path, Quote(ref) + " is named twice", ""});
      continue;
    }
    remove_of[t].emplace_back(name, k);
  }
  listeners.Remove(remove_of[0], base_name, errors);
  routes.Remove(remove_of[1], base_name, errors);
  clusters.Remove(remove_of[2], base_name, errors);
  listeners.Upsert(fragment.listeners(), removed, errors);
  routes.Upsert(fragment.routes(), removed, errors);
  clusters.Upsert(fragment.clusters(), removed, errors);
  for (ConfigError& error : errors) {
    if (error.location.empty()) error.location = FindLocation(locations, error.path);
  }
  if (!errors.empty()) return result;

  ApplyDefaults(merged);
  listeners.CollectAdded();
  routes.CollectAdded();
  clusters.CollectAdded();
  for (ConfigError& error : Validate(merged)) {
    // An error in an entry of the fragment is placed in it; any other is in the base.
    const std::optional<IndexedPath> at = SplitIndexedPath(error.path);
    int j = -1;
    if (at && at->type == listeners.type()) j = listeners.FragmentIndex(at->index);
    if (at && at->type == routes.type()) j = routes.FragmentIndex(at->index);
    if (at && at->type == clusters.type()) j = clusters.FragmentIndex(at->index);
    if (j >= 0) {
      error.path = std::string(at->type) + "[" + std::to_string(j) + "]" + std::string(at->rest);
      error.location = FindLocation(locations, error.path);
    } else {
      error.location = std::string(base_name);
    }
    errors.push_back(std::move(error));
  }
  return result;
}

}  // namespace

MergeResult MergeConfigString(const v1::Config& base, std::string_view yaml,
                              std::string_view source_name, const std::vector<std::string>& remove,
                              std::string_view base_name, const DocumentLimits& limits) {
  try {
    return Merge(base, yaml, source_name, remove, base_name, limits);
  } catch (const std::exception& e) {
    MergeResult result;
    result.merged.errors.push_back({"", std::string("cannot merge config: ") + e.what(), ""});
    return result;
  }
}

}  // namespace hermes::config
