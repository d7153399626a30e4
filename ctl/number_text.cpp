#include "ctl/number_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace hermes::ctl {

std::string FormatFixed(double value, int decimals) {
  if (!std::isfinite(value)) return "-";
  decimals = std::clamp(decimals, 0, 9);
  // %f of a huge double has hundreds of digits; 400 bytes hold DBL_MAX's 309 and the decimals.
  char buf[400];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  std::string text = buf;
  if (text.front() == '-' && text.find_first_not_of("-0.") == std::string::npos) text.erase(0, 1);
  return text;
}

std::string FormatRate(double per_second) { return FormatFixed(per_second, 2); }

std::string FormatPercent(double fraction) {
  if (!std::isfinite(fraction)) return "-";
  return FormatFixed(fraction * 100, 2) + "%";
}

std::string FormatStepPercent(double percent) {
  if (!std::isfinite(percent)) return "-";
  std::string text = FormatFixed(percent, 2);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text + "%";
}

std::string FormatLatency(double ms) {
  if (!std::isfinite(ms)) return "-";
  if (std::fabs(ms) < 999.95) return FormatFixed(ms, 1) + "ms";
  return FormatFixed(ms / 1000, 2) + "s";
}

}  // namespace hermes::ctl
