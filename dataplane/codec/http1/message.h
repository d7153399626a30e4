// The Beast message types of the data plane: parsers that stream bodies through a caller-owned
// buffer (buffer_body) and keep header fields in the connection's arena.
#pragma once

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstdint>
#include <optional>

#include "dataplane/http/arena_allocator.h"

namespace hermes::dataplane::http1 {

namespace beast_http = boost::beast::http;

using FieldsAllocator = http::ArenaAllocator<char>;
using Fields = beast_http::basic_fields<FieldsAllocator>;
using RequestParser = beast_http::request_parser<beast_http::buffer_body, FieldsAllocator>;
using ResponseParser = beast_http::response_parser<beast_http::buffer_body, FieldsAllocator>;
using RequestHeader = beast_http::request_header<Fields>;
using ResponseHeader = beast_http::response_header<Fields>;

// A parsed head's Content-Length as a std::optional. Out of line (message.cpp): GCC 12 reports
// the boost::optional Beast returns as maybe uninitialized wherever it is inlined into a
// coroutine (a false positive), so the one place it is read is silenced once.
std::optional<uint64_t> ContentLength(const RequestParser& parser);
std::optional<uint64_t> ContentLength(const ResponseParser& parser);

}  // namespace hermes::dataplane::http1
