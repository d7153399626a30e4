#include "hermes/common/health_checker.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

#include <random>

#include "hermes/common/duration.h"

namespace hermes::health {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

struct ProbeResult {
  bool ok = false;
  std::string reason;
};

}  // namespace

std::optional<bool> HealthState::OnResult(bool success, const ProbeSpec& spec) {
  if (success) {
    failures_ = 0;
    if (healthy_) return std::nullopt;
    if (++successes_ >= std::max<uint32_t>(1, spec.healthy_threshold)) {
      healthy_ = true;
      successes_ = 0;
      return true;
    }
    return std::nullopt;
  }
  successes_ = 0;
  if (!healthy_) return std::nullopt;
  if (++failures_ >= std::max<uint32_t>(1, spec.unhealthy_threshold)) {
    healthy_ = false;
    failures_ = 0;
    return false;
  }
  return std::nullopt;
}

struct HealthChecker::Running {
  Running(asio::any_io_executor ex, Target t) : target(std::move(t)), timer(ex), socket(ex) {}
  Target target;
  HealthState state;
  asio::steady_timer timer;
  tcp::socket socket;
  bool stopped = false;
};

namespace {

// One probe: connect (each address in turn), and for HTTP send the request and read the status.
awaitable<ProbeResult> ProbeOnce(tcp::socket& socket, const Target& target) {
  boost::system::error_code ec = asio::error::host_not_found;
  for (const auto& address : target.addresses) {
    boost::system::error_code ignored;
    if (socket.is_open()) socket.close(ignored);
    std::tie(ec) = co_await socket.async_connect(address, kNoThrow);
    if (!ec) break;
  }
  if (ec) co_return ProbeResult{false, "connect: " + ec.message()};
  if (target.spec.kind == ProbeSpec::Kind::kTcp) co_return ProbeResult{true, "connected"};

  const ProbeSpec& spec = target.spec;
  std::string request = spec.method + " " + spec.path + " HTTP/1.1\r\nHost: " +
                        (spec.host.empty() ? target.host : spec.host) +
                        "\r\nUser-Agent: hermes-health-check\r\nConnection: close\r\n\r\n";
  auto [wec, n] = co_await asio::async_write(socket, asio::buffer(request), kNoThrow);
  if (wec) co_return ProbeResult{false, "write: " + wec.message()};
  boost::beast::flat_buffer buffer;
  http::response_parser<http::empty_body> parser;
  parser.skip(true);  // the status is the verdict; the body is not read
  auto [rec, rn] = co_await http::async_read_header(socket, buffer, parser, kNoThrow);
  if (rec) co_return ProbeResult{false, "read: " + rec.message()};
  unsigned status = parser.get().result_int();
  for (const auto& [lo, hi] : spec.expected) {
    if (status >= lo && status <= hi) co_return ProbeResult{true, "HTTP " + std::to_string(status)};
  }
  co_return ProbeResult{false, "HTTP " + std::to_string(status)};
}

// The probe raced against its timeout; the loser is cancelled.
awaitable<ProbeResult> ProbeWithTimeout(tcp::socket& socket, asio::steady_timer& timer, const Target& target) {
  using namespace asio::experimental::awaitable_operators;
  timer.expires_after(target.spec.timeout);
  auto result = co_await (ProbeOnce(socket, target) || timer.async_wait(kNoThrow));
  boost::system::error_code ignored;
  socket.close(ignored);
  if (result.index() == 0) co_return std::get<0>(result);
  co_return ProbeResult{false, "timeout after " + FormatDuration(target.spec.timeout)};
}

Millis Jitter(std::mt19937_64& rng, Millis max) {
  if (max.count() <= 0) return Millis(0);
  return Millis(static_cast<int64_t>(rng() % static_cast<uint64_t>(max.count() + 1)));
}

}  // namespace

HealthChecker::HealthChecker(asio::any_io_executor executor, TransitionFn on_transition, uint64_t seed)
    : executor_(std::move(executor)), on_transition_(std::move(on_transition)), seed_(seed) {}

HealthChecker::~HealthChecker() { Stop(); }

void HealthChecker::Stop() {
  for (auto& [_, r] : targets_) {
    r->stopped = true;
    r->timer.cancel();
    boost::system::error_code ignored;
    r->socket.close(ignored);
  }
  targets_.clear();
}

std::optional<bool> HealthChecker::healthy(const std::string& key) const {
  auto it = targets_.find(key);
  if (it == targets_.end()) return std::nullopt;
  return it->second->state.healthy();
}

void HealthChecker::SetTargets(std::vector<Target> targets) {
  std::map<std::string, std::shared_ptr<Running>> next;
  for (auto& t : targets) {
    auto it = targets_.find(t.key);
    if (it != targets_.end() && it->second->target.spec == t.spec &&
        it->second->target.addresses == t.addresses && it->second->target.host == t.host) {
      next[t.key] = it->second;
      targets_.erase(it);
      continue;
    }
    auto running = std::make_shared<Running>(executor_, std::move(t));
    next[running->target.key] = running;
    Spawn(running);
  }
  Stop();  // what is left was removed or replaced
  targets_ = std::move(next);
}

void HealthChecker::Spawn(std::shared_ptr<Running> running) {
  uint64_t seed = seed_ ^ std::hash<std::string>{}(running->target.key);
  asio::co_spawn(
      executor_,
      [this, running, seed]() -> awaitable<void> {
        std::mt19937_64 rng(seed);
        const ProbeSpec& spec = running->target.spec;
        running->timer.expires_after(Jitter(rng, spec.initial_jitter));
        co_await running->timer.async_wait(kNoThrow);
        while (!running->stopped) {
          ProbeResult result = co_await ProbeWithTimeout(running->socket, running->timer, running->target);
          if (running->stopped) co_return;
          ++probes_;
          if (auto change = running->state.OnResult(result.ok, spec))
            on_transition_(running->target.key, *change, result.reason);
          Millis wait = !running->state.healthy() && spec.unhealthy_interval.count() > 0
                            ? spec.unhealthy_interval
                            : spec.interval;
          running->timer.expires_after(wait + Jitter(rng, spec.interval_jitter));
          co_await running->timer.async_wait(kNoThrow);
        }
      },
      asio::detached);
}

}  // namespace hermes::health
