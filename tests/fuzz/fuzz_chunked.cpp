// A client's request as DownstreamSession reads it, without sockets: the head through Beast's
// parser and Hermes' framing checks (dataplane/http/checks.h), then a chunked body through
// DecodeChunkedPiece (dataplane/http/chunked_body.h) into a staging buffer. The same bytes are
// read twice, at once into the session's 16 KiB staging and in 7-byte pieces into 5 bytes:
// how TCP splits a request must not change what Hermes makes of it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <tuple>

#include <boost/beast/http/error.hpp>

#include "dataplane/codec/http1/checks.h"
#include "dataplane/codec/http1/chunked_body.h"
#include "dataplane/codec/http1/message.h"

namespace {

namespace dhttp = hermes::dataplane::http1;

constexpr size_t kHeaderLimit = 16384;  // the listener default of max_header_bytes

struct Reading {
  enum class End { kIncomplete, kHeadRefused, kBodyRefused, kComplete, kNotChunked };
  End end = End::kIncomplete;
  unsigned status = 0;  // of a refused head: 400, 431, ... as the session would answer
  std::string body;     // decoded body bytes
};

// `piece`: how many more bytes arrive each time the parser needs more; `staging`: the size of
// the decode buffer.
Reading Read(std::string_view input, size_t piece, size_t staging) {
  Reading r;
  hermes::dataplane::http::Arena arena(2048);
  dhttp::RequestParser parser(std::piecewise_construct, std::make_tuple(),
                              std::make_tuple(dhttp::FieldsAllocator(arena)));
  parser.header_limit(kHeaderLimit);
  parser.body_limit(boost::none);
  std::string buffer;  // the session's buffer_: arrived, not yet consumed
  size_t arrived = 0;
  auto arrive = [&] {
    if (arrived == input.size()) return false;
    size_t n = std::min(piece, input.size() - arrived);
    buffer.append(input.substr(arrived, n));
    arrived += n;
    return true;
  };

  // ReadRequestHead
  size_t head_size = 0;
  for (;;) {
    if (!buffer.empty()) {
      boost::system::error_code ec;
      size_t n = parser.put(boost::asio::buffer(buffer), ec);
      if (!ec && parser.is_header_done()) {
        head_size = n;
        break;
      }
      if (ec && ec != boost::beast::http::error::need_more) {
        r.end = Reading::End::kHeadRefused;
        r.status = ec == boost::beast::http::error::header_limit ? 431 : 400;
        return r;
      }
    }
    if (!arrive()) return r;
  }
  // ServeRequest's checks
  if (auto v = dhttp::CheckRawHead(std::string_view(buffer).substr(0, head_size)); !v.ok()) {
    r.end = Reading::End::kHeadRefused;
    r.status = v.status;
    return r;
  }
  if (auto v = dhttp::CheckRequest(parser.get().base()); !v.ok()) {
    r.end = Reading::End::kHeadRefused;
    r.status = v.status;
    return r;
  }
  buffer.erase(0, head_size);
  if (!parser.chunked()) {
    r.end = Reading::End::kNotChunked;
    return r;
  }

  // BufferRequestBody / SendChunkedRequestBody
  std::string out(staging, '\0');
  while (!parser.is_done()) {
    dhttp::DecodedPiece d = dhttp::DecodeChunkedPiece(parser, boost::asio::buffer(buffer), out.data(), staging);
    if (d.consumed > buffer.size() || d.produced > staging) {
      std::fprintf(stderr, "DecodeChunkedPiece took %zu of %zu bytes, wrote %zu of %zu\n", d.consumed,
                   buffer.size(), d.produced, staging);
      std::abort();
    }
    buffer.erase(0, d.consumed);
    if (d.ec) {
      r.end = Reading::End::kBodyRefused;
      return r;
    }
    r.body.append(out.data(), d.produced);
    if (parser.is_done()) break;
    if (d.consumed == 0 && d.produced == 0 && !arrive()) return r;
  }
  r.end = Reading::End::kComplete;
  return r;
}

const char* Name(Reading::End end) {
  switch (end) {
    case Reading::End::kIncomplete: return "incomplete";
    case Reading::End::kHeadRefused: return "head refused";
    case Reading::End::kBodyRefused: return "body refused";
    case Reading::End::kComplete: return "complete";
    case Reading::End::kNotChunked: return "not chunked";
  }
  return "?";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Reading whole = Read(input, input.size(), 16384);
  Reading pieces = Read(input, 7, 5);
  // Beast may find an error in a truncated message early when more of it is there at once (a
  // bad start line before the head's end has arrived), where in pieces it waits for the rest,
  // which never comes: refused against incomplete is the same for the client. Everything
  // else must agree, the decoded body of a complete request byte for byte.
  auto refused = [](const Reading& r) {
    return r.end == Reading::End::kHeadRefused || r.end == Reading::End::kBodyRefused;
  };
  bool early_error = (refused(whole) && pieces.end == Reading::End::kIncomplete) ||
                     (refused(pieces) && whole.end == Reading::End::kIncomplete);
  if (!early_error && (whole.end != pieces.end || whole.body != pieces.body)) {
    std::fprintf(stderr, "read at once: %s (%u, %zu body bytes); in pieces: %s (%u, %zu body bytes)\n",
                 Name(whole.end), whole.status, whole.body.size(), Name(pieces.end), pieces.status,
                 pieces.body.size());
    std::abort();
  }
  if (whole.end == Reading::End::kComplete && whole.body.size() > size) std::abort();
  return 0;
}
