#include "dataplane/downstream_session.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "dataplane/http/checks.h"
#include "dataplane/http/head_writer.h"
#include "dataplane/http/message.h"
#include "dataplane/lb/load_balancer.h"
#include "dataplane/worker.h"
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
constexpr int kMaxConnectAttempts = 3;

// How one proxied exchange ended, for the connection's next step.
enum class Outcome { kKeepAlive, kClose, kRetryFresh };

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
    client_ip_ = ec ? std::string("unknown") : remote.address().to_string();
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

  Task<bool> ServeRequest();
  Task<std::optional<size_t>> ReadRequestHead();
  Task<bool> Reject(unsigned status, std::string_view reason);
  Task<Outcome> Proxy(const Route& route, std::string_view host);
  Task<Outcome> Exchange(const Route& route, const Endpoint& ep, bool reused);
  Task<Outcome> SendRequest(bool reused);
  Task<bool> SendChunkedRequestBody(bool& wrote_head);
  Task<Outcome> ReadResponseHead(const Route& route, bool reused);
  Task<Outcome> SendResponse(const Route& route);
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
  std::string client_ip_;
  SnapshotPtr snap_;
  const ListenerSettings* settings_ = nullptr;
  ListenerShard* listener_stats_ = nullptr;

  boost::beast::flat_buffer buffer_;  // client bytes; leftovers belong to the next request
  http::Arena arena_{2048};  // request + response fields of a typical exchange
  std::optional<http::RequestParser> req_;
  std::optional<http::ResponseParser> res_;
  std::string out_;           // head being written (kept until the response starts, for retries)
  std::string target_;        // rewritten request target
  std::string host_scratch_;  // lower-cased Host
  std::unique_ptr<char[]> staging_;
  upstream::ConnectionPtr up_;
  std::array<char, 32> request_id_{};
  std::string_view request_id_view_;

  Clock::time_point started_{};
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
    snap_ = current;
    settings_ = snap_->FindListener(listener_);
    if (!settings_) settings_ = &snap_->listeners.front();
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

  std::optional<size_t> head_size = co_await ReadRequestHead();
  if (!head_size) co_return false;
  started_ = Clock::now();
  listener_stats_->requests.Add();

  std::string_view head(static_cast<const char*>(buffer_.data().data()), *head_size);
  auto& req = req_->get();
  head_request_ = req.method() == bhttp::verb::head;
  if (auto v = http::CheckRawHead(head); !v.ok()) co_return co_await Reject(v.status, v.reason);
  if (head.find('\n') + 1 > settings_->max_request_line_bytes)
    co_return co_await Reject(414, "request line too long");
  if (auto v = http::CheckRequest(req.base()); !v.ok()) co_return co_await Reject(v.status, v.reason);
  buffer_.consume(*head_size);

  std::string_view target = req.target();
  if (target.empty() || (target.front() != '/' && target != "*"))
    co_return co_await Reject(400, "request target must be an absolute path");
  if (auto cl = req_->content_length(); cl && settings_->max_request_body > 0 &&
                                        *cl > settings_->max_request_body)
    co_return co_await Reject(413, "request body larger than max_request_body");

  std::string_view host = NormalizeHost(req[field::host], host_scratch_);
  std::string_view path = target.substr(0, target.find('?'));
  const Route* route = snap_->Match(host, path);
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
  upgrade_ = req_->upgrade();
  Outcome outcome = co_await Proxy(*route, req[field::host]);
  co_return outcome == Outcome::kKeepAlive && !w_.draining();
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
}

Task<Outcome> DownstreamSession::Proxy(const Route& route, std::string_view client_host) {
  const Cluster& cluster = *route.cluster;
  auto& route_shard = route.stats->shards[w_.id()];
  auto& cluster_shard = cluster.stats->shards[w_.id()];
  lb::LoadBalancer& balancer = *cluster.balancers[w_.id()];
  auto& req = req_->get();

  // Target after prefix rewrite.
  std::string_view target = req.target();
  if (route.has_prefix_rewrite) {
    std::string_view rest = target.substr(route.path.empty() ? route.prefix.size() : route.path.size());
    target_.assign(route.prefix_rewrite);
    if (!target_.empty() && target_.back() == '/' && !rest.empty() && rest.front() == '/')
      rest.remove_prefix(1);
    target_.append(rest);
    if (target_.empty() || target_.front() != '/') target_.insert(0, "/");
    target = target_;
  }
  request_id_view_ = {};
  if (http::ClientRequestId(req).empty()) GenerateRequestId();

  route_shard.active_requests.Add(1);
  cluster_shard.active_requests.Add(1);
  Outcome outcome = Outcome::kClose;
  std::optional<size_t> exclude;
  bool fresh_only = false;
  int connect_attempts = 0;
  for (;;) {
    std::optional<size_t> pick = balancer.Pick(exclude);
    if (!pick) {
      co_await Reject(503, "no endpoints in cluster");
      break;
    }
    const Endpoint& ep = cluster.endpoints[*pick];
    bool reused = false;
    if (!fresh_only) up_ = w_.pool().Take(ep, cluster.pool_idle_timeout, Clock::now());
    if (up_) {
      reused = true;
      cluster_shard.pool_reused.Add();
    } else {
      up_ = std::make_unique<upstream::Connection>(w_.executor());
      SetDeadline(cluster.connect_timeout);
      error_code ec = co_await upstream::Connect(*up_, ep);
      if (ec) {
        bool timed_out = expired_;
        up_.reset();
        cluster_shard.upstream_connect_errors.Add();
        // Nothing reached the upstream: another endpoint may take it (the original Hermes
        // promise, "retry connection errors").
        if (++connect_attempts < kMaxConnectAttempts && cluster.endpoints.size() > 1) {
          exclude = *pick;
          continue;
        }
        if (timed_out) cluster_shard.upstream_timeouts.Add();
        if (req_->chunked() || req_->content_length().value_or(0) > 0) {
          co_await Reject(timed_out ? 504 : 502, timed_out ? "upstream connect timeout" : "upstream connect failed");
        } else {
          out_.clear();
          http::WriteLocalResponse(out_, timed_out ? 504 : 502,
                                   timed_out ? "upstream connect timeout" : "upstream connect failed",
                                   !client_keep_alive_, head_request_);
          status_ = timed_out ? 504 : 502;
          outcome = (co_await WriteClient(out_)) ? Outcome::kClose
                    : client_keep_alive_         ? Outcome::kKeepAlive
                                                 : Outcome::kClose;
        }
        break;
      }
      cluster_shard.pool_created.Add();
    }

    // Host: rewritten, the client's, or (HTTP/1.0 without one) the endpoint's.
    std::string_view host = !route.host_rewrite.empty() ? std::string_view(route.host_rewrite)
                            : !client_host.empty()      ? client_host
                                                        : std::string_view(ep.address);
    http::Framing framing;
    if (req_->chunked()) {
      framing = {Framing::Kind::kChunked, 0};
    } else if (auto cl = req_->content_length()) {
      framing = {Framing::Kind::kLength, *cl};
    }
    out_.clear();
    http::WriteRequestHead(out_, req.base(), route,
                           {target, host, client_ip_, request_id_view_, framing, upgrade_});

    ep.state->active_requests.fetch_add(1, std::memory_order_relaxed);
    outcome = co_await Exchange(route, ep, reused);
    ep.state->active_requests.fetch_sub(1, std::memory_order_relaxed);
    if (outcome == Outcome::kRetryFresh) {
      // A kept-alive connection the upstream had closed: once more on a fresh one.
      up_.reset();
      fresh_only = true;
      exclude.reset();
      continue;
    }
    break;
  }
  up_.reset();
  // The response's header fields go back to the arena now, so that the arena is empty (and
  // reset) when the next request's parser takes it.
  res_.reset();
  route_shard.active_requests.Add(-1);
  cluster_shard.active_requests.Add(-1);
  Finish(&route, status_);
  co_return outcome;
}

// One request/response over `up_`. The request head is in out_.
Task<Outcome> DownstreamSession::Exchange(const Route& route, const Endpoint& ep, bool reused) {
  const Cluster& cluster = *route.cluster;
  Outcome sent = co_await SendRequest(reused);
  if (sent != Outcome::kKeepAlive) co_return sent;

  SetDeadline(route.timeout);
  Outcome head = co_await ReadResponseHead(route, reused);
  if (head != Outcome::kKeepAlive) co_return head;

  Outcome done = co_await SendResponse(route);
  // The upstream connection is reusable only after a complete exchange it agreed to keep alive.
  if (response_complete_ && up_ && !upgrade_ && res_->keep_alive() && request_sent_ &&
      up_->buffer.size() == 0) {
    ++up_->requests;
    w_.pool().Put(ep, std::move(up_), cluster.max_idle_per_endpoint, cluster.pool_idle_timeout,
                  Clock::now());
  }
  co_return done;
}

Task<Outcome> DownstreamSession::SendRequest(bool reused) {
  auto& req = req_->get();
  bool chunked = req_->chunked();
  uint64_t remaining = chunked ? 0 : req_->content_length().value_or(0);
  bool can_retry = reused && !request_sent_;

  if (!chunked && remaining == 0) {
    SetDeadline(settings_->idle_timeout);
    auto [ec, n] = co_await WriteAll(up_->socket, asio::buffer(out_));
    if (ec) {
      if (can_retry && (n == 0 || Idempotent(req.method()))) co_return Outcome::kRetryFresh;
      { co_await Reject(502, "upstream write failed"); co_return Outcome::kClose; }
    }
    request_sent_ = true;
    co_return Outcome::kKeepAlive;
  }

  // A body follows. The client may wait for "100 Continue" before sending it (RFC 9110 10.1.1);
  // Hermes answers that itself once it knows the request will be forwarded.
  if (req.version() >= 11 && buffer_.size() == 0 && http::IEquals(req[field::expect], "100-continue")) {
    if (co_await WriteClient("HTTP/1.1 100 Continue\r\n\r\n")) co_return Outcome::kClose;
  }

  bool wrote_head = false;
  if (chunked) {
    if (!co_await SendChunkedRequestBody(wrote_head)) co_return Outcome::kClose;
    request_sent_ = true;
    co_return Outcome::kKeepAlive;
  }

  while (remaining > 0 || !wrote_head) {
    if (buffer_.size() == 0 && wrote_head) {
      SetDeadline(settings_->idle_timeout);
      auto [ec, n] = co_await socket_.async_read_some(
          buffer_.prepare(static_cast<size_t>(std::min<uint64_t>(remaining, kBodyRead))), kNoThrow);
      if (ec) co_return Outcome::kClose;  // client gone or stalled mid-body
      buffer_.commit(n);
    }
    size_t k = static_cast<size_t>(std::min<uint64_t>(remaining, buffer_.size()));
    std::array<asio::const_buffer, 2> bufs{asio::buffer(out_), asio::buffer(buffer_.data().data(), k)};
    SetDeadline(settings_->idle_timeout);
    auto [ec, n] = wrote_head
                       ? co_await WriteAll(up_->socket, asio::buffer(buffer_.data().data(), k))
                       : co_await WriteAll(up_->socket, bufs);
    if (ec) {
      if (!wrote_head && can_retry && n == 0) co_return Outcome::kRetryFresh;
      if (!wrote_head) { co_await Reject(502, "upstream write failed"); co_return Outcome::kClose; }
      co_return Outcome::kClose;
    }
    wrote_head = true;
    buffer_.consume(k);
    remaining -= k;
  }
  request_sent_ = true;
  co_return Outcome::kKeepAlive;
}

// Decodes the client's chunked body and re-frames it for the upstream, counting it against
// max_request_body.
Task<bool> DownstreamSession::SendChunkedRequestBody(bool& wrote_head) {
  auto& body = req_->get().body();
  char* staging = Staging();
  uint64_t total = 0;
  std::array<char, 20> size_line{};
  while (!req_->is_done()) {
    body.data = staging;
    body.size = kStaging;
    body.more = true;
    error_code ec;
    size_t consumed = buffer_.size() ? req_->put(buffer_.data(), ec) : 0;
    buffer_.consume(consumed);
    if (ec == bhttp::error::need_buffer || ec == bhttp::error::need_more) ec = {};
    if (ec) {
      if (!wrote_head) co_await Reject(400, "malformed chunked body");
      co_return false;
    }
    size_t produced = kStaging - body.size;
    total += produced;
    if (settings_->max_request_body > 0 && total > settings_->max_request_body) {
      // The upstream already has part of it; it is abandoned with its connection.
      co_await Reject(413, "request body larger than max_request_body");
      co_return false;
    }
    if (produced > 0 || (!wrote_head && req_->is_done())) {
      std::string_view size = ChunkSize(size_line, produced);
      std::array<asio::const_buffer, 4> bufs{
          asio::buffer(wrote_head ? std::string_view() : std::string_view(out_)), asio::buffer(size),
          asio::buffer(staging, produced), asio::buffer("\r\n", 2)};
      if (produced == 0) bufs[1] = bufs[2] = bufs[3] = asio::const_buffer();
      SetDeadline(settings_->idle_timeout);
      auto [wec, n] = co_await WriteAll(up_->socket, bufs);
      if (wec) {
        if (!wrote_head) co_await Reject(502, "upstream write failed");
        co_return false;
      }
      wrote_head = true;
    }
    if (req_->is_done()) break;
    if (consumed == 0 && produced == 0) {
      SetDeadline(settings_->idle_timeout);
      auto [rec, n] = co_await socket_.async_read_some(buffer_.prepare(kBodyRead), kNoThrow);
      if (rec) co_return false;
      buffer_.commit(n);
    }
  }
  SetDeadline(settings_->idle_timeout);
  auto [wec, n] = co_await WriteAll(up_->socket, asio::buffer("0\r\n\r\n", 5));
  co_return !wec;
}

Task<Outcome> DownstreamSession::ReadResponseHead(const Route& route, bool reused) {
  auto& req = req_->get();
  for (;;) {
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
        { co_await Reject(502, "upstream sent a malformed response head"); co_return Outcome::kClose; }
      }
      auto [rec, rn] = co_await up_->socket.async_read_some(up_->buffer.prepare(kInitialBuffer), kNoThrow);
      if (rec) {
        if (expired_) {
          route.cluster->stats->shards[w_.id()].upstream_timeouts.Add();
          co_await Reject(504, "upstream response timeout");
          co_return Outcome::kClose;
        }
        // A kept-alive connection closed under us before any response byte: the request
        // never got an answer, so it may go once more on a fresh connection if it is safe.
        bool bodyless = !req_->chunked() && req_->content_length().value_or(0) == 0;
        if (reused && !got_bytes && bodyless && Idempotent(req.method()) && !upgrade_)
          co_return Outcome::kRetryFresh;
        { co_await Reject(502, "upstream closed the connection"); co_return Outcome::kClose; }
      }
      got_bytes = true;
      up_->buffer.commit(rn);
    }
    auto& res = res_->get();
    if (auto v = http::CheckResponse(res.base()); !v.ok())
      { co_await Reject(v.status, v.reason); co_return Outcome::kClose; }
    unsigned status = res.result_int();
    if (status >= 200 || status == 101) break;
    // Interim responses: 100 is Hermes' own business (it answered the client already); others
    // (103 Early Hints) go to HTTP/1.1 clients as they are.
    if (status != 100 && req.version() >= 11) {
      out_.clear();
      http::WriteResponseHead(out_, res.base(), route, {{}, false, false, false});
      if (co_await WriteClient(out_)) co_return Outcome::kClose;
    }
  }
  co_return Outcome::kKeepAlive;
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

Task<Outcome> DownstreamSession::SendResponse(const Route& route) {
  auto& res = res_->get();
  auto& req = req_->get();
  unsigned status = res.result_int();
  status_ = status;
  if (status == 101) {
    if (!upgrade_) { co_await Reject(502, "upstream switched protocols unasked"); co_return Outcome::kClose; }
    out_.clear();
    http::WriteResponseHead(out_, res.base(), route, {{}, false, false, true});
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
