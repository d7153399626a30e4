// The -o json and -o yaml text of a document, alone or in a --watch stream.
#include "ctl/render.h"

namespace hermes::ctl {

std::string Document(const Json& doc, OutputFormat format) {
  return format == OutputFormat::kYaml ? doc.DumpYaml() : doc.Dump();
}

std::string WatchedDocument(const Json& doc, OutputFormat format) {
  return format == OutputFormat::kYaml ? "---\n" + doc.DumpYaml() : doc.DumpCompact();
}

}  // namespace hermes::ctl
