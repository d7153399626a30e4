// DNS host name syntax (RFC 1123 section 2.1 letters, digits and hyphens) and IPv4 literals.
#include "hermes/common/host_name.h"

#include <arpa/inet.h>

#include <string>

namespace hermes {
namespace {

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

bool IsIpv4(std::string_view text) {
  in_addr address{};
  return inet_pton(AF_INET, std::string(text).c_str(), &address) == 1;
}

}  // namespace

bool IsHostName(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  // A name made only of digits and dots would be sent to the resolver and fail there; say so now.
  if (text.find_first_not_of("0123456789.") == std::string_view::npos) return IsIpv4(text);
  size_t label_size = 0;
  for (char c : text) {
    if (c == '.') {
      if (label_size == 0) return false;
      label_size = 0;
    } else if (!IsLabelChar(c) || ++label_size > 63) {
      return false;
    }
  }
  return label_size > 0;
}

}  // namespace hermes
