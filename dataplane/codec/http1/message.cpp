#include "dataplane/codec/http1/message.h"

namespace hermes::dataplane::http1 {
namespace {

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
template <class Parser>
std::optional<uint64_t> Length(const Parser& parser) {
  if (auto length = parser.content_length()) return *length;
  return std::nullopt;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace

std::optional<uint64_t> ContentLength(const RequestParser& parser) { return Length(parser); }
std::optional<uint64_t> ContentLength(const ResponseParser& parser) { return Length(parser); }

}  // namespace hermes::dataplane::http1
