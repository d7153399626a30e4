// What /config may show of the running config: everything but secrets. Header values are
// redacted by the header's name, since a config adds credentials as headers (an upstream's API
// key, a basic-auth Authorization); the sticky secret always.
#include <array>

#include "dataplane/admin/admin_server.h"
#include "hermes/common/ascii.h"

namespace hermes::dataplane {
namespace {

constexpr std::string_view kRedacted = "[redacted]";

// Lower-case parts of a header name that mark its value as a credential. "auth" covers
// Authorization and Proxy-Authorization, "cookie" Set-Cookie, "key" every API key spelling
// (api-key, apikey, api_key). A harmless header caught by them only loses its value on /config.
constexpr std::array<std::string_view, 8> kCredentialNameParts{
    "auth", "cookie", "token", "secret", "password", "passwd", "session", "key"};

bool NamedLikeCredential(std::string_view name) {
  const std::string lower = AsciiLower(name);
  for (std::string_view part : kCredentialNameParts) {
    if (lower.find(part) != std::string::npos) return true;
  }
  return false;
}

void RedactHeaders(google::protobuf::RepeatedPtrField<v1::Header>& headers) {
  for (v1::Header& h : headers) {
    if (NamedLikeCredential(h.name())) h.set_value(std::string(kRedacted));
  }
}

}  // namespace

v1::Config RedactedConfig(const v1::Config& config) {
  v1::Config shown = config;
  for (v1::Route& route : *shown.mutable_routes()) {
    RedactHeaders(*route.mutable_request_headers_to_add());
    RedactHeaders(*route.mutable_response_headers_to_add());
  }
  if (!shown.sticky_secret().empty()) shown.set_sticky_secret(std::string(kRedacted));
  return shown;
}

}  // namespace hermes::dataplane
