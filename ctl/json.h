// A JSON document built by hand, so hermesctl's -o json shapes are ours (ctl/README.md) and do
// not follow proto field renames. Object keys keep their insertion order.
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

  // Adds a member to an object (the value must be an object).
  Json& Set(std::string key, Json value);
  // Appends to an array (the value must be an array).
  Json& Push(Json value);

  // Two-space indented text with a final newline.
  std::string Dump() const;

 private:
  explicit Json(Array a) : value_(std::move(a)) {}
  explicit Json(Object o) : value_(std::move(o)) {}
  void DumpTo(std::string& out, int indent) const;

  std::variant<std::nullptr_t, bool, int64_t, uint64_t, std::string, Array, Object> value_;
};

}  // namespace hermes::ctl
