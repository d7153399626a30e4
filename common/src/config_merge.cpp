// ReadConfigFragment + MergeConfig: a partial config (hermesctl apply --merge) merged into a whole
// one by resource name, then defaulted and validated whole like any config.
#include <charconv>
#include <set>
#include <unordered_map>

#include "hermes/common/config.h"
#include "hermes/common/yaml_reader.h"
#include "source_format.h"

namespace hermes::config {
namespace {

using google::protobuf::RepeatedPtrField;

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

std::string Indexed(std::string_view type, int index) {
  return std::string(type) + "[" + std::to_string(index) + "]";
}

// One repeated section (listeners, routes or clusters): `merged` starts as a copy of `base`.
// Every merged entry remembers where it came from, for the diff and for placing errors.
template <typename T>
class Section {
 public:
  Section(std::string_view type, std::string_view singular, const RepeatedPtrField<T>& base,
          RepeatedPtrField<T>& merged)
      : type_(type), singular_(singular), base_(base), merged_(merged) {
    for (int i = 0; i < base.size(); ++i) base_index_.push_back(i);
    origin_.assign(base_index_.size(), -1);
  }

  std::string_view type() const { return type_; }

  // Takes the names in `remove` out; each must be there.
  void Remove(const std::vector<std::pair<std::string, size_t>>& remove,
              std::string_view base_name, std::vector<ConfigError>& errors) {
    if (remove.empty()) return;
    std::set<std::string_view> gone;
    for (const auto& entry : remove) gone.insert(entry.first);
    RepeatedPtrField<T> kept;
    kept.Reserve(merged_.size());
    std::vector<int> kept_index;
    for (int i = 0; i < merged_.size(); ++i) {
      if (gone.erase(merged_.Get(i).name()) > 0) {
        removed_.push_back(base_index_[static_cast<size_t>(i)]);
      } else {
        *kept.Add() = std::move(*merged_.Mutable(i));
        kept_index.push_back(base_index_[static_cast<size_t>(i)]);
      }
    }
    merged_.Swap(&kept);
    base_index_ = std::move(kept_index);
    origin_.assign(base_index_.size(), -1);
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
    std::unordered_map<std::string_view, int> at;  // views into base_, which does not change
    at.reserve(base_index_.size());
    for (size_t i = 0; i < base_index_.size(); ++i)
      at.emplace(base_.Get(base_index_[i]).name(), static_cast<int>(i));
    std::unordered_map<std::string_view, int> seen;  // views into the fragment
    for (int j = 0; j < fragment.size(); ++j) {
      const T& entry = fragment.Get(j);
      const std::string path = Indexed(type_, j) + ".name";
      if (entry.name().empty()) {
        errors.push_back({path,
                          "is required in a merge: it says which " + std::string(singular_) +
                              " to replace or add",
                          ""});
        continue;
      }
      if (auto [it, fresh] = seen.emplace(entry.name(), j); !fresh) {
        errors.push_back(
            {path, Quote(entry.name()) + " is also " + Indexed(type_, it->second) + "'s name", ""});
        continue;
      }
      if (removed.contains(std::string(type_) + "/" + entry.name())) {
        errors.push_back({path, Quote(entry.name()) + " is also removed (remove)", ""});
        continue;
      }
      if (auto it = at.find(entry.name()); it != at.end()) {
        *merged_.Mutable(it->second) = entry;
        origin_[static_cast<size_t>(it->second)] = j;
      } else {
        *merged_.Add() = entry;
        origin_.push_back(j);
        base_index_.push_back(-1);
      }
    }
  }

  // After the defaults, in merged order: each entry the merge put in (or the defaults added) and
  // the base entry it replaced; then the removed ones.
  void CollectDiff(RepeatedPtrField<T>& replaced, RepeatedPtrField<T>& added) const {
    for (int i = 0; i < merged_.size(); ++i) {
      const bool from_base = FragmentIndex(i) < 0 && BaseIndex(i) >= 0;
      if (from_base) continue;
      *added.Add() = merged_.Get(i);
      if (BaseIndex(i) >= 0) *replaced.Add() = base_.Get(BaseIndex(i));
    }
    for (int b : removed_) *replaced.Add() = base_.Get(b);
  }

  // Where merged entry `i` came from: its index in the fragment, or in the base; -1 for neither
  // (an entry the defaults added).
  int FragmentIndex(int i) const { return At(origin_, i); }
  int BaseIndex(int i) const { return At(base_index_, i); }

 private:
  static int At(const std::vector<int>& v, int i) {
    return i >= 0 && static_cast<size_t>(i) < v.size() ? v[static_cast<size_t>(i)] : -1;
  }

  std::string_view type_;
  std::string_view singular_;
  const RepeatedPtrField<T>& base_;
  RepeatedPtrField<T>& merged_;
  std::vector<int> base_index_;  // by merged index: the base index, or -1 for a new entry
  std::vector<int> origin_;      // by merged index: the fragment index, or -1
  std::vector<int> removed_;     // base indices
};

ConfigFragment ReadFragment(std::string_view yaml, std::string_view source_name,
                            const DocumentLimits& limits) {
  ConfigFragment fragment;
  if (yaml.find_first_not_of(" \t\r\n") == std::string_view::npos) return fragment;
  YamlDocument document = ParseYaml(yaml, source_name, limits);
  if (!document.errors.empty()) {
    fragment.errors = std::move(document.errors);
    return fragment;
  }
  if (!document.root.IsDefined() || document.root.IsNull()) return fragment;  // comments or "---" only
  DetectedFormat detected = DetectFormat(document.root, source_name);
  if (!detected.errors.empty()) {
    fragment.errors = std::move(detected.errors);
    return fragment;
  }
  if (detected.format == SourceFormat::kLegacy) {
    fragment.errors.push_back({"",
                               "a merge takes the native format (listeners, routes and clusters "
                               "by name); a config in the original Hermes format is applied whole",
                               LocationOf(document.root.Mark(), source_name)});
    return fragment;
  }
  YamlReadResult read = ReadYamlNode(document.root, fragment.config, source_name);
  fragment.locations = std::move(read.locations);
  if (!read.ok()) {
    fragment.errors = std::move(read.errors);
    return fragment;
  }
  for (std::string_view field : {"admin", "sticky_secret"}) {
    const bool set = field == "admin" ? fragment.config.has_admin()
                                      : !fragment.config.sticky_secret().empty();
    if (!set) continue;
    fragment.errors.push_back({std::string(field), "is not merged: apply the whole config to change it",
                               FindLocation(fragment.locations, field)});
  }
  return fragment;
}

// A route that matches every request of its host (or of every host): nothing after it for that
// host is ever chosen (first match wins).
bool CatchAll(const v1::Route& route) {
  const v1::RouteMatch& m = route.match();
  return m.path().empty() && (m.prefix().empty() || m.prefix() == "/");
}

// A merge adds a new route last; refused when a catch-all before it would take all its requests.
void RefuseShadowedNewRoutes(const Section<v1::Route>& section, const RepeatedPtrField<v1::Route>& routes,
                             std::string_view base_name, std::vector<ConfigError>& errors) {
  std::unordered_map<std::string_view, int> first_catch_all;  // host ("" = any) -> route index
  for (int i = 0; i < routes.size(); ++i) {
    const v1::Route& route = routes.Get(i);
    const bool added = section.FragmentIndex(i) >= 0 && section.BaseIndex(i) < 0;
    if (added) {
      auto any = first_catch_all.find("");
      auto same = route.match().host().empty() ? first_catch_all.end()
                                               : first_catch_all.find(route.match().host());
      const int by = any != first_catch_all.end() ? any->second
                     : same != first_catch_all.end() ? same->second
                                                     : -1;
      if (by >= 0) {
        const int b = section.BaseIndex(by);
        errors.push_back(
            {Indexed("routes", section.FragmentIndex(i)),
             Quote(route.name()) + " would go last, after " + Quote(routes.Get(by).name()) +
                 (b >= 0 ? " (routes[" + std::to_string(b) + "] in " + std::string(base_name) + ")"
                         : "") +
                 ", which takes every request it would match (first match wins): a merge adds "
                 "routes at the end; apply the whole config to place it",
             ""});
      }
    }
    if (CatchAll(route)) first_catch_all.emplace(route.match().host(), i);
  }
}

MergeResult Merge(const v1::Config& base, const ConfigFragment& fragment,
                  const std::vector<std::string>& remove, std::string_view base_name,
                  const DocumentLimits& limits) {
  MergeResult result;
  std::vector<ConfigError>& errors = result.merged.errors;
  if (!fragment.ok()) {
    errors = fragment.errors;
    return result;
  }
  const v1::Config& part = fragment.config;
  if (part.listeners().empty() && part.routes().empty() && part.clusters().empty() &&
      remove.empty()) {
    errors.push_back({"", "nothing to merge: the document names no listener, route or cluster "
                          "and nothing is removed", ""});
    return result;
  }

  v1::Config& merged = result.merged.config;
  merged = base;
  Section<v1::Listener> listeners("listeners", "listener", base.listeners(),
                                  *merged.mutable_listeners());
  Section<v1::Route> routes("routes", "route", base.routes(), *merged.mutable_routes());
  Section<v1::Cluster> clusters("clusters", "cluster", base.clusters(), *merged.mutable_clusters());

  // "clusters/NAME" -> the removals of each type, with their index for errors.
  std::vector<std::pair<std::string, size_t>> remove_of[3];
  std::set<std::string> removed;
  for (size_t k = 0; k < remove.size(); ++k) {
    const std::string& ref = remove[k];
    const std::string path = "remove[" + std::to_string(k) + "]";
    const size_t slash = ref.find('/');
    const std::string_view type = std::string_view(ref).substr(0, slash);
    const std::string name = slash == std::string::npos ? "" : ref.substr(slash + 1);
    const int t = type == "listeners" ? 0 : type == "routes" ? 1 : type == "clusters" ? 2 : -1;
    if (t < 0 || name.empty()) {
      errors.push_back({path, Quote(ref) + ": want clusters/NAME, routes/NAME or listeners/NAME", ""});
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
  listeners.Upsert(part.listeners(), removed, errors);
  routes.Upsert(part.routes(), removed, errors);
  clusters.Upsert(part.clusters(), removed, errors);
  RefuseShadowedNewRoutes(routes, merged.routes(), base_name, errors);
  for (ConfigError& error : errors) {
    if (error.location.empty()) error.location = FindLocation(fragment.locations, error.path);
  }
  if (!errors.empty()) return result;

  ApplyDefaults(merged);
  listeners.CollectDiff(*result.replaced.mutable_listeners(), *result.added.mutable_listeners());
  routes.CollectDiff(*result.replaced.mutable_routes(), *result.added.mutable_routes());
  clusters.CollectDiff(*result.replaced.mutable_clusters(), *result.added.mutable_clusters());
  // Merges add up: the result is held to the bound a whole document has (as its stored form).
  if (const size_t bytes = merged.ByteSizeLong(); bytes > limits.max_bytes) {
    errors.push_back({"",
                      "the merged config would be " + std::to_string(bytes) +
                          " bytes stored, over the " + std::to_string(limits.max_bytes) +
                          "-byte limit (--max-config-bytes)",
                      ""});
    return result;
  }
  for (ConfigError& error : Validate(merged)) {
    // An error in an entry of the fragment is placed in it; one in an entry of the base is
    // placed at the base's version, with that entry's index there.
    const std::optional<IndexedPath> at = SplitIndexedPath(error.path);
    int j = -1;
    int b = -1;
    if (at && at->type == listeners.type()) {
      j = listeners.FragmentIndex(at->index);
      b = listeners.BaseIndex(at->index);
    } else if (at && at->type == routes.type()) {
      j = routes.FragmentIndex(at->index);
      b = routes.BaseIndex(at->index);
    } else if (at && at->type == clusters.type()) {
      j = clusters.FragmentIndex(at->index);
      b = clusters.BaseIndex(at->index);
    }
    if (j >= 0) {
      error.path = Indexed(at->type, j) + std::string(at->rest);
      error.location = FindLocation(fragment.locations, error.path);
    } else {
      if (b >= 0) error.path = Indexed(at->type, b) + std::string(at->rest);
      error.location = std::string(base_name);
    }
    errors.push_back(std::move(error));
  }
  return result;
}

}  // namespace

ConfigFragment ReadConfigFragment(std::string_view yaml, std::string_view source_name,
                                  const DocumentLimits& limits) {
  try {
    return ReadFragment(yaml, source_name, limits);
  } catch (const std::exception& e) {
    ConfigFragment fragment;
    fragment.errors.push_back({"", std::string("cannot load config: ") + e.what(), ""});
    return fragment;
  }
}

MergeResult MergeConfig(const v1::Config& base, const ConfigFragment& fragment,
                        const std::vector<std::string>& remove, std::string_view base_name,
                        const DocumentLimits& limits) {
  try {
    return Merge(base, fragment, remove, base_name, limits);
  } catch (const std::exception& e) {
    MergeResult result;
    result.merged.errors.push_back({"", std::string("cannot merge config: ") + e.what(), ""});
    return result;
  }
}

MergeResult MergeConfigString(const v1::Config& base, std::string_view yaml,
                              std::string_view source_name, const std::vector<std::string>& remove,
                              std::string_view base_name, const DocumentLimits& limits) {
  return MergeConfig(base, ReadConfigFragment(yaml, source_name, limits), remove, base_name, limits);
}

}  // namespace hermes::config
