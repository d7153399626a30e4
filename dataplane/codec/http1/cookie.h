// Reading one cookie of a request (RFC 6265 5.4: "name=value" pairs separated by "; ", possibly
// over several Cookie fields).
#pragma once

#include <optional>
#include <string_view>

#include "dataplane/codec/http1/message.h"

namespace hermes::dataplane::http1 {

// The value of the first cookie called `name`, without surrounding quotes.
std::optional<std::string_view> FindCookie(const RequestHeader& req, std::string_view name);

// The same over one Cookie field value.
std::optional<std::string_view> FindCookieIn(std::string_view header, std::string_view name);

}  // namespace hermes::dataplane::http1
