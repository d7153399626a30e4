// The control plane's one check of the bearer token (hermes-controlplane --token-file), for the
// discovery and stats streams and every admin call.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <string_view>

namespace hermes::controlplane {

// True when `token` is empty (no auth) or the call carries "authorization: Bearer <token>".
inline bool BearerTokenMatches(const grpc::ServerContextBase& context, const std::string& token) {
  if (token.empty()) return true;
  auto it = context.client_metadata().find("authorization");
  if (it == context.client_metadata().end()) return false;
  std::string_view got(it->second.data(), it->second.size());
  return got.size() == token.size() + 7 && got.substr(0, 7) == "Bearer " && got.substr(7) == token;
}

}  // namespace hermes::controlplane
