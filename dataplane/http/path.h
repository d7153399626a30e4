// Request path normalization before routing (Envoy's normalize_path, merge_slashes and
// path_with_escaped_slashes_action): the path Hermes matches is the path it rewrites and forwards,
// so "/public/../admin" can never reach what only a route for "/admin" would.
#pragma once

#include <string>
#include <string_view>

namespace hermes::dataplane::http {

enum class EscapedSlashes : unsigned char {
  kReject,    // %2F, %5C or a backslash in the path: 400
  kKeep,      // forwarded as they are; never separators
  kUnescape,  // decoded to "/" and normalized as separators
};

struct PathOptions {
  bool normalize = true;      // RFC 3986 5.2.4 dot segments; unreserved %XX decoded, others upper-cased
  bool merge_slashes = true;  // "//" -> "/"
  EscapedSlashes escaped_slashes = EscapedSlashes::kReject;
};

struct PathResult {
  bool ok = true;
  std::string_view path;    // the normalized path: `in` itself when unchanged, else `scratch`
  std::string_view reason;  // static text when !ok (answered with 400)
};

// `in` is the path part of an origin-form target (no query), starting with '/'. Malformed
// percent-encodings are refused whatever the options: a proxy and its upstream must not disagree
// about what a path says.
PathResult NormalizePath(std::string_view in, const PathOptions& options, std::string& scratch);

}  // namespace hermes::dataplane::http
