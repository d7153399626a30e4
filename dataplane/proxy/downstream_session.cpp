#include "dataplane/proxy/downstream_session.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "dataplane/http/body_rate.h"
#include "dataplane/http/checks.h"
#include "dataplane/http/chunked_body.h"
#include "dataplane/http/forwarded.h"
#include "dataplane/http/head_writer.h"
#include "dataplane/http/message.h"
#include "dataplane/http/cookie.h"
#include "dataplane/lb/hash.h"
#include "dataplane/lb/load_balancer.h"
#include "dataplane/proxy/retry_state.h"
#include "dataplane/server/worker.h"
#include "dataplane/write_all.h"

namespace hermes::dataplane {
namespace {

namespace bhttp = boost::beast::http;
using bhttp::field;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;
using http::Framing;

// Heads are read 4 KiB at a time (a fresh flat_buffer would read 512 bytes at a time); bodies
// 64 KiB. Small enough that an idle keep-alive connection stays cheap.
constexpr size_t kInitialBuffer = 4096;
constexpr size_t kBodyRead = 65536;
constexpr size_t kStaging = 16384;  // decoded chunked bodies pass through here
constexpr size_t kResponseHeaderLimit = 65536;
// Interim (1xx) responses forwarded per request at most (Envoy keeps no count; a stream of 103s
// would otherwise keep a request open for ever): past it, 502.
constexpr int kMaxInterimResponses = 16;
// A kept replay buffer bigger than this goes back to the heap after its request: an idle
// connection holds no body buffer.
constexpr size_t kKeptReplayCapacity = 16384;

// How one proxied exchange ended, for the connection's next step.
enum class Outcome { kKeepAlive, kClose };

resilience::FailureKind BreakerKind(resilience::AttemptFailure f) {
  switch (f) {
    case resilience::AttemptFailure::kConnectFailure:
      return resilience::FailureKind::kConnectFailure;
    case resilience::AttemptFailure::kReset:
      return resilience::FailureKind::kReset;
    case resilience::AttemptFailure::kTimeout:
      return resilience::FailureKind::kTimeout;
  }
  return resilience::FailureKind::kReset;
}

bool Idempotent(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get:
    case bhttp::verb::head:
    case bhttp::verb::options:
    case bhttp::verb::trace:
    case bhttp::verb::put:
    case bhttp::verb::delete_:
      return true;
    default:
      return false;
  }
}

// "1a2b\r\n" for a chunk of n bytes.
std::string_view ChunkSize(std::array<char, 20>& buf, size_t n) {
  auto r = std::to_chars(buf.data(), buf.data() + 16, n, 16);
  r.ptr[0] = '\r';
  r.ptr[1] = '\n';
  return {buf.data(), static_cast<size_t>(r.ptr + 2 - buf.data())};
}

class DownstreamSession final : public SessionBase {
 public:
  DownstreamSession(Worker& worker, Socket socket, std::string listener)
      : w_(worker), socket_(std::move(socket)), listener_(std::move(listener)) {
    w_.Attach(*this);
    error_code ec;
    auto remote = socket_.remote_endpoint(ec);
    if (!ec) {
      peer_ = Unmapped(remote.address());
      peer_ip_ = peer_.to_string();
    } else {
      peer_ip_ = "unknown";
    }
    client_ip_ = peer_ip_;
    socket_.set_option(tcp::no_delay(true), ec);
    buffer_.reserve(kInitialBuffer);
  }

  ~DownstreamSession() override {
    if (listener_stats_) listener_stats_->active_connections.Add(-1);
    w_.Detach(*this);
  }

  Task<void> Run();
  void Expire() override;
  void OnDrain() override;

 private:
  bool RefreshSnapshot();
  void SetDeadline(Clock::duration d) {
    expired_ = false;
    deadline = d.count() > 0 ? w_.coarse_now() + d : Clock::time_point::max();
  }
  // Before each read of the client's body: the idle timeout, the whole request's deadline and the
  // minimum body rate, whichever comes first.
  void SetBodyDeadline() {
    SetDeadline(settings_->idle_timeout);
    if (settings_->request_timeout.count() > 0)
      deadline = std::min(deadline, request_began_ + settings_->request_timeout);
    if (settings_->min_request_body_rate > 0)
      deadline = std::min(deadline, http::BodyRateDeadline(body_began_, body_received_,
                                                           settings_->min_request_body_rate));
  }
  // A client body read failed: 408 if it was the deadline and the client has had no answer.
  Task<void> BodyReadFailed();

  Task<bool> ServeRequest();
  Task<std::optional<size_t>> ReadRequestHead();
  bool UpgradeAllowed(const Route& route) const;
  Task<bool> Reject(unsigned status, std::string_view reason);
  // How one try on one endpoint ended.
  enum class Attempt { kHead, kFailed, kRetryFresh, kClientGone, kOverloaded };
  // What went wrong on the upstream side of a try (Attempt::kFailed), nothing sent to the client.
  struct UpstreamFailure {
    resilience::AttemptFailure kind = resilience::AttemptFailure::kReset;
    bool reached = false;    // request bytes may have reached the upstream
    bool body_used = false;  // client body bytes were streamed (not replayable)
    unsigned status = 502;
    std::string_view reason;  // static text
  };

  Task<Outcome> Proxy(const Route& route);
  Task<Attempt> TryEndpoint(const Route& route, const Endpoint& ep, const proxy::RetryState& retry);
  Task<bool> BufferRequestBody(uint64_t limit);
  using Decoded = http::DecodedPiece;
  Decoded DecodeChunked();
  void DropTrailers();
  // The chunked parser needs more bytes but the buffer already holds a header's worth: a chunk
  // size line (with its extensions) or a trailer section that never ends.
  bool ChunkFramingTooLarge() const { return buffer_.size() >= settings_->max_header_bytes; }
  Task<bool> ContinueIfExpected();
  Task<Attempt> SendRequest(bool reused);
  Task<Attempt> SendChunkedRequestBody(bool& wrote_head);
  Task<Attempt> ReadResponseHead(const Route& route, bool reused);
  Task<Outcome> SendResponse(const Route& route, std::string_view extra_fields);
  Task<Outcome> LocalFailure(unsigned status, std::string_view reason, std::string_view extra_fields = {});
  Task<Outcome> Overloaded(std::string_view reason);
  void RecordOutlier(const Cluster& cluster, const Endpoint& ep, resilience::AttemptResult result,
                     Clock::time_point now);
  bool Tried(size_t index) const;
  std::optional<uint64_t> HashKey(const Cluster& cluster) const;
  std::optional<size_t> StickyEndpoint(const Cluster& cluster) const;
  std::string_view StickyField(const Cluster& cluster, const Endpoint& ep);
  Task<bool> StreamRawResponse(uint64_t length, bool until_close, bool chunked_out);
  Task<bool> StreamChunkedResponse(bool chunked_out);
  Task<bool> WriteBodyPiece(std::string_view piece, bool chunked_out, bool with_head);
  Task<Outcome> Tunnel();
  Task<void> Pump(Socket& from, Socket& to);
  Task<void> LingeringClose();
  Task<error_code> WriteClient(std::string_view data);
  void GenerateRequestId();
  void Finish(const Route* route, unsigned status);
  char* Staging() {
    if (!staging_) staging_ = std::make_unique<char[]>(kStaging);
    return staging_.get();
  }

  Worker& w_;
  Socket socket_;
  std::string listener_;
  boost::asio::ip::address peer_;  // the TCP peer, IPv4-mapped addresses as IPv4
  std::string peer_ip_;
  bool peer_trusted_ = false;  // peer_ is in the listener's trusted_proxies
  std::string trusted_client_;  // the client the trusted hops name (trusted peers only)
  std::string_view client_ip_;  // peer_ip_, or trusted_client_
  SnapshotPtr snap_;
  const ListenerSettings* settings_ = nullptr;
  ListenerShard* listener_stats_ = nullptr;

  boost::beast::flat_buffer buffer_;  // client bytes; leftovers belong to the next request
  http::Arena arena_{2048};  // request + response fields of a typical exchange
  std::optional<http::RequestParser> req_;
  std::optional<http::ResponseParser> res_;
  std::string out_;           // head being written (kept until the response starts, for retries)
  std::string target_;        // rewritten request target
  std::string path_scratch_;  // normalized path, when it differs from the client's
  std::string_view path_;     // the normalized path (into the request or path_scratch_)
  std::string_view query_;    // "?..." of the client's target, or ""
  std::string_view target_view_;  // the target sent upstream (target_ or the client's)
  std::string replay_;        // request body kept for retries (BufferRequestBody)
  std::string sticky_field_;  // Set-Cookie or header line pinning the client
  std::vector<uint32_t> tried_;  // endpoints this request tried
  const Endpoint* served_ = nullptr;  // the endpoint of the request's final try, if one was made
  UpstreamFailure failure_;
  bool replay_ready_ = false;   // replay_ holds the whole body
  bool continue_sent_ = false;
  std::string host_scratch_;  // lower-cased Host
  std::unique_ptr<char[]> staging_;
  upstream::ConnectionPtr up_;
  std::array<char, 32> request_id_{};
  std::string_view request_id_view_;

  Clock::time_point started_{};
  Clock::time_point request_began_{};  // first byte of the request head (coarse)
  Clock::time_point body_began_{};     // the head was complete (coarse)
  uint64_t body_received_ = 0;         // body bytes (decoded, for chunked) read after the head
  std::vector<const void*> head_fields_;  // a chunked request's head fields (not its trailers)
  bool expired_ = false;
  bool waiting_ = false;  // between requests with nothing buffered: drain may close it
  bool client_keep_alive_ = false;
  bool request_sent_ = false;
  bool response_started_ = false;
  bool response_complete_ = false;
  bool upgrade_ = false;
  bool head_request_ = false;
  unsigned status_ = 0;
};

bool DownstreamSession::RefreshSnapshot() {
  const SnapshotPtr& current = w_.snapshot();
  if (!current) return false;
  if (current != snap_) {
    // A config without any listener (a managed proxy before its first config): nothing serves.
    if (current->listeners.empty()) return false;
    snap_ = current;
    settings_ = snap_->FindListener(listener_);
    if (!settings_) settings_ = &snap_->listeners.front();
    peer_trusted_ = settings_->trusted_proxies.Contains(peer_);
    if (!listener_stats_) {
      listener_stats_ = &settings_->stats->shards[w_.id()];
      listener_stats_->active_connections.Add(1);
      listener_stats_->connections_accepted.Add();
    }
  }
  return true;
}

void DownstreamSession::Expire() {
  expired_ = true;
  deadline = Clock::time_point::max();
  error_code ec;
  socket_.cancel(ec);
  if (up_) up_->socket.cancel(ec);
}

void DownstreamSession::OnDrain() {
  if (waiting_) Expire();
}

Task<void> DownstreamSession::Run() {
  bool first = true;
  while (RefreshSnapshot()) {
    waiting_ = buffer_.size() == 0;
    if (w_.draining() && waiting_) break;
    SetDeadline(first ? settings_->header_timeout : settings_->idle_timeout);
    first = false;
    if (!co_await ServeRequest()) break;
  }
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  socket_.close(ec);
}

Task<error_code> DownstreamSession::WriteClient(std::string_view data) {
  SetDeadline(settings_->idle_timeout);
  auto [ec, n] = co_await WriteAll(socket_, asio::buffer(data));
  co_return ec;
}

// Answers a request Hermes refuses itself, then closes the connection: what follows an invalid
// request cannot be trusted to be a request.
Task<bool> DownstreamSession::Reject(unsigned status, std::string_view reason) {
  out_.clear();
  http::WriteLocalResponse(out_, status, reason, /*close=*/true, head_request_);
  response_started_ = true;
  status_ = status;
  if (listener_stats_) listener_stats_->rejected_requests.Add();
  co_await WriteClient(out_);
  co_await LingeringClose();
  co_return false;
}

// Reads and discards what the client still sends for a short while after a final response, so
// that closing does not reset the connection before the client has read the response.
Task<void> DownstreamSession::LingeringClose() {
  error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  SetDeadline(std::chrono::milliseconds(500));
  size_t discarded = 0;
  while (discarded < (1u << 20)) {
    buffer_.clear();
    auto [rec, n] = co_await socket_.async_read_some(buffer_.prepare(kInitialBuffer), kNoThrow);
    if (rec) break;
    discarded += n;
  }
  buffer_.clear();
}

Task<std::optional<size_t>> DownstreamSession::ReadRequestHead() {
  bool partial_seen = false;
  for (;;) {
    if (buffer_.size() > 0) {
      if (request_began_ == Clock::time_point::max()) request_began_ = w_.coarse_now();
      waiting_ = false;
      error_code ec;
      size_t n = req_->put(buffer_.data(), ec);
      if (!ec && req_->is_header_done()) co_return n;
      if (ec && ec != bhttp::error::need_more) {
        if (ec == bhttp::error::header_limit) {
          std::string_view data(static_cast<const char*>(buffer_.data().data()), buffer_.size());
          auto eol = data.find('\n');
          bool long_line = eol == std::string_view::npos || eol + 1 > settings_->max_request_line_bytes;
          co_await Reject(long_line ? 414 : 431,
                          long_line ? "request line too long" : "request header fields too large");
        } else {
          co_await Reject(400, "malformed request: " + ec.message());
        }
        co_return std::nullopt;
      }
      if (!partial_seen) {
        // Part of a head is here: the rest must come within the header timeout (slowloris).
        partial_seen = true;
        deadline = std::min(deadline, w_.coarse_now() + settings_->header_timeout);
      }
    }
    auto [ec, n] = co_await socket_.async_read_some(buffer_.prepare(kInitialBuffer), kNoThrow);
    if (ec) {
      if (expired_ && buffer_.size() > 0) co_await Reject(408, "request head not received in time");
      co_return std::nullopt;
    }
    buffer_.commit(n);
  }
}

Task<bool> DownstreamSession::ServeRequest() {
  req_.emplace(std::piecewise_construct, std::make_tuple(),
               std::make_tuple(http::FieldsAllocator(arena_)));
  req_->header_limit(settings_->max_header_bytes);
  req_->body_limit(boost::none);  // Hermes enforces max_request_body itself, with 413
  status_ = 0;
  request_sent_ = response_started_ = response_complete_ = upgrade_ = head_request_ = false;
  request_began_ = Clock::time_point::max();
  body_received_ = 0;

  std::optional<size_t> head_size = co_await ReadRequestHead();
  if (!head_size) co_return false;
  started_ = Clock::now();
  body_began_ = w_.coarse_now();
  listener_stats_->requests.Add();

  std::string_view head(static_cast<const char*>(buffer_.data().data()), *head_size);
  auto& req = req_->get();
  head_request_ = req.method() == bhttp::verb::head;
  if (auto v = http::CheckRawHead(head); !v.ok()) co_return co_await Reject(v.status, v.reason);
  if (head.find('\n') + 1 > settings_->max_request_line_bytes)
    co_return co_await Reject(414, "request line too long");
  if (auto v = http::CheckRequest(req.base()); !v.ok()) co_return co_await Reject(v.status, v.reason);
  buffer_.consume(*head_size);
  head_fields_.clear();
  if (req_->chunked()) {
    for (const auto& f : req) head_fields_.push_back(&f);
  }

  std::string_view target = req.target();
  if (target.empty() || (target.front() != '/' && target != "*"))
    co_return co_await Reject(400, "request target must be an absolute path");
  // RFC 9112 3.2.4: the asterisk form is for OPTIONS only.
  if (target == "*" && req.method() != bhttp::verb::options)
    co_return co_await Reject(400, "the asterisk form is for OPTIONS only");
  if (auto cl = req_->content_length(); cl && settings_->max_request_body > 0 &&
                                        *cl > settings_->max_request_body)
    co_return co_await Reject(413, "request body larger than max_request_body");

  // Routing, rewriting and forwarding all see the normalized path.
  size_t q = target.find('?');
  query_ = q == std::string_view::npos ? std::string_view() : target.substr(q);
  path_ = target.substr(0, q);
  if (target != "*") {
    http::PathResult normalized = http::NormalizePath(path_, settings_->path, path_scratch_);
    if (!normalized.ok) co_return co_await Reject(400, normalized.reason);
    path_ = normalized.path;
  }
  client_ip_ = peer_ip_;  // a reload may have made a trusted peer untrusted
  if (peer_trusted_) {
    http::ResolveClient(req.base(), peer_, true, settings_->trusted_proxies, trusted_client_);
    client_ip_ = trusted_client_;
  }

  std::string_view host = NormalizeHost(req[field::host], host_scratch_);
  const Route* route = snap_->Match(host, path_);
  if (!route || !route->cluster) {
    bool body = req_->chunked() || req_->content_length().value_or(0) > 0;
    if (body) co_return co_await Reject(404, "no route for this request");
    out_.clear();
    client_keep_alive_ = req.keep_alive() && !w_.draining();
    http::WriteLocalResponse(out_, 404, "no route for this request", !client_keep_alive_, head_request_);
    listener_stats_->rejected_requests.Add();
    co_return !(co_await WriteClient(out_)) && client_keep_alive_;
  }

  client_keep_alive_ = req.keep_alive() && !w_.draining();
  upgrade_ = UpgradeAllowed(*route);
  Outcome outcome = co_await Proxy(*route);
  co_return outcome == Outcome::kKeepAlive && !w_.draining();
}

// An upgrade goes through only as one protocol token the route enables ("websocket",
// "websocket/13"); anything else (h2c, a list, "Connection: upgrade" with no Upgrade) is an
// ordinary request, its Upgrade and Connection fields dropped as hop-by-hop.
bool DownstreamSession::UpgradeAllowed(const Route& route) const {
  const auto& req = req_->get();
  if (!req_->upgrade() || req.version() < 11) return false;  // RFC 9110 7.8: not in HTTP/1.0
  std::string_view value;
  size_t fields = 0;
  for (const auto& f : req) {
    if (f.name() != field::upgrade) continue;
    ++fields;
    value = f.value();
  }
  if (fields != 1) return false;
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty() || value.find(',') != std::string_view::npos) return false;
  std::string_view protocol = value.substr(0, value.find('/'));
  if (http::IEquals(protocol, "h2c")) return false;
  return route.AllowsUpgrade(protocol);
}

Task<void> DownstreamSession::BodyReadFailed() {
  if (expired_ && !response_started_) co_await Reject(408, "request body not received in time");
}

void DownstreamSession::GenerateRequestId() {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t a = w_.random().Next(), b = w_.random().Next();
  for (int i = 0; i < 16; ++i) {
    request_id_[i] = kHex[(a >> (i * 4)) & 0xf];
    request_id_[16 + i] = kHex[(b >> (i * 4)) & 0xf];
  }
  request_id_view_ = {request_id_.data(), request_id_.size()};
}

void DownstreamSession::Finish(const Route* route, unsigned status) {
  auto latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started_);
  if (route) {
    route->stats->shards[w_.id()].Record(status, latency);
    route->cluster->stats->shards[w_.id()].Record(status, latency);
  }
  if (served_) {
    if (EndpointShard* shard = served_->state->shard(w_.id())) shard->Record(status, latency);
  }
}

Task<Outcome> DownstreamSession::Proxy(const Route& route) {
  const Cluster& cluster = *route.cluster;
  ClusterState& cs = *cluster.state;
  auto& route_shard = route.stats->shards[w_.id()];
  auto& cluster_shard = cluster.stats->shards[w_.id()];
  auto& req = req_->get();

  // Target: the normalized path, after prefix rewrite, and the client's query.
  std::string_view target = req.target();
  if (route.has_prefix_rewrite && target != "*") {
    std::string_view rest = path_.substr(route.path.empty() ? route.prefix.size() : route.path.size());
    target_.assign(route.prefix_rewrite);
    if (!target_.empty() && target_.back() == '/' && !rest.empty() && rest.front() == '/')
      rest.remove_prefix(1);
    target_.append(rest);
    if (target_.empty() || target_.front() != '/') target_.insert(0, "/");
    target_.append(query_);
    target = target_;
  } else if (path_.data() != target.data()) {
    target_.assign(path_).append(query_);
    target = target_;
  }
  target_view_ = target;
  served_ = nullptr;
  request_id_view_ = {};
  if (http::ClientRequestId(req).empty()) GenerateRequestId();

  const resilience::RetrySettings& retry = route.retry;
  bool has_body = req_->chunked() || req_->content_length().value_or(0) > 0;
  replay_.clear();
  replay_ready_ = continue_sent_ = false;
  tried_.clear();
  if (has_body) {
    // A small body is read whole before anything of the cluster is taken, so a slow client holds
    // no upstream connection (nginx's request buffering); one up to the retry buffer limit is
    // kept for a retry.
    uint64_t limit = settings_->request_buffer_bytes;
    if (!retry.implicit && retry.num_retries > 0) limit = std::max(limit, retry.buffer_limit);
    if (settings_->max_request_body > 0) limit = std::min(limit, settings_->max_request_body);
    if (limit > 0 && !co_await BufferRequestBody(limit)) {
      Finish(&route, status_);
      co_return Outcome::kClose;
    }
  }

  if (!cs.limits.requests.TryAcquire(cluster.limits.max_requests)) {
    cluster_shard.upstream_overflow.Add();
    Outcome o = co_await Overloaded("cluster max_requests reached");
    Finish(&route, status_);
    co_return o;
  }
  route_shard.active_requests.Add(1);
  cluster_shard.active_requests.Add(1);

  Outcome outcome = Outcome::kClose;
  bool done = false;

  std::optional<uint64_t> hash = cluster.hash_policy.empty() ? std::nullopt : HashKey(cluster);
  std::optional<size_t> sticky = StickyEndpoint(cluster);
  size_t breaker_skips = 0;
  proxy::RetryState retry_state(
      {&retry, route.timeout, started_},
      {Idempotent(req.method()), has_body, replay_ready_, upgrade_},
      {&cs.retries, &cluster.retry_budget, &cs.limits.requests, cluster.limits.max_retries},
      w_.random());

  while (!done) {
    std::optional<size_t> pick;
    if (sticky && Available(*cluster.endpoints[*sticky].state) && !Tried(*sticky)) {
      pick = sticky;
    } else {
      pick = cluster.balancers[w_.id()]->Pick({hash, tried_});
    }
    if (!pick) {
      outcome = co_await LocalFailure(503, "no endpoints in cluster");
      break;
    }
    const Endpoint& ep = cluster.endpoints[*pick];
    resilience::Admission admission = ep.state->breaker.TryAdmit(cluster.breaker, w_.coarse_now());
    if (admission == resilience::Admission::kRejected) {
      // Its breaker is open: try another endpoint (the original Hermes answered 502 here).
      cluster_shard.breaker_rejections.Add();
      if (EndpointShard* shard = ep.state->shard(w_.id())) shard->breaker_rejections.Add();
      tried_.push_back(static_cast<uint32_t>(*pick));
      if (++breaker_skips >= cluster.endpoints.size()) {
        outcome = co_await LocalFailure(503, "every endpoint's circuit breaker is open");
        break;
      }
      continue;
    }
    tried_.push_back(static_cast<uint32_t>(*pick));

    served_ = &ep;
    Attempt attempt = co_await TryEndpoint(route, ep, retry_state);
    Clock::time_point now = Clock::now();
    if (attempt == Attempt::kClientGone) {
      ep.state->breaker.Release(admission);
      outcome = Outcome::kClose;
      break;
    }
    if (attempt == Attempt::kOverloaded) {
      ep.state->breaker.Release(admission);
      served_ = nullptr;  // refused before the endpoint was tried: the 503 is the cluster's
      cluster_shard.upstream_overflow.Add();
      outcome = co_await Overloaded(failure_.reason);
      break;
    }

    // The endpoint's verdict, for its breaker and outlier detection.
    if (attempt == Attempt::kFailed) {
      if (failure_.kind == resilience::AttemptFailure::kTimeout) {
        if (EndpointShard* shard = ep.state->shard(w_.id())) shard->timeouts.Add();
      }
      ep.state->breaker.OnFailure(cluster.breaker, admission, BreakerKind(failure_.kind), now);
      RecordOutlier(cluster, ep, resilience::AttemptResult::kLocalOriginFailure, now);
    } else {
      unsigned status = res_->get().result_int();
      if (status >= 500) {
        ep.state->breaker.OnFailure(cluster.breaker, admission, resilience::FailureKind::k5xx, now);
      } else {
        ep.state->breaker.OnSuccess(cluster.breaker, admission, now);
      }
      bool gateway = status == 502 || status == 503 || status == 504;
      RecordOutlier(cluster, ep,
                    gateway         ? resilience::AttemptResult::kGatewayFailure
                    : status >= 500 ? resilience::AttemptResult::k5xx
                                    : resilience::AttemptResult::kSuccess,
                    now);
    }

    proxy::TryOutcome tried =
        attempt == Attempt::kFailed
            ? proxy::TryOutcome::Failure(failure_.kind, failure_.reached, failure_.body_used)
            : proxy::TryOutcome::Response(res_->get().result_int());
    proxy::RetryDecision decision = retry_state.Decide(tried, now);
    if (decision.verdict == proxy::RetryDecision::Verdict::kBudgetExhausted)
      cluster_shard.upstream_retry_overflow.Add();
    if (decision.retry()) {
      cluster_shard.upstream_retries.Add();
      served_ = nullptr;  // this try's outcome is not the request's
      up_.reset();  // a response being discarded goes with its connection
      res_.reset();
      if (decision.backoff.count() > 0) {
        Timer backoff(w_.executor());
        backoff.expires_after(decision.backoff);
        co_await backoff.async_wait(kNoThrow);
      }
      continue;
    }

    if (attempt == Attempt::kFailed) {
      if (failure_.kind == resilience::AttemptFailure::kTimeout) cluster_shard.upstream_timeouts.Add();
      outcome = co_await LocalFailure(failure_.status, failure_.reason);
      break;
    }
    std::string_view set_sticky;
    if (cluster.sticky.kind != StickySettings::Kind::kNone && (!sticky || *sticky != *pick))
      set_sticky = StickyField(cluster, ep);
    outcome = co_await SendResponse(route, set_sticky);
    // The upstream connection is reusable only after a complete exchange it agreed to keep alive.
    if (response_complete_ && up_ && !upgrade_ && res_->keep_alive() && request_sent_ &&
        up_->buffer.size() == 0) {
      ++up_->requests;
      w_.pool().Put(ep, std::move(up_), cluster.max_idle_per_endpoint, cluster.pool_idle_timeout,
                    Clock::now());
    }
    break;
  }
  cs.limits.requests.Release();
  up_.reset();
  if (replay_.capacity() > kKeptReplayCapacity) std::string().swap(replay_);
  // The response's header fields go back to the arena now, so that the arena is empty (and
  // reset) when the next request's parser takes it.
  res_.reset();
  route_shard.active_requests.Add(-1);
  cluster_shard.active_requests.Add(-1);
  Finish(&route, status_);
  co_return outcome;
}

void DownstreamSession::RecordOutlier(const Cluster& cluster, const Endpoint& ep,
                                      resilience::AttemptResult result, Clock::time_point now) {
  if (!cluster.outlier.enabled) return;
  ClusterState& cs = *cluster.state;
  if (ep.state->outlier.OnResult(cluster.outlier, result, cs.outlier, cluster.endpoints.size(), now))
    cs.availability_epoch.fetch_add(1, std::memory_order_release);
}

bool DownstreamSession::Tried(size_t index) const {
  return std::find(tried_.begin(), tried_.end(), static_cast<uint32_t>(index)) != tried_.end();
}

// The request's hash key: the first hash policy that yields one.
std::optional<uint64_t> DownstreamSession::HashKey(const Cluster& cluster) const {
  const auto& req = req_->get();
  for (const HashPolicy& policy : cluster.hash_policy) {
    switch (policy.source) {
      case HashSource::kHeader: {
        auto it = req.find(policy.name);
        if (it != req.end()) return lb::Hash64(it->value());
        break;
      }
      case HashSource::kCookie:
        if (auto v = http::FindCookie(req, policy.name)) return lb::Hash64(*v);
        break;
      case HashSource::kSourceIp:
        return lb::Hash64(client_ip_);
    }
  }
  return std::nullopt;
}

// The endpoint the client is pinned to by its sticky cookie or header, if it names one of ours.
std::optional<size_t> DownstreamSession::StickyEndpoint(const Cluster& cluster) const {
  if (cluster.sticky.kind == StickySettings::Kind::kNone) return std::nullopt;
  const auto& req = req_->get();
  std::optional<std::string_view> value;
  if (cluster.sticky.kind == StickySettings::Kind::kCookie) {
    value = http::FindCookie(req, cluster.sticky.name);
  } else if (auto it = req.find(cluster.sticky.name); it != req.end()) {
    value = it->value();
  }
  if (!value || value->size() != 16) return std::nullopt;
  uint64_t id = 0;
  auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), id, 16);
  if (ec != std::errc() || ptr != value->data() + value->size()) return std::nullopt;
  for (size_t i = 0; i < cluster.endpoints.size(); ++i) {
    if (cluster.endpoints[i].sticky_id == id) return i;
  }
  return std::nullopt;
}

// "Set-Cookie: name=<id>; ...\r\n" (or the sticky header) pinning the client to `ep`.
std::string_view DownstreamSession::StickyField(const Cluster& cluster, const Endpoint& ep) {
  const StickySettings& s = cluster.sticky;
  char id[16];
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) id[i] = kHex[(ep.sticky_id >> ((15 - i) * 4)) & 0xf];
  sticky_field_.clear();
  if (s.kind == StickySettings::Kind::kHeader) {
    sticky_field_.append(s.name).append(": ").append(id, 16).append("\r\n");
    return sticky_field_;
  }
  sticky_field_.append("Set-Cookie: ").append(s.name).append("=").append(id, 16);
  sticky_field_.append("; Path=").append(s.path);
  if (s.ttl.count() > 0) sticky_field_.append("; Max-Age=").append(std::to_string(s.ttl.count()));
  if (s.http_only) sticky_field_.append("; HttpOnly");
  sticky_field_.append("; SameSite=").append(s.same_site);
  if (s.secure) sticky_field_.append("; Secure");
  sticky_field_.append("\r\n");
  return sticky_field_;
}

// A response of Hermes' own after the upstream side failed. With the client's body unread the
// connection cannot carry another request, so it closes.
Task<Outcome> DownstreamSession::LocalFailure(unsigned status, std::string_view reason,
                                              std::string_view extra_fields) {
  bool body_unread = !replay_ready_ && (req_->chunked() || req_->content_length().value_or(0) > 0) &&
                     !request_sent_;
  if (body_unread || response_started_) {
    if (response_started_) co_return Outcome::kClose;
    out_.clear();
    http::WriteLocalResponse(out_, status, reason, true, head_request_, extra_fields);
    response_started_ = true;
    status_ = status;
    co_await WriteClient(out_);
    co_await LingeringClose();
    co_return Outcome::kClose;
  }
  out_.clear();
  http::WriteLocalResponse(out_, status, reason, !client_keep_alive_, head_request_, extra_fields);
  response_started_ = true;
  status_ = status;
  if (co_await WriteClient(out_)) co_return Outcome::kClose;
  co_return client_keep_alive_ ? Outcome::kKeepAlive : Outcome::kClose;
}

Task<Outcome> DownstreamSession::Overloaded(std::string_view reason) {
  co_return co_await LocalFailure(503, reason, "x-hermes-overloaded: true\r\n");
}

// One try on one endpoint: a connection (pooled or new), the request, the response head. On
// kHead the head is in res_; on kFailed failure_ says what went wrong.
Task<DownstreamSession::Attempt> DownstreamSession::TryEndpoint(const Route& route, const Endpoint& ep,
                                                                 const proxy::RetryState& retry) {
  const Cluster& cluster = *route.cluster;
  ClusterState& cs = *cluster.state;
  auto& cluster_shard = cluster.stats->shards[w_.id()];
  auto& req = req_->get();
  failure_ = {};
  bool fresh_only = false;
  for (;;) {
    up_.reset();
    bool reused = false;
    if (!fresh_only) up_ = w_.pool().Take(ep, cluster.pool_idle_timeout, Clock::now());
    if (up_) {
      reused = true;
      cluster_shard.pool_reused.Add();
    } else {
      if (!cs.limits.pending_requests.TryAcquire(cluster.limits.max_pending_requests)) {
        failure_.reason = "cluster max_pending_requests reached";
        co_return Attempt::kOverloaded;
      }
      if (!cs.limits.connections.TryAcquire(cluster.limits.max_connections)) {
        cs.limits.pending_requests.Release();
        failure_.reason = "cluster max_connections reached";
        co_return Attempt::kOverloaded;
      }
      up_ = std::make_unique<upstream::Connection>(w_.executor());
      up_->cluster = cluster.state;
      SetDeadline(cluster.connect_timeout);
      ep.state->active_requests.fetch_add(1, std::memory_order_relaxed);
      error_code ec = co_await upstream::Connect(*up_, ep);
      ep.state->active_requests.fetch_sub(1, std::memory_order_relaxed);
      cs.limits.pending_requests.Release();
      if (ec) {
        bool timed_out = expired_;
        up_.reset();
        cluster_shard.upstream_connect_errors.Add();
        if (EndpointShard* shard = ep.state->shard(w_.id())) {
          shard->connect_errors.Add();
          if (timed_out) shard->timeouts.Add();
        }
        failure_ = {resilience::AttemptFailure::kConnectFailure, false, false,
                    timed_out ? 504u : 502u,
                    timed_out ? "upstream connect timeout" : "upstream connect failed"};
        co_return Attempt::kFailed;
      }
      cluster_shard.pool_created.Add();
    }

    // Host: rewritten, the client's, or (HTTP/1.0 without one) the endpoint's.
    std::string_view client_host = req[field::host];
    std::string_view host = !route.host_rewrite.empty() ? std::string_view(route.host_rewrite)
                            : !client_host.empty()      ? client_host
                                                        : std::string_view(ep.address);
    http::Framing framing;
    if (replay_ready_) {
      if (!replay_.empty() || req_->content_length()) framing = {Framing::Kind::kLength, replay_.size()};
    } else if (req_->chunked()) {
      framing = {Framing::Kind::kChunked, 0};
    } else if (auto cl = req_->content_length()) {
      framing = {Framing::Kind::kLength, *cl};
    }
    out_.clear();
    http::WriteRequestHead(out_, req.base(), route,
                           {target_view_, host, peer_ip_, peer_trusted_, request_id_view_, framing, upgrade_});

    ep.state->active_requests.fetch_add(1, std::memory_order_relaxed);
    Attempt result = co_await SendRequest(reused);
    if (result == Attempt::kHead) {
      SetDeadline(retry.TryTimeout(Clock::now()));
      result = co_await ReadResponseHead(route, reused);
    }
    ep.state->active_requests.fetch_sub(1, std::memory_order_relaxed);
    if (result == Attempt::kRetryFresh) {
      // A kept-alive connection the upstream had closed: once more on a fresh one.
      fresh_only = true;
      continue;
    }
    co_return result;
  }
}

// Feeds the buffered client bytes to the chunked-body parser, which decodes into the staging
// area: how many bytes it took from buffer_ and decoded, or a framing error.
DownstreamSession::Decoded DownstreamSession::DecodeChunked() {
  Decoded d = http::DecodeChunkedPiece(*req_, buffer_.data(), Staging(), kStaging);
  buffer_.consume(d.consumed);
  body_received_ += d.produced;
  // Beast adds trailer fields to the request's fields: they are dropped, never forwarded as part
  // of the head (a trailer "Host:" would otherwise pass every check made on the head).
  if (req_->is_done()) DropTrailers();
  return d;
}

// Beast inserts a field after the last one of the same name, so trailers are told from the head's
// fields by identity, not by position.
void DownstreamSession::DropTrailers() {
  auto& req = req_->get();
  if (static_cast<size_t>(std::distance(req.begin(), req.end())) == head_fields_.size()) return;
  for (auto it = req.begin(); it != req.end();) {
    bool head = std::find(head_fields_.begin(), head_fields_.end(), &*it) != head_fields_.end();
    it = head ? std::next(it) : req.erase(it);
  }
}

// The client's body read whole into replay_ (up to `limit`) so that a retry can send it again;
// a bigger body keeps what was read in replay_ as its first piece and streams the rest.
Task<bool> DownstreamSession::BufferRequestBody(uint64_t limit) {
  if (!co_await ContinueIfExpected()) co_return false;
  if (!req_->chunked()) {
    // A bigger body has its first `limit` bytes read here too, so that a slow client holds no
    // upstream connection for them; the rest streams and the body is not replayable.
    uint64_t length = *req_->content_length();
    uint64_t want = std::min(length, limit);
    replay_.reserve(static_cast<size_t>(want));
    while (replay_.size() < want) {
      if (buffer_.size() == 0) {
        SetBodyDeadline();
        auto [ec, n] = co_await socket_.async_read_some(
            buffer_.prepare(static_cast<size_t>(std::min<uint64_t>(want - replay_.size(), kBodyRead))),
            kNoThrow);
        if (ec) {
          co_await BodyReadFailed();
          co_return false;
        }
        buffer_.commit(n);
        if (!req_->chunked()) body_received_ += n;
      }
      size_t k = static_cast<size_t>(std::min<uint64_t>(want - replay_.size(), buffer_.size()));
      replay_.append(static_cast<const char*>(buffer_.data().data()), k);
      buffer_.consume(k);
    }
    replay_ready_ = want == length;
    co_return true;
  }
  char* staging = Staging();
  while (!req_->is_done()) {
    auto [consumed, produced, ec] = DecodeChunked();
    if (ec) {
      co_await Reject(400, "malformed chunked body");
      co_return false;
    }
    replay_.append(staging, produced);
    if (replay_.size() > limit) {
      if (settings_->max_request_body > 0 && replay_.size() > settings_->max_request_body) {
        co_await Reject(413, "request body larger than max_request_body");
        co_return false;
      }
      co_return true;  // too big to replay: replay_ is sent first, the rest streams
    }
    if (req_->is_done()) break;
    if (consumed == 0 && produced == 0) {
      if (ChunkFramingTooLarge()) {
        co_await Reject(400, "chunk header or trailer section too large");
        co_return false;
      }
      SetBodyDeadline();
      auto [rec, n] = co_await socket_.async_read_some(buffer_.prepare(kBodyRead), kNoThrow);
      if (rec) {
        co_await BodyReadFailed();
        co_return false;
      }
      buffer_.commit(n);
      if (!req_->chunked()) body_received_ += n;
    }
  }
  replay_ready_ = true;
  co_return true;
}

// RFC 9110 10.1.1: a client may wait for "100 Continue" before sending its body; Hermes answers
// that itself, once, when it is about to read the body.
Task<bool> DownstreamSession::ContinueIfExpected() {
  auto& req = req_->get();
  if (continue_sent_ || req.version() < 11 || buffer_.size() != 0 ||
      !http::IEquals(req[field::expect], "100-continue"))
    co_return true;
  continue_sent_ = true;
  co_return !(co_await WriteClient("HTTP/1.1 100 Continue\r\n\r\n"));
}

Task<DownstreamSession::Attempt> DownstreamSession::SendRequest(bool reused) {
  auto& req = req_->get();
  bool chunked = req_->chunked() && !replay_ready_;
  // A length-delimited body not read whole: replay_ holds its first bytes (sent after the head),
  // the rest comes from the client.
  uint64_t remaining = chunked || replay_ready_ ? 0 : req_->content_length().value_or(0) - replay_.size();
  bool can_retry = reused && !request_sent_;
  auto fail = [&](resilience::AttemptFailure kind, bool reached, std::string_view reason) {
    failure_ = {kind, reached, failure_.body_used, 502, reason};
    return Attempt::kFailed;
  };

  if (!chunked && remaining == 0) {
    std::array<asio::const_buffer, 2> bufs{asio::buffer(out_), asio::buffer(replay_)};
    if (!replay_ready_) bufs[1] = asio::const_buffer();
    SetDeadline(settings_->idle_timeout);
    auto [ec, n] = co_await WriteAll(up_->socket, bufs);
    if (ec) {
      if (can_retry && (n == 0 || Idempotent(req.method()))) co_return Attempt::kRetryFresh;
      co_return fail(resilience::AttemptFailure::kReset, n > 0, "upstream write failed");
    }
    request_sent_ = true;
    co_return Attempt::kHead;
  }

  if (!co_await ContinueIfExpected()) co_return Attempt::kClientGone;

  bool wrote_head = false;
  if (chunked) {
    Attempt a = co_await SendChunkedRequestBody(wrote_head);
    if (a != Attempt::kHead) co_return a;
    request_sent_ = true;
    co_return Attempt::kHead;
  }

  while (remaining > 0 || !wrote_head) {
    if (buffer_.size() == 0 && wrote_head) {
      SetBodyDeadline();
      auto [ec, n] = co_await socket_.async_read_some(
          buffer_.prepare(static_cast<size_t>(std::min<uint64_t>(remaining, kBodyRead))), kNoThrow);
      if (ec) {  // client gone or stalled mid-body
        co_await BodyReadFailed();
        co_return Attempt::kClientGone;
      }
      buffer_.commit(n);
      if (!req_->chunked()) body_received_ += n;
    }
    size_t k = static_cast<size_t>(std::min<uint64_t>(remaining, buffer_.size()));
    std::array<asio::const_buffer, 3> bufs{asio::buffer(out_), asio::buffer(replay_),
                                           asio::buffer(buffer_.data().data(), k)};
    SetDeadline(settings_->idle_timeout);
    auto [ec, n] = wrote_head
                       ? co_await WriteAll(up_->socket, asio::buffer(buffer_.data().data(), k))
                       : co_await WriteAll(up_->socket, bufs);
    if (ec) {
      if (!wrote_head && can_retry && n == 0) co_return Attempt::kRetryFresh;
      failure_.body_used = wrote_head || n > out_.size();
      co_return fail(resilience::AttemptFailure::kReset, true, "upstream write failed");
    }
    failure_.body_used = failure_.body_used || k > 0 || (!wrote_head && !replay_.empty());
    wrote_head = true;
    buffer_.consume(k);
    remaining -= k;
  }
  request_sent_ = true;
  co_return Attempt::kHead;
}

// Decodes the client's chunked body and re-frames it for the upstream, counting it against
// max_request_body. A prefix read by BufferRequestBody (replay_) goes first.
Task<DownstreamSession::Attempt> DownstreamSession::SendChunkedRequestBody(bool& wrote_head) {
  char* staging = Staging();
  uint64_t total = replay_.size();
  std::array<char, 20> size_line{};
  auto upstream_failed = [&] {
    failure_ = {resilience::AttemptFailure::kReset, true, true, 502, "upstream write failed"};
    return Attempt::kFailed;
  };
  if (!replay_.empty()) {
    std::array<asio::const_buffer, 4> bufs{asio::buffer(out_), asio::buffer(ChunkSize(size_line, replay_.size())),
                                           asio::buffer(replay_), asio::buffer("\r\n", 2)};
    SetDeadline(settings_->idle_timeout);
    auto [wec, n] = co_await WriteAll(up_->socket, bufs);
    if (wec) co_return upstream_failed();
    wrote_head = true;
    failure_.body_used = true;
    replay_.clear();
  }
  while (!req_->is_done()) {
    auto [consumed, produced, ec] = DecodeChunked();
    if (ec) {
      if (!wrote_head) co_await Reject(400, "malformed chunked body");
      co_return Attempt::kClientGone;
    }
    total += produced;
    if (settings_->max_request_body > 0 && total > settings_->max_request_body) {
      // The upstream already has part of it; it is abandoned with its connection.
      co_await Reject(413, "request body larger than max_request_body");
      co_return Attempt::kClientGone;
    }
    if (produced > 0 || (!wrote_head && req_->is_done())) {
      std::string_view size = ChunkSize(size_line, produced);
      std::array<asio::const_buffer, 4> bufs{
          asio::buffer(wrote_head ? std::string_view() : std::string_view(out_)), asio::buffer(size),
          asio::buffer(staging, produced), asio::buffer("\r\n", 2)};
      if (produced == 0) bufs[1] = bufs[2] = bufs[3] = asio::const_buffer();
      SetDeadline(settings_->idle_timeout);
      auto [wec, n] = co_await WriteAll(up_->socket, bufs);
      failure_.body_used = failure_.body_used || produced > 0;
      if (wec) co_return upstream_failed();
      wrote_head = true;
    }
    if (req_->is_done()) break;
    if (consumed == 0 && produced == 0) {
      if (ChunkFramingTooLarge()) {
        co_await Reject(400, "chunk header or trailer section too large");
        co_return Attempt::kClientGone;
      }
      SetBodyDeadline();
      auto [rec, n] = co_await socket_.async_read_some(buffer_.prepare(kBodyRead), kNoThrow);
      if (rec) {
        co_await BodyReadFailed();
        co_return Attempt::kClientGone;
      }
      buffer_.commit(n);
      if (!req_->chunked()) body_received_ += n;
    }
  }
  SetDeadline(settings_->idle_timeout);
  auto [wec, n] = co_await WriteAll(up_->socket, asio::buffer("0\r\n\r\n", 5));
  if (wec) co_return upstream_failed();
  co_return Attempt::kHead;
}

Task<DownstreamSession::Attempt> DownstreamSession::ReadResponseHead(const Route& route, bool reused) {
  auto& req = req_->get();
  // The try's deadline, set by the caller: re-armed before every read, so that neither a forwarded
  // 1xx nor a tick landing between a read and its resumption can extend or lose it.
  const Clock::time_point try_deadline = deadline;
  auto timed_out = [&] {
    failure_ = {resilience::AttemptFailure::kTimeout, true, failure_.body_used, 504,
                "upstream response timeout"};
    return Attempt::kFailed;
  };
  for (int interim = 0;;) {
    res_.emplace(std::piecewise_construct, std::make_tuple(),
                 std::make_tuple(http::FieldsAllocator(arena_)));
    res_->header_limit(kResponseHeaderLimit);
    res_->body_limit(boost::none);
    if (head_request_) res_->skip(true);
    bool got_bytes = up_->buffer.size() > 0;
    for (;;) {
      error_code ec;
      size_t n = up_->buffer.size() ? res_->put(up_->buffer.data(), ec) : 0;
      if (!ec && res_->is_header_done()) {
        std::string_view head(static_cast<const char*>(up_->buffer.data().data()), n);
        if (auto v = http::CheckRawHead(head); !v.ok()) ec = bhttp::error::bad_field;
        up_->buffer.consume(n);
        if (!ec) break;
      }
      if (ec && ec != bhttp::error::need_more) {
        failure_ = {resilience::AttemptFailure::kReset, true, failure_.body_used, 502,
                    "upstream sent a malformed response head"};
        co_return Attempt::kFailed;
      }
      if (expired_ || w_.coarse_now() >= try_deadline) co_return timed_out();
      deadline = try_deadline;
      auto [rec, rn] = co_await up_->socket.async_read_some(up_->buffer.prepare(kInitialBuffer), kNoThrow);
      if (rec) {
        if (expired_) co_return timed_out();
        // A kept-alive connection closed under us before any response byte: the request
        // never got an answer, so it may go once more on a fresh connection if it is safe.
        bool bodyless = replay_ready_ || (!req_->chunked() && req_->content_length().value_or(0) == 0);
        if (reused && !got_bytes && bodyless && Idempotent(req.method()) && !upgrade_)
          co_return Attempt::kRetryFresh;
        failure_ = {resilience::AttemptFailure::kReset, true, failure_.body_used, 502,
                    "upstream closed the connection"};
        co_return Attempt::kFailed;
      }
      got_bytes = true;
      up_->buffer.commit(rn);
    }
    auto& res = res_->get();
    if (auto v = http::CheckResponse(res.base()); !v.ok()) {
      failure_ = {resilience::AttemptFailure::kReset, true, failure_.body_used, v.status, v.reason};
      co_return Attempt::kFailed;
    }
    unsigned status = res.result_int();
    if (status >= 200 || status == 101) break;
    if (++interim > kMaxInterimResponses) {
      failure_ = {resilience::AttemptFailure::kReset, true, failure_.body_used, 502,
                  "upstream sent too many interim responses"};
      co_return Attempt::kFailed;
    }
    // Interim responses: 100 is Hermes' own business (it answered the client already); others
    // (103 Early Hints) go to HTTP/1.1 clients as they are.
    if (status != 100 && req.version() >= 11) {
      out_.clear();
      http::WriteResponseHead(out_, res.base(), route, {{}, false, false, false, {}});
      // The route timeout runs on across interim responses: writing one does not extend it.
      if (co_await WriteClient(out_)) co_return Attempt::kClientGone;
      expired_ = false;
      deadline = try_deadline;
    }
  }
  co_return Attempt::kHead;
}


Task<bool> DownstreamSession::WriteBodyPiece(std::string_view piece, bool chunked_out, bool with_head) {
  std::array<char, 20> size_line{};
  std::array<asio::const_buffer, 4> bufs{};
  size_t i = 0;
  if (with_head) bufs[i++] = asio::buffer(out_);
  if (chunked_out && !piece.empty()) bufs[i++] = asio::buffer(ChunkSize(size_line, piece.size()));
  if (!piece.empty()) bufs[i++] = asio::buffer(piece);
  if (chunked_out && !piece.empty()) bufs[i++] = asio::buffer("\r\n", 2);
  SetDeadline(settings_->idle_timeout);
  auto [ec, n] = co_await WriteAll(socket_, bufs);
  co_return !ec;
}

Task<Outcome> DownstreamSession::SendResponse(const Route& route, std::string_view extra_fields) {
  auto& res = res_->get();
  auto& req = req_->get();
  unsigned status = res.result_int();
  status_ = status;
  if (status == 101) {
    if (!upgrade_) { co_await Reject(502, "upstream switched protocols unasked"); co_return Outcome::kClose; }
    out_.clear();
    http::WriteResponseHead(out_, res.base(), route, {{}, false, false, true, extra_fields});
    co_return co_await Tunnel();
  }
  upgrade_ = false;  // the upstream declined: an ordinary response

  bool client_11 = req.version() >= 11;
  if (w_.draining()) client_keep_alive_ = false;  // say so in this response, then close
  bool no_body = status == 204 || status == 304 || head_request_;
  auto length = res_->content_length();
  http::ForwardedResponse fwd;
  enum class Body { kNone, kLength, kChunked, kUntilClose } body = Body::kNone;
  if (head_request_) {
    fwd.framing.kind = Framing::Kind::kAsIs;
  } else if (no_body) {
    fwd.framing.kind = Framing::Kind::kNone;
  } else if (res_->chunked()) {
    body = Body::kChunked;
  } else if (length) {
    body = Body::kLength;
    fwd.framing = {Framing::Kind::kLength, *length};
  } else {
    body = Body::kUntilClose;  // HTTP/1.0-style upstream: the body ends when it closes
  }
  bool chunked_out = false;
  if (body == Body::kChunked || body == Body::kUntilClose) {
    if (client_11) {
      chunked_out = true;
      fwd.framing.kind = Framing::Kind::kChunked;
    } else {
      fwd.framing.kind = Framing::Kind::kUntilClose;
      client_keep_alive_ = false;
    }
  }
  fwd.close = !client_keep_alive_;
  fwd.extra_fields = extra_fields;
  fwd.keep_alive_10 = client_keep_alive_ && !client_11;
  out_.clear();
  http::WriteResponseHead(out_, res.base(), route, fwd);
  response_started_ = true;

  bool ok = true;
  switch (body) {
    case Body::kNone:
      ok = co_await WriteBodyPiece({}, false, true);
      break;
    case Body::kLength:
      ok = co_await StreamRawResponse(*length, false, false);
      break;
    case Body::kUntilClose:
      ok = co_await StreamRawResponse(0, true, chunked_out);
      break;
    case Body::kChunked:
      ok = co_await StreamChunkedResponse(chunked_out);
      break;
  }
  if (!ok) co_return Outcome::kClose;
  response_complete_ = true;
  co_return client_keep_alive_ ? Outcome::kKeepAlive : Outcome::kClose;
}

// Forwards body bytes as they come, straight from the upstream connection's buffer.
Task<bool> DownstreamSession::StreamRawResponse(uint64_t length, bool until_close, bool chunked_out) {
  bool with_head = true;
  uint64_t remaining = length;
  for (;;) {
    size_t avail = up_->buffer.size();
    size_t k = until_close ? avail : static_cast<size_t>(std::min<uint64_t>(remaining, avail));
    if (k > 0 || with_head) {
      std::string_view piece(static_cast<const char*>(up_->buffer.data().data()), k);
      bool last = !until_close && remaining == k;
      if (!co_await WriteBodyPiece(piece, chunked_out, with_head)) co_return false;
      with_head = false;
      up_->buffer.consume(k);
      remaining -= until_close ? 0 : k;
      if (last) break;
    }
    SetDeadline(settings_->idle_timeout);
    auto [ec, n] = co_await up_->socket.async_read_some(
        up_->buffer.prepare(until_close ? kBodyRead
                                        : static_cast<size_t>(std::min<uint64_t>(remaining, kBodyRead))),
        kNoThrow);
    if (ec) {
      if (until_close && ec == asio::error::eof) {
        error_code pec;
        res_->put_eof(pec);
        break;
      }
      co_return false;  // truncated: the client sees the connection close
    }
    up_->buffer.commit(n);
  }
  if (chunked_out) {
    SetDeadline(settings_->idle_timeout);
    auto [ec, n] = co_await WriteAll(socket_, asio::buffer("0\r\n\r\n", 5));
    if (ec) co_return false;
  }
  co_return true;
}

Task<bool> DownstreamSession::StreamChunkedResponse(bool chunked_out) {
  auto& body = res_->get().body();
  char* staging = Staging();
  bool with_head = true;
  while (!res_->is_done()) {
    body.data = staging;
    body.size = kStaging;
    body.more = true;
    error_code ec;
    size_t consumed = up_->buffer.size() ? res_->put(up_->buffer.data(), ec) : 0;
    up_->buffer.consume(consumed);
    if (ec == bhttp::error::need_buffer || ec == bhttp::error::need_more) ec = {};
    if (ec) {
      // Broken framing from the upstream is never passed on: a 502 if the client has seen
      // nothing yet, else the connection closes mid-body.
      if (with_head) co_await Reject(502, "upstream sent a malformed chunked body");
      co_return false;
    }
    size_t produced = kStaging - body.size;
    if (produced > 0 || with_head) {
      if (!co_await WriteBodyPiece({staging, produced}, chunked_out, with_head)) co_return false;
      with_head = false;
    }
    if (res_->is_done()) break;
    if (consumed == 0 && produced == 0) {
      if (up_->buffer.size() >= kResponseHeaderLimit) {
        // A chunk size line or trailer section longer than a response head may be: refused like
        // broken framing.
        if (with_head) co_await Reject(502, "upstream sent an oversized chunk header or trailer section");
        co_return false;
      }
      SetDeadline(settings_->idle_timeout);
      auto [rec, n] = co_await up_->socket.async_read_some(up_->buffer.prepare(kBodyRead), kNoThrow);
      if (rec) co_return false;
      up_->buffer.commit(n);
    }
  }
  if (chunked_out) {
    SetDeadline(settings_->idle_timeout);
    auto [ec, n] = co_await WriteAll(socket_, asio::buffer("0\r\n\r\n", 5));
    if (ec) co_return false;
  }
  co_return true;
}

// After 101 Switching Protocols both connections carry another protocol: copy bytes both ways
// until either side closes.
Task<Outcome> DownstreamSession::Tunnel() {
  std::array<asio::const_buffer, 2> to_client{asio::buffer(out_), up_->buffer.data()};
  SetDeadline(settings_->idle_timeout);
  auto [ec, n] = co_await WriteAll(socket_, to_client);
  if (ec) co_return Outcome::kClose;
  up_->buffer.consume(up_->buffer.size());
  if (buffer_.size() > 0) {
    auto [uec, un] = co_await WriteAll(up_->socket, buffer_.data());
    if (uec) co_return Outcome::kClose;
    buffer_.consume(buffer_.size());
  }
  using namespace asio::experimental::awaitable_operators;
  co_await (Pump(socket_, up_->socket) || Pump(up_->socket, socket_));
  co_return Outcome::kClose;
}

Task<void> DownstreamSession::Pump(Socket& from, Socket& to) {
  std::vector<char> buf(kStaging);
  for (;;) {
    SetDeadline(settings_->idle_timeout);
    auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), kNoThrow);
    if (ec) break;
    auto [wec, wn] = co_await WriteAll(to, asio::buffer(buf.data(), n));
    if (wec) break;
  }
  error_code ec;
  to.shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace

Task<void> ServeConnection(Worker& worker, Socket socket, std::string listener) {
  DownstreamSession session(worker, std::move(socket), std::move(listener));
  co_await session.Run();
}

}  // namespace hermes::dataplane
