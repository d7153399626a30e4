// What a request or response must satisfy before Hermes forwards it. Beast 1.81's parser accepts
// some inputs that make proxies disagree with their upstreams about message boundaries (request
// smuggling): obs-fold, bare LF, NUL, a missing or duplicate Host, codings other than chunked.
// These checks are ours (RFC 9112 sections 2.2, 5.2, 6.1, 6.3; RFC 9110 section 7.2).
#pragma once

#include <optional>
#include <string_view>

#include "dataplane/codec/http1/message.h"

namespace hermes::dataplane::http1 {

struct Verdict {
  unsigned status = 0;       // 0 = acceptable; else the status to answer with (and close)
  std::string_view reason;   // short text for the error body
  bool ok() const { return status == 0; }
};

// Raw head bytes (request or status line through the blank line): no NUL, every LF preceded by
// CR, no bare CR, no obs-fold (a header line starting with SP or HT).
Verdict CheckRawHead(std::string_view head);

// Parsed request head: framing (Content-Length vs Transfer-Encoding), Host, method.
Verdict CheckRequest(const RequestHeader& req);

// Parsed response head from an upstream: unambiguous framing or it is not passed on.
Verdict CheckResponse(const ResponseHeader& res);

// Splits a comma-separated header value into trimmed tokens, calling f(token) for each.
template <class F>
void ForEachToken(std::string_view value, F&& f) {
  while (!value.empty()) {
    auto comma = value.find(',');
    std::string_view token = value.substr(0, comma);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (!token.empty()) f(token);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

bool IEquals(std::string_view a, std::string_view b);

// RFC 9110 9.2.2: a request that may be sent twice after it reached an upstream.
bool Idempotent(beast_http::verb method);

}  // namespace hermes::dataplane::http1
