#include "hermes/common/bearer_token.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "hermes/common/ascii.h"

namespace hermes {
namespace {

constexpr std::string_view kWhiteSpace = " \t\r\n";
// A token is a short line; a bigger file is a wrong path (/dev/zero would never end).
constexpr size_t kMaxTokenFileBytes = 65536;

std::array<unsigned char, SHA256_DIGEST_LENGTH> Digest(std::string_view s) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> d;
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d.data());
  return d;
}

}  // namespace

Result<std::string> ReadTokenFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Failure("cannot read token file " + path + ": " + std::strerror(errno));
  std::string s(kMaxTokenFileBytes + 1, '\0');
  s.resize(std::fread(s.data(), 1, s.size(), f));
  const int read_error = std::ferror(f) ? errno : 0;
  std::fclose(f);
  if (read_error)
    return Failure("cannot read token file " + path + ": " + std::strerror(read_error));
  if (s.size() > kMaxTokenFileBytes)
    return Failure("token file " + path + " is larger than " + std::to_string(kMaxTokenFileBytes) +
                   " bytes");
  std::string token = TrimmedToken(s);
  if (token.empty()) return Failure("token file " + path + " is empty");
  return token;
}

std::string TrimmedToken(std::string_view text) {
  const size_t begin = text.find_first_not_of(kWhiteSpace);
  if (begin == std::string_view::npos) return "";
  const size_t end = text.find_last_not_of(kWhiteSpace);
  return std::string(text.substr(begin, end - begin + 1));
}

bool BearerTokenMatches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() < kScheme.size() ||
      !AsciiIEquals(authorization.substr(0, kScheme.size()), kScheme))
    return false;
  const auto got = Digest(authorization.substr(kScheme.size()));
  const auto want = Digest(token);
  return CRYPTO_memcmp(got.data(), want.data(), got.size()) == 0;
}

}  // namespace hermes
