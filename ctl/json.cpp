#include "ctl/json.h"

#include <cmath>

#include "ctl/number_text.h"
#include "hermes/common/json.h"

namespace hermes::ctl {

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

void Json::DumpTo(std::string& out, int indent) const {
  const std::string inner(static_cast<size_t>(indent + 2), ' ');
  const std::string outer(static_cast<size_t>(indent), ' ');
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
  }
}

}  // namespace hermes::ctl
