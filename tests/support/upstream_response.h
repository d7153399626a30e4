// Response bytes the test upstream writes. Heads are formatted by hand rather than by Beast's
// serializer so the hot path reuses one buffer and malformed framing can be produced on purpose.
#pragma once

#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hermes::test {

struct ResponseHead {
  unsigned status = 200;
  std::string_view content_type;           // omitted when empty
  std::optional<uint64_t> content_length;  // omitted when unset
  bool chunked = false;
  std::string_view connection;     // "close", "keep-alive" or empty
  std::string_view upstream_name;  // sent as X-Upstream
  std::string_view extra_lines;    // preformatted "Name: value\r\n" lines
};

// Always HTTP/1.1: an HTTP/1.0 client gets a 1.1 status line (RFC 9110 section 6.2).
void AppendHead(std::string& out, const ResponseHead& head);

// The Connection header value for a response, given the request's version and whether the
// connection stays open.
std::string_view ConnectionValue(unsigned version, bool keep_alive);

// {"method":..,"target":..,"version":"HTTP/1.1","headers":[[name,value],...],"body_bytes":N}
void AppendEchoJson(std::string& out, const boost::beast::http::request_header<>& request,
                    uint64_t body_bytes);

// "a=1&b=x%20y" -> "a: 1\r\nb: x y\r\n"; nullopt when a name is not a token or a value holds
// CR, LF or NUL.
std::optional<std::string> HeaderLinesFromQuery(std::string_view query);

inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
inline constexpr std::string_view kEarlyHints =
    "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n";

// RFC 9112 section 6.3: a message with both is a request-smuggling vector a proxy must refuse.
inline constexpr std::string_view kBadFramingHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
inline constexpr std::string_view kBadFramingBody = "5\r\nhello\r\n0\r\n\r\n";

inline constexpr std::string_view kBadChunkHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n"
    "Connection: close\r\n\r\n";
inline constexpr std::string_view kBadChunkBody = "zz\r\nhello\r\n0\r\n\r\n";

}  // namespace hermes::test
