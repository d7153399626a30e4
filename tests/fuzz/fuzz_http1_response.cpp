// Upstream response bytes back through a real DownstreamSession: the client sends one fixed valid
// request, the upstream answers it with the input as it is and closes; the proxy must close the
// client's connection within kExchangeLimit.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_proxy.h"

namespace {

constexpr std::string_view kRequest = "GET /api/items?page=2 HTTP/1.1\r\nHost: proxy.fuzz\r\n\r\n";

struct Fixture {
  hermes::fuzz::FuzzUpstream upstream{hermes::fuzz::FuzzUpstream::Answer::kFuzzInput};
  uint16_t proxy_port = hermes::fuzz::StartProxy(upstream.port()).ListenerPort("main");
};

Fixture& TheFixture() {
  static Fixture* fixture = new Fixture;  // lives as long as the process
  return *fixture;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  TheFixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture& f = TheFixture();
  f.upstream.SetFuzzInput(std::string_view(reinterpret_cast<const char*>(data), size));
  hermes::fuzz::ExpectClosed(hermes::fuzz::Exchange(f.proxy_port, kRequest));
  return 0;
}
