// Output of the config commands: apply, get config, history, diff, rollback.
#include <string_view>

#include "ctl/render.h"
#include "ctl/table.h"
#include "ctl/time_text.h"

namespace hermes::ctl {
namespace {

std::string V(uint64_t id) { return "v" + std::to_string(id); }

std::string WithNewline(std::string text) {
  if (!text.empty() && text.back() != '\n') text.push_back('\n');
  return text;
}

std::string ShortHash(const std::string& hash) { return hash.substr(0, 12); }

// The line that says --force aborted a rollout before the change; "" when it did not.
std::string AbortedFirst(uint64_t rollout) {
  if (rollout == 0) return "";
  return "aborted rollout #" + std::to_string(rollout) + " first (--force)\n";
}

std::string Staged(const v1::ApplyConfigResponse& response) {
  const uint64_t id = response.version().id();
  const std::string fleet = response.fleet_version() == 0
                                ? "no proxy runs a stored version yet"
                                : "the fleet stays on " + V(response.fleet_version());
  return "staged: " + V(id) + " (" + fleet + "; roll it out with: hermesctl rollout start " +
         std::to_string(id) + ")\n";
}

}  // namespace

std::string VersionCell(uint64_t version) { return version == 0 ? "-" : V(version); }

Json TimeJson(int64_t unix_ms) {
  return unix_ms == 0 || !InRfc3339Range(unix_ms) ? Json() : Json(FormatRfc3339Millis(unix_ms));
}

Json VersionJson(const v1::ConfigVersion& version) {
  Json j = Json::MakeObject();
  j.Set("id", Json(uint64_t{version.id()}))
      .Set("parent", Json(uint64_t{version.parent()}))
      .Set("hash", Json(version.hash()))
      .Set("author", Json(version.author()))
      .Set("message", Json(version.message()))
      .Set("created_at", TimeJson(version.created_unix_ms()));
  return j;
}

std::string FormatConfigError(const v1::ConfigError& error) {
  std::string line;
  for (const std::string* part : {&error.location(), &error.path()}) {
    if (!part->empty()) line += *part + ": ";
  }
  return line + error.message();
}

Rendered RenderApply(const v1::ApplyConfigResponse& response, const ApplyArgs& args,
                     OutputFormat format) {
  const bool refused = response.errors_size() > 0;
  Rendered r;
  r.exit_code = refused ? 1 : 0;

  if (format != OutputFormat::kTable) {
    std::string_view result = "unchanged";
    if (refused) {
      result = "refused";
    } else if (response.created()) {
      result = args.dry_run ? "would_apply" : response.staged() ? "staged" : "applied";
    } else if (response.deployed()) {
      result = "deployed";
    }
    Json errors = Json::MakeArray();
    for (const auto& e : response.errors()) {
      Json je = Json::MakeObject();
      je.Set("location", Json(e.location()))
          .Set("path", Json(e.path()))
          .Set("message", Json(e.message()));
      errors.Push(std::move(je));
    }
    Json j = Json::MakeObject();
    j.Set("result", Json(result))
        .Set("dry_run", Json(args.dry_run))
        .Set("staged", Json(response.staged()))
        .Set("version", response.has_version() && response.version().id() != 0
                            ? VersionJson(response.version())
                            : Json())
        .Set("fleet_version", Json(uint64_t{response.fleet_version()}))
        .Set("aborted_rollout", Json(uint64_t{response.aborted_rollout()}))
        .Set("diff", Json(response.diff()))
        .Set("errors", std::move(errors));
    r.out = Document(j, format);
    return r;
  }

  const std::string source = args.file == "-"    ? "<stdin>"
                             : args.file.empty() ? "the merge"
                                                 : args.file;
  if (refused) {
    const int n = response.errors_size();
    r.err = "hermesctl: the control plane refused " + source + " (" + std::to_string(n) +
            (n == 1 ? " error" : " errors") + "):\n";
    for (const auto& e : response.errors()) r.err += FormatConfigError(e) + "\n";
    return r;
  }
  if (args.dry_run) {
    r.out = WithNewline(response.diff());
    if (response.created()) {
      r.out += "dry run: " + source + " is valid and would become a new version; nothing stored\n";
    } else {
      r.out += "dry run: " + source + " is valid and equals the current version " +
               V(response.version().id()) + "; nothing stored\n";
    }
    return r;
  }
  r.out = AbortedFirst(response.aborted_rollout());
  if (response.created() && response.staged()) {
    r.out += Staged(response);
  } else if (!response.created() && response.deployed()) {
    // The content was stored already (staged): this apply made it the fleet's.
    r.out += "deployed: " + V(response.version().id()) + " (stored before; now every proxy's)\n";
  } else {
    r.out += (response.created() ? "applied: " : "unchanged: ") + V(response.version().id()) + "\n";
  }
  return r;
}

std::string RenderConfig(const v1::GetConfigResponse& response, OutputFormat format,
                         TimePoint now) {
  const v1::ConfigVersion& v = response.version();
  if (format != OutputFormat::kTable) {
    Json j = Json::MakeObject();
    j.Set("version", VersionJson(v)).Set("yaml", Json(response.yaml()));
    return Document(j, format);
  }
  std::string out = "# hermes config " + V(v.id());
  if (v.parent() != 0) out += " (parent " + V(v.parent()) + ")";
  out += "\n# author: " + v.author() + "\n";
  out += "# created: " + FormatRfc3339(v.created_unix_ms()) + " (" +
         FormatAge(v.created_unix_ms(), now) + ")\n";
  out += "# hash: " + v.hash() + "\n";
  if (!v.message().empty()) out += "# message: " + Truncate(v.message(), 200) + "\n";
  return out + WithNewline(response.yaml());
}

std::string RenderHistory(const v1::ListVersionsResponse& response, OutputFormat format,
                          TimePoint now) {
  if (format != OutputFormat::kTable) {
    Json versions = Json::MakeArray();
    for (const auto& v : response.versions()) versions.Push(VersionJson(v));
    Json j = Json::MakeObject();
    j.Set("versions", std::move(versions));
    return Document(j, format);
  }
  if (response.versions().empty()) return "no config versions stored yet\n";
  Table t{{"ID", "PARENT", "AUTHOR", "CREATED", "AGE", "HASH", "MESSAGE"}, {}};
  for (const auto& v : response.versions()) {
    t.rows.push_back({std::to_string(v.id()), v.parent() == 0 ? "-" : std::to_string(v.parent()),
                      Truncate(v.author(), 20), FormatRfc3339(v.created_unix_ms()),
                      FormatAge(v.created_unix_ms(), now), ShortHash(v.hash()),
                      Truncate(v.message(), 60)});
  }
  return RenderTable(t);
}

std::string RenderDiff(const v1::DiffVersionsResponse& response, const DiffArgs& args,
                       OutputFormat format) {
  if (format != OutputFormat::kTable) {
    Json j = Json::MakeObject();
    j.Set("from", Json(uint64_t{args.from}))
        .Set("to", Json(uint64_t{args.to}))
        .Set("diff", Json(response.diff()));
    return Document(j, format);
  }
  if (response.diff().empty()) {
    return "no differences between " + V(args.from) + " and " + V(args.to) + "\n";
  }
  return WithNewline(response.diff());
}

std::string RenderRollback(const v1::RollbackResponse& response, const RollbackArgs& args,
                           OutputFormat format) {
  const v1::ConfigVersion& v = response.version();
  if (format != OutputFormat::kTable) {
    Json j = Json::MakeObject();
    j.Set("version", VersionJson(v))
        .Set("aborted_rollout", Json(uint64_t{response.aborted_rollout()}));
    return Document(j, format);
  }
  const std::string content =
      args.version != 0 ? V(args.version) : "the version before " + V(v.parent());
  return AbortedFirst(response.aborted_rollout()) + "rolled back: " + V(v.id()) +
         " is current, with the content of " + content + "\n";
}

}  // namespace hermes::ctl
