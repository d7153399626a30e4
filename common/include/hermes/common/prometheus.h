// Writing the Prometheus text exposition format (version 0.0.4), used by both daemons' /metrics.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace hermes {

class PrometheusWriter {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // "# HELP" and "# TYPE" lines; call once per metric family before its samples.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  void Sample(std::string_view name, Labels labels, double value);
  void Sample(std::string_view name, Labels labels, uint64_t value);
  void Sample(std::string_view name, Labels labels, int64_t value);

  const std::string& text() const { return out_; }

 private:
  void Start(std::string_view name, Labels labels);
  std::string out_;
};

}  // namespace hermes
