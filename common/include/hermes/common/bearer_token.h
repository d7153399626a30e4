// Bearer tokens (RFC 6750) as Hermes programs read and check them: one token-file format and one
// comparison, so that every program accepts the same files and none leaks a token by timing.
#pragma once

#include <string>
#include <string_view>

#include "hermes/common/result.h"

namespace hermes {

// The file's text without surrounding white space, or "cannot read token file PATH: REASON",
// "token file PATH is empty", "token file PATH is larger than 65536 bytes".
Result<std::string> ReadTokenFile(const std::string& path);

// `text` without surrounding white space (" \t\r\n"): a token is the same whether it comes from
// a file, an environment variable or a flag.
std::string TrimmedToken(std::string_view text);

// True when `authorization` (an Authorization header's value) is "Bearer <token>", the scheme in
// any case (RFC 7235 §2.1). The tokens are compared as SHA-256 digests with CRYPTO_memcmp, so the
// time taken tells neither where they differ nor how long the expected one is.
bool BearerTokenMatches(std::string_view authorization, std::string_view token);

}  // namespace hermes
