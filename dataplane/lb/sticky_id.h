// Sticky-session endpoint ids: HMAC-SHA256 of (cluster, address) under a secret key, truncated to
// 64 bits. A client's cookie names its endpoint without revealing the address to anyone who does
// not hold the key: an unkeyed (or constant-keyed) hash of a guessable internal address is
// reversed offline by trying addresses.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace hermes::dataplane::lb {

// 32 random bytes (OpenSSL RAND_bytes): the key of a proxy whose config has no sticky_secret.
std::string RandomStickySecret();

// Computes ids under one key, for one snapshot compile: the key is set up once, each id costs
// one HMAC of a short message (about a microsecond). Not thread-safe.
class StickyIds {
 public:
  explicit StickyIds(std::string_view secret);
  ~StickyIds();
  StickyIds(const StickyIds&) = delete;
  StickyIds& operator=(const StickyIds&) = delete;

  // The first 8 bytes (big-endian) of HMAC-SHA256(secret, len(cluster) || cluster || address),
  // len as 8 bytes big-endian, so that no two (cluster, address) pairs give the same message.
  uint64_t Id(std::string_view cluster, std::string_view address);

 private:
  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* ctx_ = nullptr;
};

}  // namespace hermes::dataplane::lb
