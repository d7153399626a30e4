// A JSON document built by hand, so hermesctl's -o json shapes are ours (ctl/README.md) and do
// not follow proto field renames. Object keys keep their insertion order. -o yaml writes the same
// tree as YAML.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace hermes::ctl {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() : value_(nullptr) {}  // null
  Json(bool b) : value_(b) {}
  Json(int64_t n) : value_(n) {}
  Json(uint64_t n) : value_(n) {}
  Json(std::string s) : value_(std::move(s)) {}
  Json(std::string_view s) : value_(std::string(s)) {}
  Json(const char* s) : value_(std::string(s)) {}

  static Json MakeArray() { return Json(Array{}); }
  static Json MakeObject() { return Json(Object{}); }
  // A number with exactly `decimals` digits after the point ("20.000"), so rates and latencies
  // keep the precision ctl/README.md documents; null when `value` is NaN or infinite.
  static Json Fixed(double value, int decimals);

  // Adds a member to an object (the value must be an object).
  Json& Set(std::string key, Json value);
  // Appends to an array (the value must be an array).
  Json& Push(Json value);

  // Two-space indented text with a final newline.
  std::string Dump() const;
  // The whole document on one line, with a final newline (--watch prints one document a line).
  std::string DumpCompact() const;
  // The same document as YAML 1.2 block style, two-space indented, with a final newline. Strings
  // are plain when YAML reads them back as the same string, a literal block (`|`) when they span
  // lines, else double-quoted with JSON's escapes (which YAML shares).
  std::string DumpYaml() const;

 private:
  struct FixedNumber {
    std::string text;
  };
  explicit Json(FixedNumber n) : value_(std::move(n)) {}
  explicit Json(Array a) : value_(std::move(a)) {}
  explicit Json(Object o) : value_(std::move(o)) {}
  void DumpTo(std::string& out, int indent) const;
  void DumpCompactTo(std::string& out) const;
  bool IsScalarInYaml() const;
  void DumpYamlScalar(std::string& out, int indent) const;
  void DumpYamlMapping(std::string& out, int indent, bool on_dash_line) const;
  void DumpYamlSequence(std::string& out, int indent, bool on_dash_line) const;

  std::variant<std::nullptr_t, bool, int64_t, uint64_t, FixedNumber, std::string, Array, Object>
      value_;
};

}  // namespace hermes::ctl
