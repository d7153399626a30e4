// The Beast message types of the data plane: parsers that stream bodies through a caller-owned
// buffer (buffer_body) and keep header fields in the connection's arena.
#pragma once

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/parser.hpp>

#include "dataplane/http/arena_allocator.h"

namespace hermes::dataplane::http1 {

namespace beast_http = boost::beast::http;

using FieldsAllocator = http::ArenaAllocator<char>;
using Fields = beast_http::basic_fields<FieldsAllocator>;
using RequestParser = beast_http::request_parser<beast_http::buffer_body, FieldsAllocator>;
using ResponseParser = beast_http::response_parser<beast_http::buffer_body, FieldsAllocator>;
using RequestHeader = beast_http::request_header<Fields>;
using ResponseHeader = beast_http::response_header<Fields>;

}  // namespace hermes::dataplane::http1
