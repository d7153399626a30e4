#include "dataplane/http/path.h"

namespace hermes::dataplane::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Unreserved(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Nothing to do for most paths: no escapes, no backslash, no "//", no "/." segment.
bool AlreadyNormal(std::string_view in, const PathOptions& o) {
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%' || c == '\\') return false;
    if (c == '/' && i + 1 < in.size()) {
      char next = in[i + 1];
      if (next == '/' && o.merge_slashes) return false;
      if (next == '.' && o.normalize) return false;
    }
  }
  return true;
}

// "..;x" and ".;x": dot segments with path parameters, which Java servers (Tomcat, Jetty) resolve
// as ".." and "." after a proxy has matched the path as an ordinary segment.
bool DotWithParameters(std::string_view segment) {
  auto semi = segment.find(';');
  if (semi == std::string_view::npos) return false;
  std::string_view name = segment.substr(0, semi);
  return name == "." || name == "..";
}

// Removes dot segments (RFC 3986 5.2.4) from a path of '/'-separated segments, in place: "." is
// dropped, ".." drops the segment before it (never above the root).
void RemoveDotSegments(std::string& p) {
  std::string out;
  out.reserve(p.size());
  size_t i = 0;
  while (i < p.size()) {
    // p[i] == '/' always here (the path starts with '/', and each step ends at one or the end).
    size_t next = p.find('/', i + 1);
    std::string_view segment(p.data() + i + 1, (next == std::string::npos ? p.size() : next) - i - 1);
    bool last = next == std::string::npos;
    if (segment == ".") {
      if (last) out.push_back('/');
    } else if (segment == "..") {
      size_t cut = out.rfind('/');
      out.resize(cut == std::string::npos ? 0 : cut);
      if (last) out.push_back('/');
    } else {
      out.push_back('/');
      out.append(segment);
    }
    if (last) break;
    i = next;
  }
  if (out.empty()) out.push_back('/');
  p.swap(out);
}

}  // namespace

PathResult NormalizePath(std::string_view in, const PathOptions& o, std::string& scratch) {
  if (AlreadyNormal(in, o)) return {true, in, {}};
  scratch.clear();
  scratch.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\\') {
      if (o.escaped_slashes == EscapedSlashes::kReject) return {false, {}, "backslash in path"};
      scratch.push_back(o.escaped_slashes == EscapedSlashes::kUnescape ? '/' : '\\');
      continue;
    }
    if (c != '%') {
      scratch.push_back(c);
      continue;
    }
    int hi = i + 2 < in.size() ? HexValue(in[i + 1]) : -1;
    int lo = hi >= 0 ? HexValue(in[i + 2]) : -1;
    if (lo < 0) return {false, {}, "malformed percent-encoding in path"};
    unsigned char decoded = static_cast<unsigned char>(hi * 16 + lo);
    i += 2;
    if (decoded == '/' || decoded == '\\') {
      switch (o.escaped_slashes) {
        case EscapedSlashes::kReject:
          return {false, {}, "escaped slash or backslash in path"};
        case EscapedSlashes::kUnescape:
          scratch.push_back('/');
          continue;
        case EscapedSlashes::kKeep:
          break;
      }
    } else if (o.normalize && Unreserved(decoded)) {
      scratch.push_back(static_cast<char>(decoded));
      continue;
    }
    static constexpr char kHex[] = "0123456789ABCDEF";
    scratch.push_back('%');
    scratch.push_back(o.normalize ? kHex[decoded >> 4] : in[i - 1]);
    scratch.push_back(o.normalize ? kHex[decoded & 0xf] : in[i]);
  }
  if (o.merge_slashes) {
    size_t w = 0;
    for (size_t r = 0; r < scratch.size(); ++r) {
      if (scratch[r] == '/' && w > 0 && scratch[w - 1] == '/') continue;
      scratch[w++] = scratch[r];
    }
    scratch.resize(w);
  }
  for (size_t i = 0; i < scratch.size(); ++i) {
    if (scratch[i] != '/') continue;
    size_t end = scratch.find('/', i + 1);
    std::string_view segment(scratch.data() + i + 1,
                             (end == std::string::npos ? scratch.size() : end) - i - 1);
    if (DotWithParameters(segment)) return {false, {}, "dot segment with parameters in path"};
  }
  if (o.normalize) RemoveDotSegments(scratch);
  return {true, scratch, {}};
}

}  // namespace hermes::dataplane::http
