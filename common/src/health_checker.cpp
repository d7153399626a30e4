#include "hermes/common/health_checker.h"

#include <sys/resource.h>

#include <algorithm>
#include <bit>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <cmath>
#include <cstring>

#include "hermes/common/duration.h"

namespace hermes::health {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using SteadyClock = std::chrono::steady_clock;

// A response header is at most kHeaderLimit bytes (Beast's default); the shared read buffer holds
// one plus room to read into. Bodies are discarded as they arrive; past kBodyLimit the connection
// is closed instead (the status already decided the probe).
constexpr size_t kReadBufferSize = 16 * 1024;
constexpr uint32_t kHeaderLimit = 8 * 1024;
constexpr uint64_t kBodyLimit = 64 * 1024;

// Reads a response's status line and framing and drops the rest: nothing is stored, so parsing
// allocates nothing (a beast::http::response_parser allocates every header field).
class ResponseParser final : public http::basic_parser<false> {
 public:
  unsigned status() const { return status_; }

 private:
  void on_request_impl(http::verb, boost::beast::string_view, boost::beast::string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, boost::beast::string_view, int, error_code&) override {
    status_ = static_cast<unsigned>(code);
  }
  void on_field_impl(http::field, boost::beast::string_view, boost::beast::string_view,
                     error_code&) override {}
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<uint64_t>&, error_code&) override {}
  size_t on_body_impl(boost::beast::string_view body, error_code&) override { return body.size(); }
  void on_chunk_header_impl(uint64_t, boost::beast::string_view, error_code&) override {}
  size_t on_chunk_body_impl(uint64_t, boost::beast::string_view body, error_code&) override {
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  unsigned status_ = 0;
};

// What a probe found. The reason text is only built when the result changes the target's health.
struct Outcome {
  enum class Step : uint8_t { kConnect, kWrite, kRead, kTimeout, kStatus, kConnected };
  Step step;
  bool ok = false;
  unsigned status = 0;
  error_code ec;
};

std::string Describe(const Outcome& outcome, const ProbeSpec& spec) {
  switch (outcome.step) {
    case Outcome::Step::kConnect:
      return "connect: " + outcome.ec.message();
    case Outcome::Step::kWrite:
      return "write: " + outcome.ec.message();
    case Outcome::Step::kRead:
      return "read: " + outcome.ec.message();
    case Outcome::Step::kTimeout:
      return "timeout after " + FormatDuration(spec.timeout);
    case Outcome::Step::kStatus:
      return "HTTP " + std::to_string(outcome.status);
    case Outcome::Step::kConnected:
      break;
  }
  return "connected";
}

bool Expected(unsigned status, const ProbeSpec& spec) {
  return std::any_of(spec.expected.begin(), spec.expected.end(), [status](const auto& range) {
    return status >= range.first && status <= range.second;
  });
}

// SplitMix64: eight bytes of state per target (a mt19937_64 is 2.5 KB).
uint64_t NextRandom(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Millis Jitter(uint64_t& rng, Millis max) {
  if (max.count() <= 0) return Millis(0);
  return Millis(static_cast<int64_t>(NextRandom(rng) % static_cast<uint64_t>(max.count() + 1)));
}

size_t HalfTheOpenFilesLimit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0 || files.rlim_cur == RLIM_INFINITY) return 65536;
  return static_cast<size_t>(files.rlim_cur / 2);
}

std::string RequestText(const Target& target) {
  const ProbeSpec& spec = target.spec;
  // HTTP/1.1 without "Connection: close": the connection stays open for the next probe.
  return spec.method + " " + spec.path +
         " HTTP/1.1\r\nHost: " + (spec.host.empty() ? target.host : spec.host) +
         "\r\nUser-Agent: hermes-health-check\r\n\r\n";
}

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

SteadyClock::time_point NextProbeDue(SteadyClock::time_point started,
                                     SteadyClock::time_point finished, SteadyClock::duration wait) {
  SteadyClock::time_point next = started + wait;
  return std::chrono::round<Millis>(next >= finished ? next : finished + wait);
}

namespace {

// Bucket b < 4 holds b µs; above, four buckets per power of two: [2^e, 2^e * 5/4), ... .
size_t BucketOf(uint64_t us) {
  if (us < 4) return static_cast<size_t>(us);
  int e = std::bit_width(us) - 1;  // >= 2
  size_t b = static_cast<size_t>(4 * (e - 1)) + static_cast<size_t>((us >> (e - 2)) & 3);
  return std::min(b, LatenessHistogram::kBuckets - 1);
}

// The largest value that falls in bucket b.
uint64_t BucketTop(size_t b) {
  if (b < 4) return b;
  int e = static_cast<int>(b / 4) + 1;
  uint64_t sub = b % 4;
  return (uint64_t{1} << e) + ((sub + 1) << (e - 2)) - 1;
}

}  // namespace

void LatenessHistogram::Record(Micros lateness) {
  uint64_t us = static_cast<uint64_t>(std::max<int64_t>(0, lateness.count()));
  ++buckets_[BucketOf(us)];
  ++count_;
  max_ = std::max(max_, Micros(static_cast<int64_t>(us)));
}

Micros LatenessHistogram::Quantile(double q) const {
  if (count_ == 0) return Micros(0);
  q = std::clamp(q, 0.0, 1.0);
  auto rank =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t b = 0; b < kBuckets; ++b) {
    seen += buckets_[b];
    if (seen >= rank) {
      if (b == kBuckets - 1) return max_;  // the last bucket has no top
      return std::min(max_, Micros(static_cast<int64_t>(BucketTop(b))));
    }
  }
  return max_;
}

LatenessHistogram LatenessHistogram::Since(const LatenessHistogram& earlier) const {
  LatenessHistogram part;
  for (size_t b = 0; b < kBuckets; ++b) {
    part.buckets_[b] = buckets_[b] - std::min(buckets_[b], earlier.buckets_[b]);
    part.count_ += part.buckets_[b];
    if (part.buckets_[b] > 0)
      part.max_ =
          b == kBuckets - 1 ? max_ : std::min(max_, Micros(static_cast<int64_t>(BucketTop(b))));
  }
  return part;
}

// One target: its schedule, its probe connection and the state machine of one probe. A probe is
// Start -> [Connect -> OnConnected] -> SendRequest -> OnReadable... -> Finish, raced against
// OnTimeout. Completion handlers carry the number of the probe they belong to and do nothing when
// it is over (a cancelled wait, a timer that fired as the response came in) or the target was
// retired; they hold the prober alive, never the checker.
class HealthChecker::Prober : public std::enable_shared_from_this<Prober> {
 public:
  Prober(HealthChecker& checker, Target target, uint64_t seed)
      : checker_(&checker),
        target_(std::move(target)),
        request_(target_.spec.kind == ProbeSpec::Kind::kHttp ? RequestText(target_)
                                                             : std::string()),
        state_(target_.initially_healthy),
        timer_(checker.executor_),
        socket_(checker.executor_),
        rng_(seed) {}

  const Target& target() const { return target_; }
  bool healthy() const { return state_.healthy(); }

  void ScheduleFirst() {
    Schedule(
        std::chrono::round<Millis>(SteadyClock::now() + Jitter(rng_, target_.spec.initial_jitter)));
  }

  // Takes a slot and starts a probe; it finishes in a completion handler, never in here.
  void Start() {
    HealthChecker& c = *checker_;
    ++c.in_flight_;
    ++c.stats_.probes_started;
    SteadyClock::time_point now = SteadyClock::now();
    c.stats_.lateness.Record(std::chrono::duration_cast<Micros>(now - due_));
    started_ = now;
    ++probe_;
    probing_ = true;
    retried_ = false;
    parser_.reset();
    timer_.expires_at(now + target_.spec.timeout);
    timer_.async_wait(
        [self = shared_from_this(), probe = probe_](error_code ec) { self->OnTimeout(probe, ec); });
    if (target_.spec.kind == ProbeSpec::Kind::kHttp && connected_) {
      reused_ = true;
      ++c.stats_.connections_reused;
      return SendRequest();
    }
    reused_ = false;
    Connect(0);
  }

  // The checker has accounted for the slot or the place in the queue.
  void Retire() {
    CloseConnection();
    checker_ = nullptr;
    probing_ = false;
    waiting_ = false;
    timer_.cancel();
  }

  bool probing() const { return probing_; }
  bool waiting() const { return waiting_; }
  void set_waiting(bool waiting) { waiting_ = waiting; }

 private:
  bool Current(uint32_t probe) const { return checker_ != nullptr && probing_ && probe == probe_; }

  void Schedule(SteadyClock::time_point due) {
    due_ = due;
    timer_.expires_at(due);
    timer_.async_wait(
        [self = shared_from_this(), probe = probe_](error_code ec) { self->OnDue(probe, ec); });
  }

  void OnDue(uint32_t probe, error_code ec) {
    if (ec || checker_ == nullptr || probing_ || waiting_ || probe != probe_) return;
    HealthChecker& c = *checker_;
    if (c.in_flight_ < c.max_in_flight_) return Start();
    waiting_ = true;
    ++c.waiting_count_;
    ++c.stats_.probes_waited;
    c.waiting_.push_back(shared_from_this());
  }

  void Connect(size_t index) {
    CloseConnection();
    if (index >= target_.addresses.size()) {
      // No address to try: fail from a handler, as every probe does.
      return asio::post(socket_.get_executor(), [self = shared_from_this(), probe = probe_] {
        if (self->Current(probe))
          self->Finish({Outcome::Step::kConnect, false, 0, asio::error::host_not_found}, false);
      });
    }
    socket_.async_connect(target_.addresses[index],
                          [self = shared_from_this(), probe = probe_, index](error_code ec) {
                            self->OnConnected(probe, index, ec);
                          });
  }

  void OnConnected(uint32_t probe, size_t index, error_code ec) {
    if (!Current(probe)) return;
    if (ec) {
      if (index + 1 < target_.addresses.size()) return Connect(index + 1);
      return Finish({Outcome::Step::kConnect, false, 0, ec}, false);
    }
    ++checker_->stats_.connections_opened;
    ++checker_->open_connections_;
    connected_ = true;
    if (target_.spec.kind == ProbeSpec::Kind::kTcp)
      return Finish({Outcome::Step::kConnected, true}, false);
    error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    // Reads and writes below are tried at once and only wait when the socket is not ready.
    socket_.non_blocking(true, ignored);
    SendRequest();
  }

  // The request (a hundred bytes) nearly always fits the idle socket's send buffer: one send(),
  // no write operation to allocate and complete.
  void SendRequest() {
    error_code ec;
    size_t sent = socket_.write_some(asio::buffer(request_), ec);
    if (!ec && sent == request_.size()) return WaitForResponse();
    if (!ec || ec == asio::error::would_block) {
      return asio::async_write(socket_, asio::buffer(request_) + sent,
                               [self = shared_from_this(), probe = probe_](error_code wec, size_t) {
                                 self->OnWritten(probe, wec);
                               });
    }
    // A failed send on a reused connection leads to a retry; fail from a handler all the same.
    asio::post(socket_.get_executor(),
               [self = shared_from_this(), probe = probe_, ec] { self->OnWritten(probe, ec); });
  }

  void OnWritten(uint32_t probe, error_code ec) {
    if (!Current(probe)) return;
    if (ec) return Failed(Outcome::Step::kWrite, ec);
    WaitForResponse();
  }

  void WaitForResponse() {
    NewParser();
    partial_.clear();
    WaitReadable();
  }

  void NewParser() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    parser_->eager(true);
    if (target_.spec.method == "HEAD") parser_->skip(true);  // a HEAD response has no body
  }

  void WaitReadable() {
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this(), probe = probe_](
                                                   error_code ec) { self->OnReadable(probe, ec); });
  }

  // Reads what the socket has into the checker's buffer (after the bytes of a header that came in
  // pieces) and parses it, until the response is complete or the socket has nothing more.
  void OnReadable(uint32_t probe, error_code ec) {
    if (!Current(probe)) return;
    if (ec) return Failed(Outcome::Step::kRead, ec);
    char* buffer = checker_->read_buffer_.get();
    size_t have = partial_.size();
    std::memcpy(buffer, partial_.data(), have);
    partial_.clear();
    for (;;) {
      error_code rec;
      size_t n = socket_.read_some(asio::buffer(buffer + have, kReadBufferSize - have), rec);
      if (rec == asio::error::would_block) {
        partial_.assign(buffer, have);
        return WaitReadable();
      }
      if (rec == asio::error::eof && parser_->got_some() && parser_->need_eof()) {
        error_code pec;
        parser_->put_eof(pec);  // a body delimited by the end of the connection
        if (!pec) return Finish(StatusOutcome(), false);
      }
      if (rec) return Failed(Outcome::Step::kRead, rec);
      have += n;
      size_t used = 0;
      while (used < have) {
        error_code pec;
        size_t consumed = parser_->put(asio::buffer(buffer + used, have - used), pec);
        used += consumed;
        if (pec == http::error::need_more) break;
        if (pec) return Failed(Outcome::Step::kRead, pec);
        if (parser_->is_done()) {
          // An interim response (100 Continue, 103 Early Hints) precedes the real one.
          if (parser_->status() >= 100 && parser_->status() < 200 && parser_->status() != 101) {
            NewParser();
            continue;
          }
          // Bytes after the response mean the connection is out of step, and after a 101 it
          // speaks another protocol: do not reuse it then.
          bool reusable = used == have && parser_->keep_alive() && parser_->status() != 101;
          return Finish(StatusOutcome(), reusable);
        }
        if (consumed == 0) break;
      }
      std::memmove(buffer, buffer + used, have - used);
      have -= used;
      if (have == kReadBufferSize) return Failed(Outcome::Step::kRead, http::error::header_limit);
    }
  }

  void OnTimeout(uint32_t probe, error_code ec) {
    if (ec == asio::error::operation_aborted || !Current(probe)) return;
    Finish({Outcome::Step::kTimeout}, false);
  }

  Outcome StatusOutcome() const {
    unsigned status = parser_->status();
    return {Outcome::Step::kStatus, Expected(status, target_.spec), status};
  }

  // An I/O error. Once the status line is in, the status decides (the connection is dropped). A
  // connection kept from an earlier probe that fails before any byte of a response came back was
  // most likely closed by the server while idle: retry once on a fresh one.
  void Failed(Outcome::Step step, error_code ec) {
    if (step == Outcome::Step::kRead && parser_ && parser_->is_header_done()) {
      return Finish(StatusOutcome(), false);
    }
    bool nothing_back = !parser_ || !parser_->got_some();
    if (reused_ && !retried_ && nothing_back) {
      retried_ = true;
      reused_ = false;
      parser_.reset();
      ++checker_->stats_.stale_retries;
      return Connect(0);
    }
    Finish({step, false, 0, ec}, false);
  }

  // Closes the socket, connected or not (a connect may be under way).
  void CloseConnection() {
    if (connected_ && checker_ != nullptr) --checker_->open_connections_;
    connected_ = false;
    error_code ignored;
    socket_.close(ignored);
  }

  void Finish(const Outcome& outcome, bool keep_connection) {
    HealthChecker& c = *checker_;
    probing_ = false;
    --c.in_flight_;
    ++c.stats_.probes_finished;
    if (!outcome.ok) ++c.stats_.probes_failed;
    if (!keep_connection || c.open_connections_ > c.max_kept_connections_) CloseConnection();
    parser_.reset();
    const ProbeSpec& spec = target_.spec;
    std::optional<bool> change = state_.OnResult(outcome.ok, spec);
    Millis wait = !state_.healthy() && spec.unhealthy_interval.count() > 0 ? spec.unhealthy_interval
                                                                           : spec.interval;
    wait = std::max(Millis(1), wait + Jitter(rng_, spec.interval_jitter));
    Schedule(NextProbeDue(started_, SteadyClock::now(), wait));  // also cancels the timeout
    c.StartWaiting();
    if (change) {
      // Last, and on a copy: the callback may stop or destroy the checker.
      TransitionFn on_transition = c.on_transition_;
      on_transition(target_.key, *change, Describe(outcome, spec));
    }
  }

  HealthChecker* checker_;  // null once retired
  Target target_;
  std::string request_;
  HealthState state_;
  asio::steady_timer timer_;  // when the next probe is due, then the running probe's timeout
  tcp::socket socket_;
  std::optional<ResponseParser> parser_;
  std::string partial_;              // the start of a response header that came in pieces
  SteadyClock::time_point due_;      // when the running (or next) probe fell (falls) due
  SteadyClock::time_point started_;  // when the running (or last) probe started
  uint64_t rng_;
  uint32_t probe_ = 0;  // the running (or last) probe's number
  bool probing_ = false;
  bool connected_ = false;  // socket_ holds an open connection (counted in open_connections_)
  bool waiting_ = false;    // in the checker's queue for a slot
  bool reused_ = false;     // this probe runs on a connection kept from an earlier one
  bool retried_ = false;    // this probe already retried on a fresh connection
};

HealthChecker::HealthChecker(asio::any_io_executor executor, TransitionFn on_transition,
                             uint64_t seed, HealthCheckerOptions options)
    : executor_(std::move(executor)),
      on_transition_(std::move(on_transition)),
      seed_(seed),
      max_in_flight_(std::max<size_t>(1, options.max_in_flight)),
      max_kept_connections_(options.max_kept_connections > 0 ? options.max_kept_connections
                                                             : HalfTheOpenFilesLimit()),
      read_buffer_(std::make_unique<char[]>(kReadBufferSize)) {}

HealthChecker::~HealthChecker() { Stop(); }

void HealthChecker::Retire(Prober& prober) {
  if (prober.probing()) --in_flight_;
  if (prober.waiting()) --waiting_count_;
  prober.Retire();
}

void HealthChecker::Stop() {
  for (auto& [_, prober] : targets_) Retire(*prober);
  targets_.clear();
  waiting_.clear();
}

void HealthChecker::set_max_in_flight(size_t max_in_flight) {
  max_in_flight_ = std::max<size_t>(1, max_in_flight);
  StartWaiting();
}

void HealthChecker::StartWaiting() {
  while (in_flight_ < max_in_flight_ && !waiting_.empty()) {
    ProberPtr prober = std::move(waiting_.front());
    waiting_.pop_front();
    if (!prober->waiting()) continue;  // retired while it waited
    prober->set_waiting(false);
    --waiting_count_;
    prober->Start();
  }
}

std::optional<bool> HealthChecker::healthy(const std::string& key) const {
  auto it = targets_.find(key);
  if (it == targets_.end()) return std::nullopt;
  return it->second->healthy();
}

HealthCheckerStats HealthChecker::stats() const {
  HealthCheckerStats stats = stats_;
  stats.targets = targets_.size();
  stats.in_flight = in_flight_;
  stats.waiting = waiting_count_;
  stats.open_connections = open_connections_;
  return stats;
}

void HealthChecker::Keep(std::map<std::string, ProberPtr>& probers, ProberPtr prober) {
  ProberPtr& slot = probers[prober->target().key];
  if (slot) Retire(*slot);  // the key came twice: the last one counts
  slot = std::move(prober);
}

void HealthChecker::SetTargets(std::vector<Target> targets) {
  std::map<std::string, ProberPtr> next;
  for (auto& t : targets) {
    auto it = targets_.find(t.key);
    if (it != targets_.end() && it->second->target().spec == t.spec &&
        it->second->target().addresses == t.addresses && it->second->target().host == t.host) {
      Keep(next, std::move(it->second));
      targets_.erase(it);
      continue;
    }
    uint64_t seed = seed_ ^ std::hash<std::string>{}(t.key);
    auto prober = std::make_shared<Prober>(*this, std::move(t), seed);
    prober->ScheduleFirst();
    Keep(next, std::move(prober));
  }
  for (auto& [_, prober] : targets_) Retire(*prober);  // removed or replaced
  targets_ = std::move(next);
  StartWaiting();
}

}  // namespace hermes::health
