// Maps a request target to a test behaviour.
#include "tests/support/upstream_route.h"

#include <array>
#include <charconv>
#include <utility>

namespace hermes::test {
namespace {

constexpr uint64_t kMaxDelayMs = 3'600'000;

// Absolute-form targets (RFC 9112 section 3.2.2) carry the path after the authority.
std::string_view PathAndQuery(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.starts_with(scheme)) {
      const auto slash = target.find('/', scheme.size());
      return slash == std::string_view::npos ? "/" : target.substr(slash);
    }
  }
  return target;
}

bool ParseNumber(std::string_view text, uint64_t& number) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, number);
  return !text.empty() && ec == std::errc() && ptr == end;
}

Route NumberRoute(RouteKind kind, std::string_view text) {
  Route route{kind};
  if (!ParseNumber(text, route.number)) return Route{RouteKind::kInvalid};
  if (kind == RouteKind::kStatus && (route.number < 200 || route.number > 599)) {
    return Route{RouteKind::kInvalid};
  }
  if (kind == RouteKind::kDelay && route.number > kMaxDelayMs) return Route{RouteKind::kInvalid};
  return route;
}

}  // namespace

Route MatchRoute(std::string_view target) {
  std::string_view path = PathAndQuery(target);
  std::string_view query;
  if (const auto mark = path.find('?'); mark != std::string_view::npos) {
    query = path.substr(mark + 1);
    path = path.substr(0, mark);
  }

  static constexpr std::array<std::pair<std::string_view, RouteKind>, 10> kExact{{
      {"/echo", RouteKind::kEcho},
      {"/upload", RouteKind::kUpload},
      {"/close", RouteKind::kClose},
      {"/close-after-response", RouteKind::kCloseAfterResponse},
      {"/bad-framing", RouteKind::kBadFraming},
      {"/bad-chunk", RouteKind::kBadChunk},
      {"/early-hints", RouteKind::kEarlyHints},
      {"/ws", RouteKind::kWebSocket},
      {"/health", RouteKind::kHealth},
      {"/headers", RouteKind::kHeaders},
  }};
  for (const auto& [name, kind] : kExact) {
    if (path == name) return Route{kind, 0, query};
  }

  static constexpr std::array<std::pair<std::string_view, RouteKind>, 4> kNumbered{{
      {"/status/", RouteKind::kStatus},
      {"/delay/", RouteKind::kDelay},
      {"/bytes/", RouteKind::kBytes},
      {"/chunked/", RouteKind::kChunked},
  }};
  for (const auto& [prefix, kind] : kNumbered) {
    if (path.starts_with(prefix)) return NumberRoute(kind, path.substr(prefix.size()));
  }
  return Route{RouteKind::kHello};
}

}  // namespace hermes::test
