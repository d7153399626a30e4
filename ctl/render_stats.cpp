// Output of `hermesctl stats`: request counts, errors and (over a window) rates and latency
// percentiles, for the fleet or one proxy, in total and per cluster, route and proxy.
#include "ctl/number_text.h"
#include "ctl/render.h"
#include "ctl/table.h"
#include "ctl/time_text.h"
#include "hermes/common/duration.h"

namespace hermes::ctl {
namespace {

// responses_by_class[i]; a shorter list (an older or broken control plane) counts 0.
uint64_t Class(const v1::StatsRow& row, int i) {
  return i < row.responses_by_class_size() ? row.responses_by_class(i) : 0;
}

// Rates and percentiles: numbers over a window, null for the totals since the stats began.
Json WindowOnly(bool windowed, double value) { return windowed ? Json::Fixed(value, 3) : Json(); }

Json RowJson(const v1::StatsRow& row, bool windowed) {
  Json responses = Json::MakeObject();
  responses.Set("none", Json(Class(row, 0)));
  for (int i = 1; i <= 5; ++i) responses.Set(std::to_string(i) + "xx", Json(Class(row, i)));
  Json j = Json::MakeObject();
  j.Set("name", Json(row.name()))
      .Set("requests", Json(uint64_t{row.requests()}))
      .Set("responses", std::move(responses))
      .Set("connect_errors", Json(uint64_t{row.connect_errors()}))
      .Set("timeouts", Json(uint64_t{row.timeouts()}))
      .Set("retries", Json(uint64_t{row.retries()}))
      .Set("overflow", Json(uint64_t{row.overflow()}))
      .Set("active_requests", Json(int64_t{row.active_requests()}))
      .Set("request_rate", WindowOnly(windowed, row.request_rate()))
      .Set("error_rate", Json::Fixed(row.error_rate(), 4))
      .Set("p50_ms", WindowOnly(windowed, row.p50_ms()))
      .Set("p99_ms", WindowOnly(windowed, row.p99_ms()));
  return j;
}

std::vector<std::string> Headers(bool windowed) {
  if (windowed) {
    return {"KIND", "NAME", "REQUESTS", "REQ/S", "ERR%",     "P50",      "P99",
            "2XX",  "3XX",  "4XX",      "5XX",   "CONN ERR", "TIMEOUTS", "RETRIES"};
  }
  return {"KIND", "NAME", "REQUESTS", "ERR%",     "2XX",    "3XX",
          "4XX",  "5XX",  "CONN ERR", "TIMEOUTS", "RETRIES"};
}

std::vector<std::string> Row(std::string kind, const std::string& name, const v1::StatsRow& row,
                             bool windowed) {
  const bool traffic = row.requests() > 0;
  std::vector<std::string> cells = {std::move(kind), name.empty() ? "-" : Truncate(name, 40),
                                    std::to_string(row.requests())};
  if (windowed) cells.push_back(FormatRate(row.request_rate()));
  cells.push_back(traffic ? FormatPercent(row.error_rate()) : "-");
  if (windowed) {
    cells.push_back(traffic ? FormatLatency(row.p50_ms()) : "-");
    cells.push_back(traffic ? FormatLatency(row.p99_ms()) : "-");
  }
  for (int i = 2; i <= 5; ++i) cells.push_back(std::to_string(Class(row, i)));
  cells.push_back(std::to_string(row.connect_errors()));
  cells.push_back(std::to_string(row.timeouts()));
  cells.push_back(std::to_string(row.retries()));
  return cells;
}

// "fleet stats for cluster api over the last 5m, at 2024-05-01T12:00:00Z"
std::string Title(const v1::GetStatsResponse& response, const StatsArgs& args) {
  std::string title = args.proxy.empty() ? "fleet" : "proxy " + Truncate(args.proxy, 64);
  title += " stats";
  if (!args.cluster.empty()) title += " for cluster " + Truncate(args.cluster, 64);
  const uint32_t window = response.window_seconds();
  if (window == 0) {
    title += " since the stats began";
  } else {
    title += " over the last " + FormatDuration(std::chrono::seconds(window));
    // Just after the control plane started it has less than the window asked for.
    if (args.window_seconds > window) {
      title += " (of the " + FormatDuration(std::chrono::seconds(args.window_seconds)) + " asked)";
    }
  }
  if (response.at_unix_ms() != 0) title += ", at " + FormatRfc3339(response.at_unix_ms());
  return title + "\n";
}

}  // namespace

std::string RenderStats(const v1::GetStatsResponse& response, const StatsArgs& args,
                        OutputFormat format) {
  const bool windowed = response.window_seconds() > 0;
  if (format != OutputFormat::kTable) {
    const auto rows = [&](const auto& list) {
      Json a = Json::MakeArray();
      for (const auto& row : list) a.Push(RowJson(row, windowed));
      return a;
    };
    Json j = Json::MakeObject();
    j.Set("window_seconds", Json(uint64_t{response.window_seconds()}))
        .Set("report_interval_ms", Json(uint64_t{response.report_interval_ms()}))
        .Set("at", TimeJson(response.at_unix_ms()))
        .Set("total", RowJson(response.total(), windowed))
        .Set("clusters", rows(response.clusters()))
        .Set("routes", rows(response.routes()))
        .Set("proxies", rows(response.proxies()));
    return Document(j, format);
  }

  Table t{Headers(windowed), {}};
  t.rows.push_back(Row("total", "all", response.total(), windowed));
  const auto add = [&](const std::string& kind, const auto& list) {
    for (const auto& row : list) t.rows.push_back(Row(kind, row.name(), row, windowed));
  };
  add("cluster", response.clusters());
  add("route", response.routes());
  add("proxy", response.proxies());
  return Title(response, args) + "\n" + RenderTable(t);
}

}  // namespace hermes::ctl
