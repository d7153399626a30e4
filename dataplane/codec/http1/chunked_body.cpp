#include "dataplane/codec/http1/chunked_body.h"

#include <boost/beast/http/error.hpp>

namespace hermes::dataplane::http1 {

DecodedPiece DecodeChunkedPiece(RequestParser& parser, boost::asio::const_buffer input, char* out,
                                size_t capacity) {
  auto& body = parser.get().body();
  body.data = out;
  body.size = capacity;
  body.more = true;
  DecodedPiece d;
  d.consumed = input.size() ? parser.put(input, d.ec) : 0;
  if (d.ec == beast_http::error::need_buffer || d.ec == beast_http::error::need_more) d.ec = {};
  d.produced = capacity - body.size;
  return d;
}

}  // namespace hermes::dataplane::http1
