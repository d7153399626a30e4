#include "hermes/common/health_spec.h"

#include "hermes/common/duration.h"

namespace hermes::health {

ProbeSpec ProbeSpecFrom(const v1::HealthCheck& check) {
  auto ms = [](const google::protobuf::Duration& d) {
    return std::chrono::duration_cast<Millis>(ToChrono(d));
  };
  ProbeSpec spec;
  spec.kind = check.protocol() == "tcp" ? ProbeSpec::Kind::kTcp : ProbeSpec::Kind::kHttp;
  spec.method = check.method();
  spec.path = check.path();
  spec.host = check.host();
  if (!check.expected_statuses().empty()) {
    spec.expected.clear();
    for (uint32_t code : check.expected_statuses())
      spec.expected.emplace_back(static_cast<uint16_t>(code), static_cast<uint16_t>(code));
  }
  spec.interval = ms(check.interval());
  spec.unhealthy_interval = ms(check.unhealthy_interval());
  spec.timeout = ms(check.timeout());
  spec.initial_jitter = ms(check.initial_jitter());
  spec.interval_jitter = ms(check.interval_jitter());
  spec.healthy_threshold = check.healthy_threshold();
  spec.unhealthy_threshold = check.unhealthy_threshold();
  return spec;
}

}  // namespace hermes::health
