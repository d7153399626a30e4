#include "controlplane/rollout/rollout_plan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace hermes::controlplane::rollout {

bool Selects(const Selector& selector, const v1::Node& node) {
  for (const auto& [key, value] : selector) {
    auto label = node.labels().find(key);
    if (label != node.labels().end()) {
      if (label->second != value) return false;
    } else if (key == "group") {
      if (node.group() != value) return false;
    } else {
      return false;
    }
  }
  return true;
}

std::uint64_t CanaryRank(const std::string& node_id) {
  std::uint64_t h = 14695981039346656037ull;
  for (unsigned char c : node_id) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

bool CanaryBefore(const std::string& a, const std::string& b) {
  std::uint64_t ra = CanaryRank(a), rb = CanaryRank(b);
  return ra != rb ? ra < rb : a < b;
}

std::size_t StepTarget(BasisPoints share, std::size_t selected) {
  if (selected == 0) return 0;
  std::size_t n = (static_cast<std::size_t>(share) * selected + kWholeFleet - 1) / kWholeFleet;
  return std::clamp<std::size_t>(n, 1, selected);
}

std::vector<std::string> ProxiesToMove(const std::vector<std::string>& selected,
                                       const std::set<std::string>& moved, BasisPoints share) {
  std::size_t target = StepTarget(share, selected.size());
  std::size_t have = moved.size();
  std::vector<std::string> candidates;
  for (const std::string& id : selected) {
    if (!moved.contains(id)) candidates.push_back(id);
  }
  std::sort(candidates.begin(), candidates.end(), CanaryBefore);
  std::vector<std::string> out;
  for (const std::string& id : candidates) {
    if (have >= target) break;
    out.push_back(id);
    ++have;
  }
  return out;
}

StepsParse ParseSteps(const std::vector<double>& percents) {
  StepsParse out;
  auto fail = [&](std::size_t i, const std::string& why) {
    out.steps.clear();
    char where[32];
    std::snprintf(where, sizeof where, "steps[%zu]", i);
    out.error = std::string(where) + ": " + why;
    return out;
  };
  if (percents.empty()) {
    out.error = "steps: at least one step is needed (the last is 100%)";
    return out;
  }
  if (percents.size() > 20) {
    out.error = "steps: at most 20 steps";
    return out;
  }
  for (std::size_t i = 0; i < percents.size(); ++i) {
    double p = percents[i];
    if (!std::isfinite(p) || p <= 0 || p > 100) return fail(i, "must be above 0% and at most 100%");
    double bp = p * 100;
    if (std::fabs(bp - std::round(bp)) > 1e-6) return fail(i, "at most two decimals (e.g. 12.5%)");
    auto share = static_cast<BasisPoints>(std::lround(bp));
    if (!out.steps.empty() && share <= out.steps.back())
      return fail(i, "steps must increase (each above the one before)");
    out.steps.push_back(share);
  }
  if (out.steps.back() != kWholeFleet) return fail(percents.size() - 1, "the last step must be 100%");
  return out;
}

namespace {

std::string Percent(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f%%", rate * 100);
  return buf;
}

}  // namespace

GateVerdict Evaluate(const GateInput& input) {
  GateVerdict v;
  if (!input.nacked.empty()) {
    v.abort = true;
    v.failure = "proxy " + input.nacked.front() + " refused the version (NACK)";
    if (input.nacked.size() > 1)
      v.failure += " and " + std::to_string(input.nacked.size() - 1) + " more";
    return v;
  }
  double rate = input.step.rate();
  bool decisive = input.interval_passed || input.step.errors >= kMinErrorsForRelative;
  if (decisive && input.step.errors > 0 && rate > input.max_error_rate) {
    v.abort = true;
    v.failure = "error rate " + Percent(rate) + " (" + std::to_string(input.step.errors) + " of " +
                std::to_string(input.step.requests) + " requests) is above the threshold " +
                Percent(input.max_error_rate);
    return v;
  }
  if (input.step.errors >= kMinErrorsForRelative && input.rest.requests > 0 &&
      rate > 2 * input.rest.rate()) {
    v.abort = true;
    v.failure = "error rate " + Percent(rate) + " is more than twice the rest of the fleet's " +
                Percent(input.rest.rate());
    return v;
  }
  if (input.moved_connected == 0) {
    v.failure = "no moved proxy is connected";
    return v;
  }
  if (input.acked < input.moved_connected) {
    if (input.overdue > 0) {
      v.abort = true;
      v.failure = std::to_string(input.overdue) + " of " + std::to_string(input.moved_connected) +
                  " moved proxies did not ACK the version within the interval";
    } else {
      v.failure = std::to_string(input.moved_connected - input.acked) + " of " +
                  std::to_string(input.moved_connected) + " moved proxies have not ACKed the version yet";
    }
    return v;
  }
  if (!input.interval_passed) {
    v.failure = "waiting for the interval to pass";
    return v;
  }
  v.ready = true;
  return v;
}

}  // namespace hermes::controlplane::rollout
