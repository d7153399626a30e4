// Numbers as hermesctl prints them: fixed decimals for -o json, and the rates, percentages and
// latencies of the stats tables.
#pragma once

#include <string>

namespace hermes::ctl {

// `value` with exactly `decimals` (0..9) digits after the point: FormatFixed(20, 3) is "20.000".
// A value that rounds to zero is never "-0.000"; NaN and infinities are "-".
std::string FormatFixed(double value, int decimals);

// Requests per second with two decimals: "20.00".
std::string FormatRate(double per_second);

// A fraction 0..1 as a percentage with two decimals: 0.0417 -> "4.17%".
std::string FormatPercent(double fraction);

// A share already in percent, with at most two decimals and no trailing zeros: 10 -> "10%",
// 12.5 -> "12.5%" (a rollout's steps). NaN and infinities are "-".
std::string FormatStepPercent(double percent);

// A latency in milliseconds: "0.4ms", "250.0ms", from one second on "1.25s".
std::string FormatLatency(double ms);

}  // namespace hermes::ctl
