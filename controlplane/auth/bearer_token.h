// The control plane's one check of the bearer token (hermes-controlplane --token-file), for the
// discovery and stats streams and every admin call.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <string_view>

#include "hermes/common/bearer_token.h"

namespace hermes::controlplane {

// True when `token` is empty (no auth) or the call carries "authorization: Bearer <token>"
// (compared in constant time: hermes/common/bearer_token.h).
inline bool BearerTokenMatches(const grpc::ServerContextBase& context, const std::string& token) {
  if (token.empty()) return true;
  auto it = context.client_metadata().find("authorization");
  if (it == context.client_metadata().end()) return false;
  return hermes::BearerTokenMatches(std::string_view(it->second.data(), it->second.size()), token);
}

}  // namespace hermes::controlplane
