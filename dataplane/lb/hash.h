// The 64-bit non-cryptographic hash of ring_hash and maglev points and of request hash keys:
// xxHash64 from libxxhash (Envoy's HashUtil::xxHash64 is the same call). Not for secrets: a client
// that knows the function can choose keys that land on one endpoint.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <string_view>

namespace hermes::dataplane::lb {

inline uint64_t Hash64(std::string_view data, uint64_t seed = 0) {
  return XXH64(data.data(), data.size(), seed);
}

}  // namespace hermes::dataplane::lb
