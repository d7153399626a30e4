// Downstream request bytes, as a client sends them, through a real DownstreamSession to an
// upstream that answers every request with "200 ok". One connection per input: the bytes, a
// half-close, and the proxy must close the connection within kExchangeLimit.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/fuzz_proxy.h"

namespace {

struct Fixture {
  hermes::fuzz::FuzzUpstream upstream{hermes::fuzz::FuzzUpstream::Answer::kFixed};
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
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  hermes::fuzz::ExpectClosed(hermes::fuzz::Exchange(TheFixture().proxy_port, bytes));
  return 0;
}
