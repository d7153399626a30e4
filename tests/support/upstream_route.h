// Which test behaviour a request target selects: the path decides, the query only matters for
// /headers.
#pragma once

#include <cstdint>
#include <string_view>

namespace hermes::test {

enum class RouteKind {
  kHello,
  kEcho,
  kStatus,
  kDelay,
  kBytes,
  kChunked,
  kUpload,
  kClose,
  kCloseAfterResponse,
  kBadFraming,
  kBadChunk,
  kEarlyHints,
  kWebSocket,
  kHealth,
  kHeaders,
  kInvalid,  // a known prefix with a number that does not parse or is out of range
};

struct Route {
  RouteKind kind = RouteKind::kHello;
  uint64_t number = 0;     // the code, milliseconds or byte count of /status, /delay, /bytes...
  std::string_view query;  // without the '?'
};

Route MatchRoute(std::string_view target);

}  // namespace hermes::test
