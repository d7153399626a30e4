// The arithmetic of a progressive rollout, apart from time, storage and gRPC so each rule is
// tested directly (proto/hermes/v1/admin.proto, "Progressive rollouts"): which proxies a selector
// picks, the canary order, how many proxies a step moves and which, and the gate's verdict.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "hermes/v1/discovery.pb.h"

namespace hermes::controlplane::rollout {

using Selector = std::map<std::string, std::string>;  // label = value; key "group": Node.group

// True when every pair matches: a label of the node, or for key "group" its group when it has no
// label "group". An empty selector picks every proxy.
bool Selects(const Selector& selector, const v1::Node& node);

// The canary order: FNV-1a 64 of the node id (ties, which need equal hashes, by id). Fixed by the
// id alone, so the same proxies go first in every rollout and a test can name them.
std::uint64_t CanaryRank(const std::string& node_id);
bool CanaryBefore(const std::string& a, const std::string& b);

// A share in basis points (1% = 100), exact for the two decimals hermesctl accepts.
using BasisPoints = std::uint32_t;
inline constexpr BasisPoints kWholeFleet = 10000;

// How many of `selected` proxies a step of `share` moves: ceil(share * selected), at least one
// when any proxy is selected.
std::size_t StepTarget(BasisPoints share, std::size_t selected);

// The proxies to move now so that at least StepTarget(share, selected) proxies are moved: those of
// `selected` (the connected proxies the selector picks) not moved yet, in canary order. Every
// moved proxy counts, connected or not: after a control-plane restart the first proxies to
// reconnect do not take the places of canaries still reconnecting. Moved proxies never move
// back within a rollout, so a proxy that joins or leaves never pushes another one out.
std::vector<std::string> ProxiesToMove(const std::vector<std::string>& selected,
                                       const std::set<std::string>& moved, BasisPoints share);

// Steps as written ("10%,50%,100%", "%" optional, up to two decimals): strictly increasing, each
// in (0, 100], the last 100, at most 20. The error says which step and why.
struct StepsParse {
  std::vector<BasisPoints> steps;
  std::string error;
};
StepsParse ParseSteps(const std::vector<double>& percents);

// ---- The gate ----

struct Traffic {
  std::uint64_t requests = 0;
  std::uint64_t errors = 0;  // 5xx and requests that got no response
  double rate() const { return requests ? static_cast<double>(errors) / static_cast<double>(requests) : 0.0; }
};

struct GateInput {
  std::size_t moved_connected = 0;  // moved proxies with a stream now
  std::size_t acked = 0;            // of them, running the rollout's version completely
  std::size_t overdue = 0;          // of the others, those that had the whole interval to ACK
                                    // (counted from the step's start or their reconnection)
  std::vector<std::string> nacked;  // moved proxies that refused the rollout's version
  Traffic step;                     // the moved proxies, over the window
  Traffic rest;                     // every other proxy that reported, over the same window
  double max_error_rate = 0.01;
  bool interval_passed = false;     // the step has run its whole interval
};

// The relative test (twice the rest's rate) needs this many errors among the moved proxies: one
// error in a quiet window is noise, not a verdict.
inline constexpr std::uint64_t kMinErrorsForRelative = 5;

// Before the interval has passed the gate aborts early only on a NACK or on a rate over the
// threshold with at least kMinErrorsForRelative errors (a failing version shows at once; a single
// early error among a handful of requests does not decide). Once it has passed: every rule. A
// moved proxy that has not ACKed aborts once it is overdue.
struct GateVerdict {
  bool abort = false;   // failed: the rollout goes back
  bool ready = false;   // passed (only once the interval has passed)
  std::string failure;  // why not passed, one line
};
GateVerdict Evaluate(const GateInput& input);

}  // namespace hermes::controlplane::rollout
