// StickyIds on OpenSSL EVP_MAC (HMAC-SHA256); the random key of a proxy without sticky_secret.
#include "dataplane/lb/sticky_id.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace hermes::dataplane::lb {
namespace {

// Without OpenSSL's HMAC or randomness there is no id that hides an address: stop rather than
// fall back to one that does not.
[[noreturn]] void Fatal(const char* what) {
  std::fprintf(stderr, "hermes: sticky-session ids: %s failed (OpenSSL)\n", what);
  std::abort();
}

}  // namespace

std::string RandomStickySecret() {
  std::string secret(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 1)
    Fatal("RAND_bytes");
  return secret;
}

StickyIds::StickyIds(std::string_view secret) {
  mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac_ == nullptr) Fatal("EVP_MAC_fetch(HMAC)");
  ctx_ = EVP_MAC_CTX_new(mac_);
  if (ctx_ == nullptr) Fatal("EVP_MAC_CTX_new");
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx_, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                   params) != 1)
    Fatal("EVP_MAC_init");
}

StickyIds::~StickyIds() {
  EVP_MAC_CTX_free(ctx_);
  EVP_MAC_free(mac_);
}

uint64_t StickyIds::Id(std::string_view cluster, std::string_view address) {
  // A null key re-initializes with the key already set (supported since 3.0, openssl#18100):
  // HMAC's padded key state is kept, not recomputed.
  if (EVP_MAC_init(ctx_, nullptr, 0, nullptr) != 1) Fatal("EVP_MAC_init");
  std::array<unsigned char, 8> length{};
  for (size_t i = 0; i < length.size(); ++i)
    length[i] = static_cast<unsigned char>(static_cast<uint64_t>(cluster.size()) >> (56 - 8 * i));
  std::array<unsigned char, 32> mac{};
  size_t mac_size = 0;
  if (EVP_MAC_update(ctx_, length.data(), length.size()) != 1 ||
      EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(cluster.data()),
                     cluster.size()) != 1 ||
      EVP_MAC_update(ctx_, reinterpret_cast<const unsigned char*>(address.data()),
                     address.size()) != 1 ||
      EVP_MAC_final(ctx_, mac.data(), &mac_size, mac.size()) != 1 || mac_size != mac.size())
    Fatal("HMAC-SHA256");
  uint64_t id = 0;
  for (size_t i = 0; i < 8; ++i) id = (id << 8) | mac[i];
  return id;
}

}  // namespace hermes::dataplane::lb
