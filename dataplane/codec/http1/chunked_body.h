// One step of decoding a chunked request body (RFC 9112 section 7.1) with Beast's parser into a
// caller's buffer: what DownstreamSession does each time client bytes arrive, apart from its
// sockets (and what tests/fuzz/fuzz_chunked.cpp fuzzes).
#pragma once

#include <array>
#include <charconv>
#include <cstddef>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include "dataplane/codec/http1/message.h"

namespace hermes::dataplane::http1 {

struct DecodedPiece {
  size_t consumed = 0;  // bytes of the input the parser took (the caller drops them)
  size_t produced = 0;  // decoded body bytes written to the output
  boost::system::error_code ec;  // a framing error; "need more input" is none
};

// Feeds `input` to `parser` (its head parsed, its body chunked) and decodes into
// out[0, capacity). Nothing consumed and nothing produced: the parser needs more input.
DecodedPiece DecodeChunkedPiece(RequestParser& parser, boost::asio::const_buffer input, char* out,
                                size_t capacity);

// "1a2b\r\n", the size line of a chunk of n bytes, written into `buf`.
inline std::string_view ChunkSizeLine(std::array<char, 20>& buf, size_t n) {
  auto r = std::to_chars(buf.data(), buf.data() + 16, n, 16);
  r.ptr[0] = '\r';
  r.ptr[1] = '\n';
  return {buf.data(), static_cast<size_t>(r.ptr + 2 - buf.data())};
}

}  // namespace hermes::dataplane::http1
