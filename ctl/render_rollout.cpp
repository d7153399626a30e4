// Output of `hermesctl rollout ...`: a rollout's status, the list of rollouts, and what start,
// promote, pause, resume and abort did.
#include <limits>
#include <map>

#include "ctl/number_text.h"
#include "ctl/render.h"
#include "ctl/table.h"
#include "ctl/time_text.h"
#include "hermes/common/duration.h"

namespace hermes::ctl {
namespace {

std::string V(uint64_t id) { return "v" + std::to_string(id); }

std::string Id(const v1::Rollout& r) { return "#" + std::to_string(r.id()); }

std::map<std::string, std::string> SortedSelector(const v1::Rollout& r) {
  return {r.selector().begin(), r.selector().end()};
}

// "group=edge,zone=b" (sorted by label); "all proxies" without a selector.
std::string SelectorText(const v1::Rollout& r) {
  std::string text;
  for (const auto& [k, v] : SortedSelector(r)) text += (text.empty() ? "" : ",") + k + "=" + v;
  return text.empty() ? "all proxies" : text;
}

// "1/3 (10%)". A step past the last is an answer hermesctl cannot place: no percent then.
std::string StepText(const v1::Rollout& r) {
  const auto n = static_cast<uint32_t>(r.steps_percent_size());
  std::string text = std::to_string(uint64_t{r.step()} + 1) + "/" + std::to_string(n);
  if (r.step() < n)
    text += " (" + FormatStepPercent(r.steps_percent(static_cast<int>(r.step()))) + ")";
  return text;
}

std::string StepsText(const v1::Rollout& r) {
  std::string text;
  for (double p : r.steps_percent()) text += (text.empty() ? "" : ", ") + FormatStepPercent(p);
  return text.empty() ? "-" : text;
}

// "2024-05-01T11:58:00Z (2m ago)"
std::string TimeAndAge(int64_t unix_ms, TimePoint now) {
  if (unix_ms == 0) return "-";
  return FormatRfc3339(unix_ms) + " (" + FormatAge(unix_ms, now) + ")";
}

// One line of the status block: the label padded so that values line up; no label continues
// the line before.
std::string Line(std::string_view label, const std::string& value) {
  constexpr size_t kLabelWidth = 13;
  std::string line = label.empty() ? "" : std::string(label) + ":";
  line.append(line.size() < kLabelWidth ? kLabelWidth - line.size() : 1, ' ');
  return line + value + "\n";
}

// The state word and what it means for the operator.
std::string StateText(const v1::Rollout& r) {
  const std::string word = RolloutStateWord(r.state());
  switch (r.state()) {
    case v1::ROLLOUT_WAITING:
      return word + " (the step's gate passed; next: hermesctl rollout promote)";
    case v1::ROLLOUT_PAUSED:
      return word + " (nothing moves until: hermesctl rollout resume)";
    case v1::ROLLOUT_ABORTED:
      return word + " (every moved proxy went back to " + V(r.previous_version()) + ")";
    default:
      return word;
  }
}

std::string Moved(const v1::Rollout& r) {
  return std::to_string(r.moved_size()) + " of " + std::to_string(r.selected_proxies());
}

// "0.50% on the moved proxies (6 of 1200 requests)"
std::string ErrorRate(double rate, uint64_t errors, uint64_t requests, std::string_view where) {
  if (requests == 0) return "no requests on " + std::string(where);
  return FormatPercent(rate) + " on " + std::string(where) + " (" + std::to_string(errors) +
         " of " + std::to_string(requests) + " requests)";
}

std::string GateBlock(const v1::Rollout& r, TimePoint now) {
  const v1::RolloutGate& g = r.gate();
  if (g.at_unix_ms() == 0) {
    std::string due;
    if (r.step_started_unix_ms() > 0 && r.interval_ms() > 0 &&
        r.step_started_unix_ms() <= std::numeric_limits<int64_t>::max() - r.interval_ms() &&
        r.state() == v1::ROLLOUT_RUNNING) {
      due = " (due " + FormatRfc3339(r.step_started_unix_ms() + r.interval_ms()) + ")";
    }
    return Line("gate", "not evaluated yet" + due);
  }
  // Not passed while the rollout goes on: the gate waits (for the interval, for ACKs); only an
  // ended rollout's gate has failed.
  const bool ongoing = r.state() == v1::ROLLOUT_RUNNING || r.state() == v1::ROLLOUT_WAITING ||
                       r.state() == v1::ROLLOUT_PAUSED;
  std::string verdict = g.passed() ? "passed" : ongoing ? "not passed yet" : "failed";
  verdict +=
      " (evaluated " + FormatRfc3339(g.at_unix_ms()) + ", " + FormatAge(g.at_unix_ms(), now) + ")";
  if (!g.passed() && !g.failure().empty()) verdict += ": " + Truncate(g.failure(), 160);
  std::string out = Line("gate", verdict);
  out += Line("window", FormatDuration(std::chrono::seconds(g.window_seconds())));
  out += Line("proxies", std::to_string(g.acked()) + " of " + std::to_string(g.proxies()) +
                             " moved proxies ACKed " + V(r.version()) + ", " +
                             std::to_string(g.nacked()) + " NACKed it");
  out +=
      Line("error rate", ErrorRate(g.error_rate(), g.errors(), g.requests(), "the moved proxies"));
  out += Line("", ErrorRate(g.rest_error_rate(), g.rest_errors(), g.rest_requests(),
                            "the rest of the fleet"));
  return out;
}

std::string ProxiesTable(const v1::Rollout& r) {
  if (r.proxies().empty()) return "no selected proxy is connected\n";
  Table t{{"NODE", "TARGET", "RUNNING", "STATE"}, {}};
  for (const auto& p : r.proxies()) {
    t.rows.push_back({p.node().empty() ? "-" : Truncate(p.node(), 64),
                      VersionCell(p.target_version()), VersionCell(p.running_version()),
                      p.connected() ? SyncStateName(p.state()) : "DISCONNECTED"});
  }
  return RenderTable(t);
}

Json GateJson(const v1::RolloutGate& g) {
  if (g.at_unix_ms() == 0) return Json();
  Json j = Json::MakeObject();
  j.Set("evaluated_at", TimeJson(g.at_unix_ms()))
      .Set("passed", Json(g.passed()))
      .Set("failure", Json(g.failure()))
      .Set("window_seconds", Json(uint64_t{g.window_seconds()}))
      .Set("proxies", Json(uint64_t{g.proxies()}))
      .Set("acked", Json(uint64_t{g.acked()}))
      .Set("nacked", Json(uint64_t{g.nacked()}))
      .Set("requests", Json(uint64_t{g.requests()}))
      .Set("errors", Json(uint64_t{g.errors()}))
      .Set("error_rate", Json::Fixed(g.error_rate(), 4))
      .Set("rest_requests", Json(uint64_t{g.rest_requests()}))
      .Set("rest_errors", Json(uint64_t{g.rest_errors()}))
      .Set("rest_error_rate", Json::Fixed(g.rest_error_rate(), 4));
  return j;
}

Json RolloutProxyJson(const v1::RolloutProxy& p) {
  Json j = Json::MakeObject();
  j.Set("node", Json(p.node()))
      .Set("target_version", Json(uint64_t{p.target_version()}))
      .Set("running_version", Json(uint64_t{p.running_version()}))
      .Set("state", Json(p.connected() ? SyncStateName(p.state()) : "DISCONNECTED"))
      .Set("connected", Json(p.connected()));
  return j;
}

// "v13 is the fleet's version" or "every selected proxy (zone=b) runs v13".
std::string Completed(const v1::Rollout& r) {
  if (r.selector().empty()) return V(r.version()) + " is the fleet's version";
  return "every selected proxy (" + SelectorText(r) + ") runs " + V(r.version());
}

std::string WithReason(const std::string& reason) {
  return reason.empty() ? "" : ": " + Truncate(reason, 200);
}

constexpr std::string_view kNoRollout = "no rollout in progress or on record";

}  // namespace

std::string RolloutStateWord(v1::RolloutState state) {
  switch (state) {
    case v1::ROLLOUT_RUNNING:
      return "running";
    case v1::ROLLOUT_WAITING:
      return "waiting";
    case v1::ROLLOUT_PAUSED:
      return "paused";
    case v1::ROLLOUT_COMPLETED:
      return "completed";
    case v1::ROLLOUT_ABORTED:
      return "aborted";
    default:
      return "unknown";
  }
}

std::string RolloutSummary(const v1::Rollout& r) {
  return Id(r) + " " + V(r.version()) + " step " + StepText(r) + ", " +
         RolloutStateWord(r.state()) + ", " + std::to_string(r.moved_size()) + "/" +
         std::to_string(r.selected_proxies()) + " proxies moved";
}

Json RolloutJson(const v1::Rollout& r) {
  Json selector = Json::MakeObject();
  for (const auto& [k, v] : SortedSelector(r)) selector.Set(k, Json(v));
  Json steps = Json::MakeArray();
  for (double p : r.steps_percent()) steps.Push(Json::Fixed(p, 2));
  Json moved = Json::MakeArray();
  for (const auto& node : r.moved()) moved.Push(Json(node));
  const bool step_known = r.step() < static_cast<uint32_t>(r.steps_percent_size());
  Json j = Json::MakeObject();
  j.Set("id", Json(uint64_t{r.id()}))
      .Set("version", Json(uint64_t{r.version()}))
      .Set("previous_version", Json(uint64_t{r.previous_version()}))
      .Set("state", Json(RolloutStateWord(r.state())))
      .Set("reason", Json(r.reason()))
      .Set("author", Json(r.author()))
      .Set("selector", std::move(selector))
      .Set("steps_percent", std::move(steps))
      .Set("step", Json(uint64_t{r.step()} + 1))
      .Set("step_percent",
           step_known ? Json::Fixed(r.steps_percent(static_cast<int>(r.step())), 2) : Json())
      .Set("selected_proxies", Json(uint64_t{r.selected_proxies()}))
      .Set("step_target", Json(uint64_t{r.step_target()}))
      .Set("moved", std::move(moved))
      .Set("interval_ms", Json(int64_t{r.interval_ms()}))
      .Set("max_error_rate", Json::Fixed(r.max_error_rate(), 4))
      .Set("auto_promote", Json(r.auto_promote()))
      .Set("started_at", TimeJson(r.started_unix_ms()))
      .Set("step_started_at", TimeJson(r.step_started_unix_ms()))
      .Set("updated_at", TimeJson(r.updated_unix_ms()))
      .Set("gate", GateJson(r.gate()));
  return j;
}

Json RolloutStatusDocument(const v1::Rollout& r) {
  Json proxies = Json::MakeArray();
  for (const auto& p : r.proxies()) proxies.Push(RolloutProxyJson(p));
  Json j = Json::MakeObject();
  j.Set("rollout", r.id() == 0 ? Json() : RolloutJson(r)).Set("proxies", std::move(proxies));
  return j;
}

std::string RenderRolloutStatus(const v1::Rollout& r, OutputFormat format, TimePoint now) {
  if (format != OutputFormat::kTable) return Document(RolloutStatusDocument(r), format);
  if (r.id() == 0) return std::string(kNoRollout) + "\n";
  std::string out =
      "rollout " + Id(r) + ": " + V(r.version()) + " ← " + V(r.previous_version()) + "\n";
  out += Line("state", StateText(r));
  out += Line("step", StepText(r) + ", moved " + Moved(r) + " selected (step target " +
                          std::to_string(r.step_target()) + ")");
  out += Line("steps", StepsText(r));
  out += Line("selector", SelectorText(r));
  out += Line("interval", FormatMillis(r.interval_ms()) + " per step, then its gate");
  out += Line("promote", r.auto_promote()
                             ? "automatic, when a step's gate passes"
                             : "manual: hermesctl rollout promote after each passed gate");
  out += Line("threshold", "error rate at most " + FormatPercent(r.max_error_rate()) +
                               " and at most twice the rest of the fleet's");
  out += Line("started", TimeAndAge(r.started_unix_ms(), now) +
                             (r.author().empty() ? "" : " by " + Truncate(r.author(), 40)));
  if (!r.reason().empty()) out += Line("reason", Truncate(r.reason(), 200));
  out += "\n" + GateBlock(r, now) + "\n" + ProxiesTable(r);
  return out;
}

std::string RenderRolloutList(const v1::ListRolloutsResponse& response, OutputFormat format,
                              TimePoint now) {
  if (format != OutputFormat::kTable) {
    Json rollouts = Json::MakeArray();
    for (const auto& r : response.rollouts()) rollouts.Push(RolloutJson(r));
    Json j = Json::MakeObject();
    j.Set("rollouts", std::move(rollouts));
    return Document(j, format);
  }
  if (response.rollouts().empty()) return "no rollouts on record\n";
  Table t{{"ID", "VERSION", "PREVIOUS", "STATE", "STEP", "SELECTOR", "AUTHOR", "STARTED", "AGE",
           "REASON"},
          {}};
  for (const auto& r : response.rollouts()) {
    t.rows.push_back({std::to_string(r.id()), V(r.version()), VersionCell(r.previous_version()),
                      RolloutStateWord(r.state()), StepText(r), Truncate(SelectorText(r), 40),
                      r.author().empty() ? "-" : Truncate(r.author(), 20),
                      FormatRfc3339(r.started_unix_ms()), FormatAge(r.started_unix_ms(), now),
                      r.reason().empty() ? "-" : Truncate(r.reason(), 60)});
  }
  return RenderTable(t);
}

std::string RenderRolloutStarted(const v1::Rollout& r, OutputFormat format) {
  if (format != OutputFormat::kTable) {
    Json j = Json::MakeObject();
    j.Set("rollout", RolloutJson(r));
    return Document(j, format);
  }
  return "started rollout " + Id(r) + ": " + V(r.version()) + " ← " + V(r.previous_version()) +
         " on " + SelectorText(r) + ", step " + StepText(r) + ": moved " + Moved(r) +
         " selected proxies\n"
         "watch it with: hermesctl rollout status --watch\n";
}

std::string RenderRolloutAction(const v1::Rollout& r, RolloutAction action, OutputFormat format) {
  if (format != OutputFormat::kTable) {
    Json j = Json::MakeObject();
    j.Set("rollout", RolloutJson(r));
    return Document(j, format);
  }
  switch (action) {
    case RolloutAction::kPromote:
      if (r.state() == v1::ROLLOUT_COMPLETED) {
        return "rollout " + Id(r) + " completed: " + Completed(r) + "\n";
      }
      return "promoted rollout " + Id(r) + " to step " + StepText(r) + ": moved " + Moved(r) +
             " selected proxies\n";
    case RolloutAction::kPause:
      return "paused rollout " + Id(r) + " at step " + StepText(r) + WithReason(r.reason()) +
             "\ngo on with: hermesctl rollout resume\n";
    case RolloutAction::kResume:
      return "resumed rollout " + Id(r) + " at step " + StepText(r) + "\n";
    case RolloutAction::kAbort:
      return "aborted rollout " + Id(r) + ": " + std::to_string(r.moved_size()) +
             (r.moved_size() == 1 ? " moved proxy goes" : " moved proxies go") + " back to " +
             V(r.previous_version()) + WithReason(r.reason()) + "\n";
  }
  return "";
}

std::optional<RolloutEnd> RolloutEnded(const v1::Rollout& r, OutputFormat format) {
  if (r.id() == 0) return RolloutEnd{1, "", "hermesctl: " + std::string(kNoRollout) + "\n"};
  if (r.state() == v1::ROLLOUT_COMPLETED) {
    const std::string out = format == OutputFormat::kTable
                                ? "rollout " + Id(r) + " completed: " + Completed(r) + "\n"
                                : "";
    return RolloutEnd{0, out, ""};
  }
  if (r.state() == v1::ROLLOUT_ABORTED) {
    return RolloutEnd{1, "",
                      "hermesctl: rollout " + Id(r) + " aborted" + WithReason(r.reason()) + "\n"};
  }
  return std::nullopt;
}

}  // namespace hermes::ctl
