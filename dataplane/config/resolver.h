// Resolves endpoint host names off the request path (on the server's control thread). IP
// literals need no lookup; names are looked up with getaddrinfo, every address kept, so that
// "localhost" tries ::1 and 127.0.0.1.
#pragma once

#include <string>

#include "dataplane/config/snapshot.h"
#include "hermes/v1/config.pb.h"

namespace hermes::dataplane {

// Resolves every endpoint of `config`. An endpoint whose lookup fails keeps its addresses from
// `previous`, if it had any. Returns true when the result differs from `previous`.
bool ResolveEndpoints(const hermes::v1::Config& config, const ResolvedHosts& previous,
                      ResolvedHosts& out);

}  // namespace hermes::dataplane
