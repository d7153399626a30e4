#include "ctl/json.h"

#include <array>
#include <cmath>
#include <cstdio>

#include "ctl/number_text.h"
#include "hermes/common/ascii.h"
#include "hermes/common/json.h"

namespace hermes::ctl {
namespace {

// --- YAML scalars ---

// The code points YAML (and PyYAML) do not take raw in a stream or that break a line: C1 controls,
// U+2028, U+2029, the byte order mark and the two non-characters U+FFFE and U+FFFF. Returns the
// code point the UTF-8 sequence at `s[i]` encodes when it is one of them, and its length.
struct Special {
  char32_t code_point = 0;
  size_t length = 0;
};
Special SpecialSequence(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  if (i + 1 < s.size() && byte(0) == 0xC2 && byte(1) >= 0x80 && byte(1) <= 0x9F) {
    return {static_cast<char32_t>(byte(1)), 2};
  }
  if (i + 2 < s.size() && byte(0) == 0xE2 && byte(1) == 0x80 &&
      (byte(2) == 0xA8 || byte(2) == 0xA9)) {
    return {byte(2) == 0xA8 ? U'\u2028' : U'\u2029', 3};
  }
  if (i + 2 < s.size() && byte(0) == 0xEF && byte(1) == 0xBB && byte(2) == 0xBF) return {0xFEFF, 3};
  if (i + 2 < s.size() && byte(0) == 0xEF && byte(1) == 0xBF &&
      (byte(2) == 0xBE || byte(2) == 0xBF)) {
    return {byte(2) == 0xBE ? char32_t{0xFFFE} : char32_t{0xFFFF}, 3};
  }
  return {};
}

// True when `s` has a character a plain or literal scalar cannot hold: a control character
// (`allowed` excepted), DEL, or one of SpecialSequence's.
bool HasUnprintable(std::string_view s, std::string_view allowed) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c < 0x20 || c == 0x7F) && allowed.find(s[i]) == std::string_view::npos) return true;
    if (SpecialSequence(s, i).length > 0) return true;
  }
  return false;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }


// Whether a plain (unquoted) scalar would read back as this same string, in YAML 1.2 and in the
// YAML 1.1 many tools still use (where yes, on and 1:20 are not strings).
bool CanBePlain(std::string_view s) {
  if (s.empty() || s.front() == ' ' || s.back() == ' ' || HasUnprintable(s, "")) return false;
  // Indicators that start something else (a sequence, a comment, an anchor, a flow collection...).
  if (std::string_view("-?:,[]{}#&*!|>'\"%@`").find(s.front()) != std::string_view::npos) {
    return false;
  }
  if (s.find(": ") != std::string_view::npos || s.find(" #") != std::string_view::npos ||
      s.back() == ':') {
    return false;
  }
  // Numbers, timestamps and sexagesimals all start with a digit, or a sign or point and a digit.
  if (IsDigit(s.front())) return false;
  if (s.size() > 1 && (s.front() == '+' || s.front() == '.') && (IsDigit(s[1]) || s[1] == '.')) {
    return false;
  }
  // Words YAML 1.1 or 1.2 read as null, booleans, infinity, not-a-number, or merge keys.
  static constexpr std::array<std::string_view, 17> kReserved = {
      "null", "~", "true", "false", "yes",   "no",   "on",  "off", "y",
      "n",    "=", "<<",   ".inf",  "+.inf", ".nan", "inf", "nan"};
  const std::string lower = AsciiLower(s);
  for (std::string_view word : kReserved) {
    if (lower == word) return false;
  }
  return true;
}

// A literal block (`|`) keeps a multi-line text readable (a diff, a config). It cannot start
// with an indented line (its indentation would be taken for the block's) or hold a carriage
// return or other control characters.
bool CanBeLiteral(std::string_view s) {
  if (s.find('\n') == std::string_view::npos || HasUnprintable(s, "\n\t")) return false;
  const size_t first = s.find_first_not_of('\n');
  return first != std::string_view::npos && s[first] != ' ' && s[first] != '\t';
}

void AppendYamlQuoted(std::string& out, std::string_view s) {
  out.push_back('"');
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const Special special = SpecialSequence(s, i);
    char buf[8];
    if (special.length > 0) {
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(special.code_point));
      out += buf;
      i += special.length - 1;
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(c));
      out += buf;
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

// `s` as a literal block whose lines are indented by `indent` spaces, after its header line.
void AppendYamlLiteral(std::string& out, std::string_view s, int indent) {
  size_t trailing = 0;
  while (trailing < s.size() && s[s.size() - 1 - trailing] == '\n') ++trailing;
  // Chomping: `|-` drops the missing final line break, `|` keeps one, `|+` keeps them all.
  out += trailing == 0 ? "|-\n" : trailing == 1 ? "|\n" : "|+\n";
  const std::string margin(static_cast<size_t>(indent), ' ');
  std::string_view rest = s.substr(0, s.size() - (trailing > 0 ? 1 : 0));
  while (true) {
    const size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    if (!line.empty()) out += margin;
    out += line;
    out.push_back('\n');
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
}

void AppendYamlString(std::string& out, std::string_view s, int indent) {
  if (CanBePlain(s)) {
    out += s;
    out.push_back('\n');
  } else if (CanBeLiteral(s)) {
    AppendYamlLiteral(out, s, indent + 2);
  } else {
    AppendYamlQuoted(out, s);
    out.push_back('\n');
  }
}

void AppendYamlKey(std::string& out, std::string_view key) {
  if (CanBePlain(key)) {
    out += key;
  } else {
    AppendYamlQuoted(out, key);
  }
  out.push_back(':');
}

}  // namespace

Json Json::Fixed(double value, int decimals) {
  if (!std::isfinite(value)) return Json();
  return Json(FixedNumber{FormatFixed(value, decimals)});
}

Json& Json::Set(std::string key, Json value) {
  std::get<Object>(value_).emplace_back(std::move(key), std::move(value));
  return *this;
}

Json& Json::Push(Json value) {
  std::get<Array>(value_).push_back(std::move(value));
  return *this;
}

std::string Json::Dump() const {
  std::string out;
  DumpTo(out, 0);
  out.push_back('\n');
  return out;
}

std::string Json::DumpCompact() const {
  std::string out;
  DumpCompactTo(out);
  out.push_back('\n');
  return out;
}

void Json::DumpTo(std::string& out, int indent) const {
  const std::string inner(static_cast<size_t>(indent + 2), ' ');
  const std::string outer(static_cast<size_t>(indent), ' ');
  if (const Array* a = std::get_if<Array>(&value_)) {
    if (a->empty()) {
      out += "[]";
      return;
    }
    out += "[\n";
    for (size_t n = 0; n < a->size(); ++n) {
      out += inner;
      (*a)[n].DumpTo(out, indent + 2);
      out += n + 1 < a->size() ? ",\n" : "\n";
    }
    out += outer + "]";
  } else if (const Object* o = std::get_if<Object>(&value_)) {
    if (o->empty()) {
      out += "{}";
      return;
    }
    out += "{\n";
    for (size_t n = 0; n < o->size(); ++n) {
      out += inner;
      AppendJsonString(out, (*o)[n].first);
      out += ": ";
      (*o)[n].second.DumpTo(out, indent + 2);
      out += n + 1 < o->size() ? ",\n" : "\n";
    }
    out += outer + "}";
  } else {
    DumpCompactTo(out);
  }
}

void Json::DumpCompactTo(std::string& out) const {
  if (std::holds_alternative<std::nullptr_t>(value_)) {
    out += "null";
  } else if (const bool* b = std::get_if<bool>(&value_)) {
    out += *b ? "true" : "false";
  } else if (const int64_t* i = std::get_if<int64_t>(&value_)) {
    out += std::to_string(*i);
  } else if (const uint64_t* u = std::get_if<uint64_t>(&value_)) {
    out += std::to_string(*u);
  } else if (const FixedNumber* f = std::get_if<FixedNumber>(&value_)) {
    out += f->text;
  } else if (const std::string* s = std::get_if<std::string>(&value_)) {
    AppendJsonString(out, *s);
  } else if (const Array* a = std::get_if<Array>(&value_)) {
    out.push_back('[');
    for (size_t n = 0; n < a->size(); ++n) {
      if (n > 0) out.push_back(',');
      (*a)[n].DumpCompactTo(out);
    }
    out.push_back(']');
  } else if (const Object* o = std::get_if<Object>(&value_)) {
    out.push_back('{');
    for (size_t n = 0; n < o->size(); ++n) {
      if (n > 0) out.push_back(',');
      AppendJsonString(out, (*o)[n].first);
      out.push_back(':');
      (*o)[n].second.DumpCompactTo(out);
    }
    out.push_back('}');
  }
}

std::string Json::DumpYaml() const {
  std::string out;
  if (IsScalarInYaml()) {
    DumpYamlScalar(out, 0);
  } else if (std::holds_alternative<Object>(value_)) {
    DumpYamlMapping(out, 0, false);
  } else {
    DumpYamlSequence(out, 0, false);
  }
  return out;
}

bool Json::IsScalarInYaml() const {
  if (const Array* a = std::get_if<Array>(&value_)) return a->empty();
  if (const Object* o = std::get_if<Object>(&value_)) return o->empty();
  return true;
}

// A scalar (or an empty collection, in flow style) and its line break. `indent` is the
// indentation of the line it is on, for the lines of a literal block.
void Json::DumpYamlScalar(std::string& out, int indent) const {
  if (const std::string* s = std::get_if<std::string>(&value_)) {
    AppendYamlString(out, *s, indent);
    return;
  }
  // null, booleans and numbers read the same in JSON and YAML; so do [] and {}.
  DumpCompactTo(out);
  out.push_back('\n');
}

// A non-empty mapping whose keys are at column `indent`; `on_dash_line`: its first key follows a
// sequence's "- " on the current line.
void Json::DumpYamlMapping(std::string& out, int indent, bool on_dash_line) const {
  const Object& o = std::get<Object>(value_);
  for (size_t n = 0; n < o.size(); ++n) {
    if (n > 0 || !on_dash_line) out.append(static_cast<size_t>(indent), ' ');
    AppendYamlKey(out, o[n].first);
    const Json& value = o[n].second;
    if (value.IsScalarInYaml()) {
      out.push_back(' ');
      value.DumpYamlScalar(out, indent);
    } else if (std::holds_alternative<Object>(value.value_)) {
      out.push_back('\n');
      value.DumpYamlMapping(out, indent + 2, false);
    } else {
      out.push_back('\n');
      value.DumpYamlSequence(out, indent + 2, false);
    }
  }
}

// A non-empty sequence whose dashes are at column `indent`.
void Json::DumpYamlSequence(std::string& out, int indent, bool on_dash_line) const {
  const Array& a = std::get<Array>(value_);
  for (size_t n = 0; n < a.size(); ++n) {
    if (n > 0 || !on_dash_line) out.append(static_cast<size_t>(indent), ' ');
    out += "- ";
    const Json& item = a[n];
    if (item.IsScalarInYaml()) {
      item.DumpYamlScalar(out, indent);
    } else if (std::holds_alternative<Object>(item.value_)) {
      item.DumpYamlMapping(out, indent + 2, true);
    } else {
      item.DumpYamlSequence(out, indent + 2, true);
    }
  }
}

}  // namespace hermes::ctl
