// Formats response heads, the /echo JSON and /headers lines.
#include "tests/support/upstream_response.h"

#include <boost/beast/http/status.hpp>
#include <charconv>
#include <cstdio>

namespace hermes::test {
namespace {

namespace http = boost::beast::http;

void AppendNumber(std::string& out, uint64_t number) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof(digits), number);
  out.append(digits, result.ptr);
}

void AppendHeader(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void AppendJsonString(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned char>(c));
      out.append(escaped);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string decoded;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      decoded.push_back(text[i] == '+' ? ' ' : text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = HexValue(text[i + 1]);
    const int low = HexValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    decoded.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return decoded;
}

}  // namespace

void AppendHead(std::string& out, const ResponseHead& head) {
  out.append("HTTP/1.1 ");
  AppendNumber(out, head.status);
  out.push_back(' ');
  out.append(http::obsolete_reason(static_cast<http::status>(head.status)));
  out.append("\r\n");
  if (!head.content_type.empty()) AppendHeader(out, "Content-Type", head.content_type);
  if (head.content_length) {
    out.append("Content-Length: ");
    AppendNumber(out, *head.content_length);
    out.append("\r\n");
  }
  if (head.chunked) AppendHeader(out, "Transfer-Encoding", "chunked");
  if (!head.connection.empty()) AppendHeader(out, "Connection", head.connection);
  if (!head.upstream_name.empty()) AppendHeader(out, "X-Upstream", head.upstream_name);
  out.append(head.extra_lines);
  out.append("\r\n");
}

std::string_view ConnectionValue(unsigned version, bool keep_alive) {
  if (!keep_alive) return "close";
  return version == 10 ? "keep-alive" : "";
}

void AppendEchoJson(std::string& out, const http::request_header<>& request, uint64_t body_bytes) {
  out.append("{\"method\":");
  AppendJsonString(out, request.method_string());
  out.append(",\"target\":");
  AppendJsonString(out, request.target());
  out.append(request.version() == 10 ? ",\"version\":\"HTTP/1.0\"" : ",\"version\":\"HTTP/1.1\"");
  out.append(",\"headers\":[");
  bool first = true;
  for (const auto& field : request) {
    if (!first) out.push_back(',');
    first = false;
    out.push_back('[');
    AppendJsonString(out, field.name_string());
    out.push_back(',');
    AppendJsonString(out, field.value());
    out.push_back(']');
  }
  out.append("],\"body_bytes\":");
  AppendNumber(out, body_bytes);
  out.append("}\n");
}

std::optional<std::string> HeaderLinesFromQuery(std::string_view query) {
  std::string lines;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto equals = pair.find('=');
    const auto name = PercentDecode(pair.substr(0, equals));
    const auto value =
        PercentDecode(equals == std::string_view::npos ? "" : pair.substr(equals + 1));
    if (!name || !value || name->empty()) return std::nullopt;
    for (const char c : *name) {
      if (!IsTokenChar(c)) return std::nullopt;
    }
    if (value->find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      return std::nullopt;
    }
    AppendHeader(lines, *name, *value);
  }
  return lines;
}

}  // namespace hermes::test
