// The one YAML -> protobuf reader: walks the YAML tree and the message descriptor together.
#include "hermes/common/yaml_reader.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cstdint>
#include <istream>
#include <limits>
#include <optional>
#include <streambuf>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hermes/common/duration.h"
#include "spelling.h"
#include "yaml_scalar.h"

namespace hermes::config {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return "\"" + node.Scalar() + "\"";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

std::string ExpectedKind(const FieldDescriptor& field) {
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      return "a string";
    case FieldDescriptor::CPPTYPE_BOOL:
      return "true or false";
    case FieldDescriptor::CPPTYPE_ENUM:
      return "a name";
    default:
      return "a number";
  }
}

bool IsDuration(const FieldDescriptor& field) {
  return field.message_type() != nullptr &&
         field.message_type()->full_name() == "google.protobuf.Duration";
}

std::string ChildPath(const std::string& parent, std::string_view name) {
  return parent.empty() ? std::string(name) : parent + "." + std::string(name);
}

// One value into a singular field, or appended to a repeated one.
void Store(Message& m, const FieldDescriptor& f, int32_t v) {
  f.is_repeated() ? m.GetReflection()->AddInt32(&m, &f, v) : m.GetReflection()->SetInt32(&m, &f, v);
}
void Store(Message& m, const FieldDescriptor& f, int64_t v) {
  f.is_repeated() ? m.GetReflection()->AddInt64(&m, &f, v) : m.GetReflection()->SetInt64(&m, &f, v);
}
void Store(Message& m, const FieldDescriptor& f, uint32_t v) {
  f.is_repeated() ? m.GetReflection()->AddUInt32(&m, &f, v)
                  : m.GetReflection()->SetUInt32(&m, &f, v);
}
void Store(Message& m, const FieldDescriptor& f, uint64_t v) {
  f.is_repeated() ? m.GetReflection()->AddUInt64(&m, &f, v)
                  : m.GetReflection()->SetUInt64(&m, &f, v);
}
void Store(Message& m, const FieldDescriptor& f, double v) {
  f.is_repeated() ? m.GetReflection()->AddDouble(&m, &f, v)
                  : m.GetReflection()->SetDouble(&m, &f, v);
}
void Store(Message& m, const FieldDescriptor& f, float v) {
  f.is_repeated() ? m.GetReflection()->AddFloat(&m, &f, v) : m.GetReflection()->SetFloat(&m, &f, v);
}
void Store(Message& m, const FieldDescriptor& f, bool v) {
  f.is_repeated() ? m.GetReflection()->AddBool(&m, &f, v) : m.GetReflection()->SetBool(&m, &f, v);
}
void Store(Message& m, const FieldDescriptor& f, std::string v) {
  f.is_repeated() ? m.GetReflection()->AddString(&m, &f, std::move(v))
                  : m.GetReflection()->SetString(&m, &f, std::move(v));
}
void StoreEnum(Message& m, const FieldDescriptor& f, int v) {
  f.is_repeated() ? m.GetReflection()->AddEnumValue(&m, &f, v)
                  : m.GetReflection()->SetEnumValue(&m, &f, v);
}

Message& StoreMessage(Message& m, const FieldDescriptor& f) {
  return f.is_repeated() ? *m.GetReflection()->AddMessage(&m, &f)
                         : *m.GetReflection()->MutableMessage(&m, &f);
}

// Through reflection rather than the generated class, so any descriptor pool works.
void SetDuration(Message& duration, std::chrono::nanoseconds value) {
  const google::protobuf::Duration proto = ToProto(value);
  const auto* descriptor = duration.GetDescriptor();
  duration.GetReflection()->SetInt64(&duration, descriptor->FindFieldByName("seconds"),
                                     proto.seconds());
  duration.GetReflection()->SetInt32(&duration, descriptor->FindFieldByName("nanos"),
                                     proto.nanos());
}

class MessageReader {
 public:
  explicit MessageReader(std::string_view source_name) : source_name_(source_name) {}

  void ReadMessage(const YAML::Node& node, Message& message, const std::string& path) {
    if (node.IsNull() || OverBudget(node)) return;
    if (!node.IsMap()) {
      Fail(node, path, "expected a map, got " + Describe(node));
      return;
    }
    std::unordered_map<std::string, YAML::Mark> seen;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      const YAML::Node& value = entry.second;
      if (!key.IsScalar()) {
        Fail(key, path, "expected a key name, got " + Describe(key));
        continue;
      }
      const std::string& name = key.Scalar();
      const std::string field_path = ChildPath(path, name);
      if (auto [first, inserted] = seen.emplace(name, key.Mark()); !inserted) {
        Fail(key, field_path,
             "duplicate key '" + name + "' (first at " + LocationOf(first->second, source_name_) +
                 ")");
        continue;
      }
      const FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(name);
      if (field == nullptr) {
        Fail(key, path, UnknownKey(name, *message.GetDescriptor()));
        continue;
      }
      if (const auto* oneof = field->containing_oneof()) {
        const FieldDescriptor* set = message.GetReflection()->GetOneofFieldDescriptor(message, oneof);
        if (set != nullptr && set != field) {
          Fail(key, field_path,
               "'" + name + "' and '" + set->name() + "' are alternatives: set only one");
          continue;
        }
      }
      // A block map or list starts at its first entry, a line below its key: the key is the
      // place a reader looks for it.
      Record(value.IsScalar() ? value.Mark() : key.Mark(), field_path);
      ReadField(value, message, *field, field_path);
    }
  }

  YamlReadResult Finish() && { return std::move(result_); }

 private:
  void ReadField(const YAML::Node& value, Message& message, const FieldDescriptor& field,
                 const std::string& path) {
    if (value.IsNull()) return;
    if (field.is_map()) {
      Fail(value, path, "map fields are not supported in YAML config");
      return;
    }
    if (!field.is_repeated()) {
      ReadValue(value, message, field, path);
      return;
    }
    if (!value.IsSequence()) {
      Fail(value, path, "expected a list, got " + Describe(value));
      return;
    }
    for (size_t i = 0; i < value.size() && !OverBudget(value); ++i) {
      const YAML::Node element = value[i];
      const std::string element_path = path + "[" + std::to_string(i) + "]";
      Record(element.Mark(), element_path);
      if (element.IsNull()) {
        Fail(element, element_path, "empty list element");
        continue;
      }
      ReadValue(element, message, field, element_path);
    }
  }

  void ReadValue(const YAML::Node& value, Message& message, const FieldDescriptor& field,
                 const std::string& path) {
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE && !IsDuration(field)) {
      ReadMessage(value, StoreMessage(message, field), path);
      return;
    }
    if (!value.IsScalar()) {
      const std::string expected =
          IsDuration(field) ? "a duration such as \"10s\"" : ExpectedKind(field);
      Fail(value, path, "expected " + expected + ", got " + Describe(value));
      return;
    }
    const std::string& text = value.Scalar();
    switch (field.cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE:
        Convert(value, path, ParseDurationText(text),
                [&](std::chrono::nanoseconds v) { SetDuration(StoreMessage(message, field), v); });
        break;
      case FieldDescriptor::CPPTYPE_INT32:
        Convert(value, path,
                ParseSigned(text, std::numeric_limits<int32_t>::min(),
                            std::numeric_limits<int32_t>::max()),
                [&](int64_t v) { Store(message, field, static_cast<int32_t>(v)); });
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        Convert(value, path,
                ParseSigned(text, std::numeric_limits<int64_t>::min(),
                            std::numeric_limits<int64_t>::max()),
                [&](int64_t v) { Store(message, field, v); });
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        Convert(value, path, ParseUnsigned(text, std::numeric_limits<uint32_t>::max()),
                [&](uint64_t v) { Store(message, field, static_cast<uint32_t>(v)); });
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        Convert(value, path, ParseUnsigned(text, std::numeric_limits<uint64_t>::max()),
                [&](uint64_t v) { Store(message, field, v); });
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        Convert(value, path, ParseFloat(text), [&](double v) { Store(message, field, v); });
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        Convert(value, path, ParseFloat(text),
                [&](double v) { Store(message, field, static_cast<float>(v)); });
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        Convert(value, path, ParseBool(text), [&](bool v) { Store(message, field, v); });
        break;
      case FieldDescriptor::CPPTYPE_ENUM:
        Convert(value, path, ParseEnum(text, *field.enum_type()),
                [&](int v) { StoreEnum(message, field, v); });
        break;
      case FieldDescriptor::CPPTYPE_STRING:
        Store(message, field, text);
        break;
    }
  }

  template <class T, class Apply>
  void Convert(const YAML::Node& value, const std::string& path, ScalarValue<T> converted,
               Apply apply) {
    if (converted.value) {
      apply(*converted.value);
    } else {
      Fail(value, path, std::move(converted.error));
    }
  }

  static std::string UnknownKey(const std::string& name,
                                const google::protobuf::Descriptor& descriptor) {
    std::vector<std::string> known;
    for (int i = 0; i < descriptor.field_count(); ++i) known.push_back(descriptor.field(i)->name());
    std::string message = "unknown key '" + name + "'";
    if (std::optional<std::string> suggestion = ClosestName(name, known)) {
      message += "; did you mean '" + *suggestion + "'?";
    }
    return message;
  }

  void Record(const YAML::Mark& mark, const std::string& path) {
    ++values_read_;
    result_.locations[path] = LocationOf(mark, source_name_);
  }

  // Aliases let a short file name the same large list many times over; reading it all would
  // take time and memory quadratic in the file's size. ParseYaml's node limit (aliases counted
  // as what they name) already keeps parsed text under this; it guards a tree built elsewhere.
  bool OverBudget(const YAML::Node& at) {
    if (values_read_ <= kMaxValues) return false;
    if (!over_budget_reported_) {
      Fail(at, "",
           "more than " + std::to_string(kMaxValues) +
               " values to read (too many aliases of large lists?); stopped reading");
      over_budget_reported_ = true;
    }
    return true;
  }

  void Fail(const YAML::Node& at, std::string path, std::string message) {
    result_.errors.push_back(
        {std::move(path), std::move(message), LocationOf(at.Mark(), source_name_)});
  }

  static constexpr size_t kMaxValues = DocumentLimits{}.max_nodes;

  std::string source_name_;
  YamlReadResult result_;
  size_t values_read_ = 0;
  bool over_budget_reported_ = false;
};

bool IndentedWithTab(std::string_view text, int line) {
  for (int i = 0; i < line; ++i) {
    const size_t end = text.find('\n');
    if (end == std::string_view::npos) return false;
    text.remove_prefix(end + 1);
  }
  const size_t indent_end = text.find_first_not_of(" \t");
  return text.substr(0, indent_end).find('\t') != std::string_view::npos;
}

ConfigError ParseError(const YAML::Exception& e, std::string_view source_name,
                       std::string_view text = {}) {
  std::string message = "invalid YAML: " + e.msg;
  // yaml-cpp reports a tab in indentation as some other syntax error, far from the cause.
  if (!e.mark.is_null() && IndentedWithTab(text, e.mark.line)) {
    message += " (this line is indented with a tab; YAML indentation must use spaces)";
  }
  return {"", std::move(message), LocationOf(e.mark, source_name)};
}

// A document refused by its shape while yaml-cpp reads it; thrown out of the event handler (or
// the stream) to stop yaml-cpp at once.
struct Refusal {
  ConfigError error;
};

// Counts what YAML::Load would build, from yaml-cpp's events, and refuses a document over the
// limits before any tree exists. The stop happens inside yaml-cpp's own recursion, so a deep
// "[[[[..." never goes deeper than max_depth there either.
class DocumentShape final : public YAML::EventHandler {
 public:
  DocumentShape(const DocumentLimits& limits, std::string_view source_name)
      : limits_(limits), source_name_(source_name) {}

  // Where yaml-cpp has got to in handing over nodes: the stream refuses to read far past it.
  size_t parsed_to() const { return static_cast<size_t>(std::max(parsed_to_.pos, 0)); }
  const YAML::Mark& parsed_to_mark() const { return parsed_to_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    parsed_to_ = mark;
    anchors_.clear();  // anchors belong to one document
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { Leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    Leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    parsed_to_ = mark;
    const auto found = anchors_.find(anchor);
    // yaml-cpp has resolved the name already; an anchor without a size is still open.
    if (found == anchors_.end() || !found->second.nodes) {
      const std::string name = found == anchors_.end() ? "" : " *" + found->second.name;
      Refuse(mark, "the alias" + name + " is inside the node it names (a cycle)");
    }
    Count(mark, *found->second.nodes);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnMapEnd() override { Close(); }
  void OnAnchor(const YAML::Mark&, const std::string& name) override { anchor_name_ = name; }

 private:
  struct Anchor {
    std::string name;
    std::optional<size_t> nodes;  // set when the anchored node is complete
  };
  struct OpenNode {
    size_t nodes_before;
    YAML::anchor_t anchor;
  };

  void Leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    parsed_to_ = mark;
    Count(mark, 1);
    if (anchor != 0) anchors_[anchor] = {std::move(anchor_name_), 1};
  }

  void Open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    parsed_to_ = mark;
    if (open_.size() >= limits_.max_depth) {
      Refuse(mark,
             "lists and maps nested more than " + std::to_string(limits_.max_depth) + " deep");
    }
    if (anchor != 0) anchors_[anchor] = {std::move(anchor_name_), std::nullopt};
    open_.push_back({nodes_, anchor});
    Count(mark, 1);
  }

  void Close() {
    const OpenNode node = open_.back();
    open_.pop_back();
    if (node.anchor != 0) anchors_[node.anchor].nodes = nodes_ - node.nodes_before;
  }

  void Count(const YAML::Mark& mark, size_t nodes) {
    if (nodes > limits_.max_nodes - nodes_) {
      Refuse(mark, "more than " + std::to_string(limits_.max_nodes) +
                       " values, lists and maps (an alias counts as what it names)");
    }
    nodes_ += nodes;
  }

  [[noreturn]] void Refuse(const YAML::Mark& mark, std::string message) const {
    throw Refusal{{"", std::move(message), LocationOf(mark, source_name_)}};
  }

  const DocumentLimits& limits_;
  std::string_view source_name_;
  YAML::Mark parsed_to_;  // the start of the text until the first event
  size_t nodes_ = 0;      // over all documents, aliases expanded
  std::vector<OpenNode> open_;
  std::unordered_map<YAML::anchor_t, Anchor> anchors_;
  std::string anchor_name_;  // from OnAnchor, for the node event that follows it
};

// The text for yaml-cpp in small pieces; refuses to hand over a piece that would put it more than
// max_lookahead_bytes past the last node it produced. yaml-cpp queues every token of a flow
// collection that could still turn out to be a key (one starting the document or a list item)
// until the collection ends, at some 250 bytes per byte of "[[[[": only reading bounds that.
class BoundedText final : public std::streambuf {
 public:
  BoundedText(std::string_view text, const DocumentShape& shape, const DocumentLimits& limits,
              std::string_view source_name)
      : text_(text), shape_(shape), limits_(limits), source_name_(source_name) {
    char* begin = const_cast<char*>(text_.data());  // only ever read
    setg(begin, begin, begin);
  }

 private:
  static constexpr size_t kPiece = 4096;

  int_type underflow() override {
    const size_t read = static_cast<size_t>(gptr() - eback());
    if (read >= text_.size()) return traits_type::eof();
    const size_t parsed_to = std::min(shape_.parsed_to(), read);
    if (read - parsed_to > limits_.max_lookahead_bytes) {
      throw Refusal{{"",
                     "yaml-cpp has read more than " + std::to_string(limits_.max_lookahead_bytes) +
                         " bytes past this point without finishing a value (it holds a flow "
                         "collection, [...] or {...}, in memory whole until it ends); write long "
                         "lists and maps in block style, one \"- item\" or \"key: value\" per "
                         "line",
                     LocationOf(shape_.parsed_to_mark(), source_name_)}};
    }
    const size_t piece = std::min(kPiece, text_.size() - read);
    setg(eback(), gptr(), gptr() + piece);
    return traits_type::to_int_type(*gptr());
  }

  std::string_view text_;
  const DocumentShape& shape_;
  const DocumentLimits& limits_;
  std::string_view source_name_;
};

// The counting pass: yaml-cpp's events only, nothing kept but counts and anchor sizes.
std::optional<ConfigError> CheckShape(std::string_view text, std::string_view source_name,
                                      const DocumentLimits& limits) {
  DocumentShape shape(limits, source_name);
  BoundedText bounded(text, shape, limits, source_name);
  std::istream in(&bounded);
  in.exceptions(std::ios::badbit);  // so that a Refusal from the stream buffer gets out
  try {
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(shape)) {
    }
  } catch (const Refusal& refusal) {
    return refusal.error;
  } catch (const YAML::Exception& e) {
    return ParseError(e, source_name, text);
  }
  return std::nullopt;
}

}  // namespace

std::optional<ConfigError> CheckDocumentSize(uint64_t bytes, size_t max_bytes,
                                             std::string_view source_name) {
  if (bytes <= max_bytes) return std::nullopt;
  return ConfigError{"",
                     std::to_string(bytes) + " bytes is over the " + std::to_string(max_bytes) +
                         "-byte limit (--max-config-bytes)",
                     std::string(source_name)};
}

YamlDocument ParseYaml(std::string_view text, std::string_view source_name,
                       const DocumentLimits& limits) {
  YamlDocument document;
  try {
    if (auto error = CheckDocumentSize(text.size(), limits.max_bytes, source_name)) {
      document.errors.push_back(std::move(*error));
      return document;
    }
    if (auto error = CheckShape(text, source_name, limits)) {
      document.errors.push_back(std::move(*error));
      return document;
    }
    std::vector<YAML::Node> roots = YAML::LoadAll(std::string(text));
    if (roots.size() > 1) {
      document.errors.push_back({"",
                                 "expected one YAML document, found " +
                                     std::to_string(roots.size()) + " (separated by '---')",
                                 LocationOf(roots[1].Mark(), source_name)});
    }
    if (!roots.empty()) document.root = roots.front();
  } catch (const YAML::Exception& e) {
    document.errors.push_back(ParseError(e, source_name, text));
  } catch (const std::exception& e) {
    document.errors.push_back({"", std::string("cannot read YAML: ") + e.what(), ""});
  }
  return document;
}

YamlReadResult ReadYamlNode(const YAML::Node& node, google::protobuf::Message& message,
                            std::string_view source_name) {
  MessageReader reader(source_name);
  try {
    reader.ReadMessage(node, message, "");
  } catch (const YAML::Exception& e) {
    YamlReadResult result = std::move(reader).Finish();
    result.errors.push_back(ParseError(e, source_name));
    return result;
  } catch (const std::exception& e) {
    YamlReadResult result = std::move(reader).Finish();
    result.errors.push_back({"", std::string("cannot read YAML: ") + e.what(), ""});
    return result;
  }
  return std::move(reader).Finish();
}

YamlReadResult ReadYamlText(std::string_view text, google::protobuf::Message& message,
                            std::string_view source_name, const DocumentLimits& limits) {
  YamlDocument document = ParseYaml(text, source_name, limits);
  if (!document.errors.empty()) return {std::move(document.errors), {}};
  return ReadYamlNode(document.root, message, source_name);
}

}  // namespace hermes::config
