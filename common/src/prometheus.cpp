#include "hermes/common/prometheus.h"

#include <charconv>
#include <cmath>

namespace hermes {

void PrometheusWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PrometheusWriter::Start(std::string_view name, Labels labels) {
  out_.append(name);
  if (labels.size() == 0) {
    out_.append(" ");
    return;
  }
  out_.append("{");
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out_.append(",");
    first = false;
    out_.append(k).append("=\"");
    for (char c : v) {  // label value escaping: backslash, quote, newline
      if (c == '\\' || c == '"') {
        out_.push_back('\\');
        out_.push_back(c);
      } else if (c == '\n') {
        out_.append("\\n");
      } else {
        out_.push_back(c);
      }
    }
    out_.append("\"");
  }
  out_.append("} ");
}

void PrometheusWriter::Sample(std::string_view name, Labels labels, double value) {
  Start(name, labels);
  if (std::isinf(value)) {
    out_.append(value > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, value);
    out_.append(buf, r.ptr);
  }
  out_.append("\n");
}

void PrometheusWriter::Sample(std::string_view name, Labels labels, uint64_t value) {
  Start(name, labels);
  out_.append(std::to_string(value)).append("\n");
}

void PrometheusWriter::Sample(std::string_view name, Labels labels, int64_t value) {
  Start(name, labels);
  out_.append(std::to_string(value)).append("\n");
}

}  // namespace hermes
