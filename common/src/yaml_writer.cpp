#include "hermes/common/yaml_writer.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/duration.pb.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <vector>

#include "hermes/common/ascii.h"
#include "hermes/common/duration.h"

namespace hermes::config {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The shortest text that reads back as the same value (std::to_chars without a precision), so
// that two configs differing in a number never render alike ("%g" printed 1.2345678 as 1.23457).
// YAML 1.2's spellings for the values that have no digits.
template <class T>
std::string Number(T v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v < 0 ? "-.inf" : ".inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, ec == std::errc{} ? end : buf);
}

bool IsDuration(const FieldDescriptor& f) {
  return f.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
         f.message_type()->full_name() == "google.protobuf.Duration";
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}


std::string Scalar(const Message& m, const FieldDescriptor& f, int index) {
  const Reflection& r = *m.GetReflection();
  bool rep = f.is_repeated();
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return std::to_string(rep ? r.GetRepeatedInt32(m, &f, index) : r.GetInt32(m, &f));
    case FieldDescriptor::CPPTYPE_INT64:
      return std::to_string(rep ? r.GetRepeatedInt64(m, &f, index) : r.GetInt64(m, &f));
    case FieldDescriptor::CPPTYPE_UINT32:
      return std::to_string(rep ? r.GetRepeatedUInt32(m, &f, index) : r.GetUInt32(m, &f));
    case FieldDescriptor::CPPTYPE_UINT64:
      return std::to_string(rep ? r.GetRepeatedUInt64(m, &f, index) : r.GetUInt64(m, &f));
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return Number(rep ? r.GetRepeatedDouble(m, &f, index) : r.GetDouble(m, &f));
    case FieldDescriptor::CPPTYPE_FLOAT:
      return Number(rep ? r.GetRepeatedFloat(m, &f, index) : r.GetFloat(m, &f));
    case FieldDescriptor::CPPTYPE_BOOL:
      return (rep ? r.GetRepeatedBool(m, &f, index) : r.GetBool(m, &f)) ? "true" : "false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return AsciiLower(std::string((rep ? r.GetRepeatedEnum(m, &f, index) : r.GetEnum(m, &f))->name()));
    case FieldDescriptor::CPPTYPE_STRING:
      return Quote(rep ? r.GetRepeatedString(m, &f, index) : r.GetString(m, &f));
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& d = rep ? r.GetRepeatedMessage(m, &f, index) : r.GetMessage(m, &f);
      return FormatDuration(ToChrono(static_cast<const google::protobuf::Duration&>(d)));
    }
  }
  return "";
}

// Writes the fields of `m` at `indent`. `first_prefix` replaces the indent of the first line
// (for "- " list items).
void WriteMessage(const Message& m, int indent, std::string& out, std::string_view first_prefix = {}) {
  const Reflection& r = *m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  r.ListFields(m, &fields);
  std::sort(fields.begin(), fields.end(),
            [](auto* a, auto* b) { return a->number() < b->number(); });
  bool first = true;
  auto pad = [&]() {
    if (first && !first_prefix.empty()) {
      out.append(first_prefix);
    } else {
      out.append(static_cast<size_t>(indent), ' ');
    }
    first = false;
  };
  if (fields.empty() && !first_prefix.empty()) {
    out.append(first_prefix).append("{}\n");
    return;
  }
  for (const FieldDescriptor* f : fields) {
    bool message = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !IsDuration(*f);
    if (f->is_map()) continue;  // the config schema has none
    if (!f->is_repeated()) {
      pad();
      out.append(f->name()).append(":");
      if (message) {
        const Message& sub = r.GetMessage(m, f);
        std::vector<const FieldDescriptor*> sub_fields;
        sub.GetReflection()->ListFields(sub, &sub_fields);
        if (sub_fields.empty()) {
          out.append(" {}\n");
        } else {
          out.append("\n");
          WriteMessage(sub, indent + 2, out);
        }
      } else {
        out.append(" ").append(Scalar(m, *f, -1)).append("\n");
      }
      continue;
    }
    pad();
    out.append(f->name()).append(":");
    int n = r.FieldSize(m, f);
    if (!message) {
      out.append(" [");
      for (int i = 0; i < n; ++i) out.append(i ? ", " : "").append(Scalar(m, *f, i));
      out.append("]\n");
      continue;
    }
    out.append("\n");
    for (int i = 0; i < n; ++i) {
      std::string prefix(static_cast<size_t>(indent + 2), ' ');
      prefix += "- ";
      WriteMessage(r.GetRepeatedMessage(m, f, i), indent + 4, out, prefix);
    }
  }
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return lines;
}

}  // namespace

std::string ToYaml(const Message& message) {
  std::string out;
  WriteMessage(message, 0, out);
  return out;
}

std::string LineDiff(std::string_view from, std::string_view to, std::string_view from_name,
                     std::string_view to_name) {
  if (from == to) return "";
  auto a = Lines(from), b = Lines(to);
  size_t n = a.size(), m = b.size();
  // Longest common subsequence table; configs are small (hundreds of lines).
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
  struct Line {
    char op;
    std::string_view text;
  };
  std::vector<Line> edit;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      edit.push_back({' ', a[i]});
      ++i;
      ++j;
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      edit.push_back({'-', a[i++]});  // removals before additions, as diff -u prints them
    } else {
      edit.push_back({'+', b[j++]});
    }
  }
  constexpr size_t kContext = 3;
  std::string out = "--- " + std::string(from_name) + "\n+++ " + std::string(to_name) + "\n";
  std::vector<bool> show(edit.size(), false);
  for (size_t k = 0; k < edit.size(); ++k) {
    if (edit[k].op == ' ') continue;
    size_t lo = k >= kContext ? k - kContext : 0;
    for (size_t x = lo; x < std::min(edit.size(), k + kContext + 1); ++x) show[x] = true;
  }
  bool gap = false;
  for (size_t k = 0; k < edit.size(); ++k) {
    if (!show[k]) {
      gap = true;
      continue;
    }
    if (gap) out += "@@\n";
    gap = false;
    out += edit[k].op;
    out.append(edit[k].text).append("\n");
  }
  return out;
}

}  // namespace hermes::config
