#include "dataplane/proxy/downstream_session.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "dataplane/http/body_rate.h"
#include "dataplane/codec/http1/checks.h"
#include "dataplane/codec/http1/chunked_body.h"
#include "dataplane/codec/http1/forwarded.h"
#include "dataplane/codec/http1/head_writer.h"
#include "dataplane/codec/http1/message.h"
#include "dataplane/codec/http1/cookie.h"
#include "dataplane/lb/hash.h"
#include "dataplane/lb/load_balancer.h"
#include "dataplane/proxy/retry_state.h"
#include "dataplane/proxy/router.h"
#include "dataplane/proxy/tunnel.h"
#include "dataplane/proxy/upstream_attempt.h"
#include "dataplane/server/worker.h"
#include "dataplane/write_all.h"

namespace hermes::dataplane {
namespace {

namespace bhttp = boost::beast::http;
using bhttp::field;
using Clock = std::chrono::steady_clock;
using error_code = boost::system::error_code;
using http1::Framing;

// Heads are read 4 KiB at a time (a fresh flat_buffer would read 512 bytes at a time); bodies
// 64 KiB. Small enough that an idle keep-alive connection stays cheap.
constexpr size_t kInitialBuffer = 4096;
constexpr size_t kBodyRead = 65536;
constexpr size_t kStaging = proxy::Exchange::kStaging;

constexpr std::string_view kOverloadedField = "x-hermes-overloaded: true\r\n";
const SystemMonotonicClock kSteadyClock;

// How one proxied exchange ended, for the connection's next step.
enum class Outcome { kKeepAlive, kClose };

class DownstreamSession final : public SessionBase, private proxy::DownstreamPort {
 public:
  // `socket` and `listener` belong to ServeConnection's frame, which holds the session too.
  DownstreamSession(Worker& worker, Socket& socket, const std::string& listener)
      : w_(worker), socket_(socket), listener_(listener) {
    w_.Attach(*this);
    error_code ec;
    auto remote = socket_.remote_endpoint(ec);
    if (!ec) {
      peer_ = Unmapped(remote.address());
      peer_ip_ = peer_.to_string();
    } else {
      peer_ip_ = "unknown";
    }
    socket_.set_option(tcp::no_delay(true), ec);
    socket_.non_blocking(true, ec);  // the read after a readiness wait must never block
  }

  ~DownstreamSession() override {
    if (listener_stats_) listener_stats_->active_connections.Add(-1);
    w_.Detach(*this);
  }

  void Expire() override;
  void OnDrain() override;

 private:
  // The connection's loop; a coroutine of its own would be one more frame per idle connection.
  friend Task<void> dataplane::ServeConnection(Worker& worker, Socket socket, std::string listener);

  bool RefreshSnapshot();
  void TakeExchange() {
    if (!buffer_) buffer_ = w_.buffers().TakeReadBuffer();
    if (!arena_) arena_ = w_.buffers().TakeArena();
    if (!ex_) ex_ = w_.TakeExchange();
  }
  // The parsers' fields live in the arena: they go first.
  void ReleaseExchange() {
    if (ex_) {
      ex_->req.reset();
      ex_->res.reset();
      ex_->up.reset();
    }
    ex_.Release();
    arena_.Release();
    buffer_.Release();
  }
  void SetDeadline(Clock::duration d) { SessionBase::SetDeadline(w_.coarse_now(), d); }
  // Before each read of the client's body: the idle timeout, the whole request's deadline and the
  // minimum body rate, whichever comes first.
  void SetBodyDeadline() {
    SetDeadline(settings_->idle_timeout);
    if (settings_->request_timeout.count() > 0)
      deadline = std::min(deadline, ex_->request_began + settings_->request_timeout);
    if (settings_->min_request_body_rate > 0)
      deadline = std::min(deadline, http::BodyRateDeadline(ex_->body_began, ex_->body_received,
                                                           settings_->min_request_body_rate));
  }
  // A client body read failed: 408 if it was the deadline and the client has had no answer.
  Task<void> BodyReadFailed();

  Task<bool> ServeRequest();
  Task<std::optional<size_t>> ReadRequestHead();
  bool UpgradeAllowed(const Route& route) const;
  Task<bool> Reject(unsigned status, std::string_view reason);
  Task<Outcome> Proxy(const Route& route);
  Task<bool> BufferRequestBody(uint64_t limit);
  using Decoded = http1::DecodedPiece;
  Decoded DecodeChunked();
  void DropTrailers();
  // The chunked parser needs more bytes but the buffer already holds a header's worth: a chunk
  // size line (with its extensions) or a trailer section that never ends.
  bool ChunkFramingTooLarge() const { return buffer_->size() >= settings_->max_header_bytes; }
  // RFC 9110 10.1.1: a client may wait for "100 Continue" before sending its body; Hermes answers
  // that itself, once, when it is about to read the body.
  bool ExpectsContinue();
  Task<bool> SendContinue();
  // DownstreamPort: what the upstream attempt asks of the client's side.
  Task<std::optional<std::string_view>> NextBodyPiece() override;
  Task<bool> ForwardInterim(const http1::ResponseHeader& head, const Route& route) override;
  Task<Outcome> SendResponse(const Route& route, proxy::UpstreamAttempt& upstream,
                             std::string_view extra_fields);
  Task<Outcome> LocalFailure(unsigned status, std::string_view reason, std::string_view extra_fields = {});
  std::optional<uint64_t> HashKey(const Cluster& cluster) const;
  std::optional<size_t> StickyEndpoint(const Cluster& cluster) const;
  std::string_view StickyField(const Cluster& cluster, const Endpoint& ep);
  Task<bool> StreamResponseBody(proxy::UpstreamAttempt& upstream, bool chunked_out);
  Task<bool> WriteBodyPiece(std::string_view piece, bool chunked_out, bool with_head);
  Task<Outcome> Tunnel();
  Task<void> LingeringClose();
  Task<error_code> WriteClient(std::string_view data);
  void GenerateRequestId();
  void Finish(const Route* route, unsigned status);
  char* Staging() { return ex_->Staging(); }

  Worker& w_;
  Socket& socket_;
  const std::string& listener_;
  boost::asio::ip::address peer_;  // the TCP peer, IPv4-mapped addresses as IPv4
  std::string peer_ip_;
  bool peer_trusted_ = false;  // peer_ is in the listener's trusted_proxies
  SnapshotPtr snap_;
  const ListenerSettings* settings_ = nullptr;
  ListenerShard* listener_stats_ = nullptr;

  // Held while the connection works on a request (or has bytes buffered for the next one);
  // given back while it waits (WaitForRequest).
  BufferPool::ReadBufferLease buffer_;  // client bytes; leftovers belong to the next request
  BufferPool::ArenaLease arena_;        // request + response fields of the exchange
  Lease<proxy::Exchange> ex_;
  bool waiting_ = false;  // between requests with nothing buffered: drain may close it
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
  expired = true;
  deadline = Clock::time_point::max();
  error_code ec;
  socket_.cancel(ec);
  if (ex_ && ex_->up) ex_->up->socket.cancel(ec);
}

void DownstreamSession::OnDrain() {
  if (waiting_) Expire();
}

Task<error_code> DownstreamSession::WriteClient(std::string_view data) {
  SetDeadline(settings_->idle_timeout);
  auto [ec, n] = co_await WriteAll(socket_, asio::buffer(data));
  co_return ec;
}

// Answers a request Hermes refuses itself, then closes the connection: what follows an invalid
// request cannot be trusted to be a request.
Task<bool> DownstreamSession::Reject(unsigned status, std::string_view reason) {
  ex_->out.clear();
  http1::WriteLocalResponse(ex_->out, status, reason, /*close=*/true, ex_->head_request);
  ex_->response_started = true;
  ex_->status = status;
  if (listener_stats_) listener_stats_->rejected_requests.Add();
  co_await WriteClient(ex_->out);
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
    buffer_->clear();
    auto [rec, n] = co_await socket_.async_read_some(buffer_->prepare(kInitialBuffer), kNoThrow);
    if (rec) break;
    discarded += n;
  }
  buffer_->clear();
}

Task<std::optional<size_t>> DownstreamSession::ReadRequestHead() {
  bool partial_seen = false;
  for (;;) {
    if (buffer_->size() > 0) {
      if (ex_->request_began == Clock::time_point::max()) ex_->request_began = w_.coarse_now();
      waiting_ = false;
      error_code ec;
      size_t n = ex_->req->put(buffer_->data(), ec);
      if (!ec && ex_->req->is_header_done()) co_return n;
      if (ec && ec != bhttp::error::need_more) {
        if (ec == bhttp::error::header_limit) {
          std::string_view data(static_cast<const char*>(buffer_->data().data()), buffer_->size());
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
    auto [ec, n] = co_await socket_.async_read_some(buffer_->prepare(kInitialBuffer), kNoThrow);
    if (ec) {
      if (expired && buffer_->size() > 0) co_await Reject(408, "request head not received in time");
      co_return std::nullopt;
    }
    buffer_->commit(n);
  }
}

Task<bool> DownstreamSession::ServeRequest() {
  ex_->req.emplace(std::piecewise_construct, std::make_tuple(),
               std::make_tuple(http1::FieldsAllocator(*arena_)));
  ex_->req->header_limit(settings_->max_header_bytes);
  ex_->req->body_limit(boost::none);  // Hermes enforces max_request_body itself, with 413
  ex_->status = 0;
  ex_->request_sent = ex_->response_started = ex_->response_complete = ex_->upgrade = ex_->head_request = false;
  ex_->request_began = Clock::time_point::max();
  ex_->body_received = 0;
  ex_->body_streamed = 0;
  ex_->body_piece = 0;

  std::optional<size_t> head_size = co_await ReadRequestHead();
  if (!head_size) co_return false;
  ex_->started = Clock::now();
  ex_->body_began = w_.coarse_now();
  listener_stats_->requests.Add();

  std::string_view head(static_cast<const char*>(buffer_->data().data()), *head_size);
  auto& req = ex_->req->get();
  ex_->head_request = req.method() == bhttp::verb::head;
  if (auto v = http1::CheckRawHead(head); !v.ok()) co_return co_await Reject(v.status, v.reason);
  if (head.find('\n') + 1 > settings_->max_request_line_bytes)
    co_return co_await Reject(414, "request line too long");
  if (auto v = http1::CheckRequest(req.base()); !v.ok()) co_return co_await Reject(v.status, v.reason);
  buffer_->consume(*head_size);
  ex_->head_fields.clear();
  if (ex_->req->chunked()) {
    for (const auto& f : req) ex_->head_fields.push_back(&f);
  }

  std::string_view target = req.target();
  if (target.empty() || (target.front() != '/' && target != "*"))
    co_return co_await Reject(400, "request target must be an absolute path");
  // RFC 9112 3.2.4: the asterisk form is for OPTIONS only.
  if (target == "*" && req.method() != bhttp::verb::options)
    co_return co_await Reject(400, "the asterisk form is for OPTIONS only");
  if (auto cl = ex_->req->content_length(); cl && settings_->max_request_body > 0 &&
                                        *cl > settings_->max_request_body)
    co_return co_await Reject(413, "request body larger than max_request_body");

  // Routing, rewriting and forwarding all see the normalized path.
  size_t q = target.find('?');
  ex_->query = q == std::string_view::npos ? std::string_view() : target.substr(q);
  ex_->path = target.substr(0, q);
  if (target != "*") {
    http::PathResult normalized = http::NormalizePath(ex_->path, settings_->path, ex_->path_scratch);
    if (!normalized.ok) co_return co_await Reject(400, normalized.reason);
    ex_->path = normalized.path;
  }
  ex_->client_ip = peer_ip_;  // a reload may have made a trusted peer untrusted
  if (peer_trusted_) {
    http1::ResolveClient(req.base(), peer_, true, settings_->trusted_proxies, ex_->trusted_client);
    ex_->client_ip = ex_->trusted_client;
  }

  std::string_view host = NormalizeHost(req[field::host], ex_->host_scratch);
  const Route* route = snap_->Match(host, ex_->path);
  if (!route || !route->cluster) {
    bool body = ex_->req->chunked() || ex_->req->content_length().value_or(0) > 0;
    if (body) co_return co_await Reject(404, "no route for this request");
    ex_->out.clear();
    ex_->client_keep_alive = req.keep_alive() && !w_.draining();
    http1::WriteLocalResponse(ex_->out, 404, "no route for this request", !ex_->client_keep_alive, ex_->head_request);
    listener_stats_->rejected_requests.Add();
    co_return !(co_await WriteClient(ex_->out)) && ex_->client_keep_alive;
  }

  ex_->client_keep_alive = req.keep_alive() && !w_.draining();
  ex_->upgrade = UpgradeAllowed(*route);
  Outcome outcome = co_await Proxy(*route);
  co_return outcome == Outcome::kKeepAlive && !w_.draining();
}

// An upgrade goes through only as one protocol token the route enables ("websocket",
// "websocket/13"); anything else (h2c, a list, "Connection: upgrade" with no Upgrade) is an
// ordinary request, its Upgrade and Connection fields dropped as hop-by-hop.
bool DownstreamSession::UpgradeAllowed(const Route& route) const {
  const auto& req = ex_->req->get();
  if (!ex_->req->upgrade() || req.version() < 11) return false;  // RFC 9110 7.8: not in HTTP/1.0
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
  if (http1::IEquals(protocol, "h2c")) return false;
  return route.AllowsUpgrade(protocol);
}

Task<void> DownstreamSession::BodyReadFailed() {
  if (expired && !ex_->response_started) co_await Reject(408, "request body not received in time");
}

void DownstreamSession::GenerateRequestId() {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t a = w_.random().Next(), b = w_.random().Next();
  for (int i = 0; i < 16; ++i) {
    ex_->request_id[i] = kHex[(a >> (i * 4)) & 0xf];
    ex_->request_id[16 + i] = kHex[(b >> (i * 4)) & 0xf];
  }
  ex_->request_id_view = {ex_->request_id.data(), ex_->request_id.size()};
}

void DownstreamSession::Finish(const Route* route, unsigned status) {
  auto latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - ex_->started);
  if (route) {
    route->stats->shards[w_.id()].Record(status, latency);
    route->cluster->stats->shards[w_.id()].Record(status, latency);
  }
  if (ex_->served) {
    if (EndpointShard* shard = ex_->served->state->shard(w_.id())) shard->Record(status, latency);
  }
}

Task<Outcome> DownstreamSession::Proxy(const Route& route) {
  const Cluster& cluster = *route.cluster;
  auto& req = ex_->req->get();

  // Target: the normalized path, after prefix rewrite, and the client's query.
  std::string_view target = req.target();
  if (route.has_prefix_rewrite && target != "*") {
    std::string_view rest = ex_->path.substr(route.path.empty() ? route.prefix.size() : route.path.size());
    ex_->target.assign(route.prefix_rewrite);
    if (!ex_->target.empty() && ex_->target.back() == '/' && !rest.empty() && rest.front() == '/')
      rest.remove_prefix(1);
    ex_->target.append(rest);
    if (ex_->target.empty() || ex_->target.front() != '/') ex_->target.insert(0, "/");
    ex_->target.append(ex_->query);
    target = ex_->target;
  } else if (ex_->path.data() != target.data()) {
    ex_->target.assign(ex_->path).append(ex_->query);
    target = ex_->target;
  }
  ex_->target_view = target;
  ex_->served = nullptr;
  ex_->request_id_view = {};
  if (http1::ClientRequestId(req).empty()) GenerateRequestId();

  const resilience::RetrySettings& retry = route.retry;
  bool has_body = ex_->req->chunked() || ex_->req->content_length().value_or(0) > 0;
  ex_->replay.clear();
  ex_->replay_ready = ex_->continue_decided = false;
  if (has_body) {
    // A small body is read whole before anything of the cluster is taken, so a slow client holds
    // no upstream connection (nginx's request buffering); one up to the retry buffer limit is
    // kept for a retry.
    uint64_t limit = settings_->request_buffer_bytes;
    if (!retry.implicit && retry.num_retries > 0) limit = std::max(limit, retry.buffer_limit);
    if (settings_->max_request_body > 0) limit = std::min(limit, settings_->max_request_body);
    if (limit > 0) {
      bool buffered = co_await BufferRequestBody(limit);
      if (!buffered) {
        Finish(&route, ex_->status);
        co_return Outcome::kClose;
      }
    }
  }

  // The router runs the tries; this session makes each one (HTTP/1 upstream) and answers.
  proxy::Router router(route, w_.id(), w_.random(), kSteadyClock);
  proxy::UpstreamAttempt connector(w_, *this, *this, *ex_, *arena_, route,
                                  {peer_ip_, peer_trusted_, settings_->idle_timeout});
  proxy::RouterRequest routed{ex_->started,
                              {http1::Idempotent(req.method()), has_body, ex_->replay_ready, ex_->upgrade},
                              cluster.hash_policy.empty() ? std::nullopt : HashKey(cluster),
                              StickyEndpoint(cluster)};
  proxy::RouterResult result = co_await router.Forward(routed, connector);
  ex_->served = result.endpoint;
  Outcome outcome = Outcome::kClose;
  switch (result.kind) {
    case proxy::RouterResult::Kind::kClientGone:
      break;
    case proxy::RouterResult::Kind::kLocalReply:
      outcome = co_await LocalFailure(result.status, result.reason,
                                      result.overloaded ? kOverloadedField : std::string_view());
      break;
    case proxy::RouterResult::Kind::kResponse: {
      const Endpoint& ep = *result.endpoint;
      std::string_view set_sticky = result.pin ? StickyField(cluster, ep) : std::string_view();
      outcome = co_await SendResponse(route, connector, set_sticky);
      // The upstream connection is reusable only after a complete exchange it agreed to keep alive.
      if (ex_->response_complete && ex_->up && !ex_->upgrade && ex_->res->keep_alive() && ex_->request_sent &&
          ex_->up->buffer.size() == 0) {
        ++ex_->up->requests;
        w_.pool().Put(ep, std::move(ex_->up), cluster.max_idle_per_endpoint, cluster.pool_idle_timeout,
                      Clock::now());
      }
      break;
    }
  }
  ex_->up.reset();
  if (ex_->replay.capacity() > proxy::kKeptReplayCapacity) std::string().swap(ex_->replay);
  // The response's header fields go back to the arena now, so that the arena is empty (and
  // reset) when the next request's parser takes it.
  ex_->res.reset();
  Finish(&route, ex_->status);
  co_return outcome;
}

// The request's hash key: the first hash policy that yields one.
std::optional<uint64_t> DownstreamSession::HashKey(const Cluster& cluster) const {
  const auto& req = ex_->req->get();
  for (const HashPolicy& policy : cluster.hash_policy) {
    switch (policy.source) {
      case HashSource::kHeader: {
        auto it = req.find(policy.name);
        if (it != req.end()) return lb::Hash64(it->value());
        break;
      }
      case HashSource::kCookie:
        if (auto v = http1::FindCookie(req, policy.name)) return lb::Hash64(*v);
        break;
      case HashSource::kSourceIp:
        return lb::Hash64(ex_->client_ip);
    }
  }
  return std::nullopt;
}

// The endpoint the client is pinned to by its sticky cookie or header, if it names one of ours.
std::optional<size_t> DownstreamSession::StickyEndpoint(const Cluster& cluster) const {
  if (cluster.sticky.kind == StickySettings::Kind::kNone) return std::nullopt;
  const auto& req = ex_->req->get();
  std::optional<std::string_view> value;
  if (cluster.sticky.kind == StickySettings::Kind::kCookie) {
    value = http1::FindCookie(req, cluster.sticky.name);
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
  ex_->sticky_field.clear();
  if (s.kind == StickySettings::Kind::kHeader) {
    ex_->sticky_field.append(s.name).append(": ").append(id, 16).append("\r\n");
    return ex_->sticky_field;
  }
  ex_->sticky_field.append("Set-Cookie: ").append(s.name).append("=").append(id, 16);
  ex_->sticky_field.append("; Path=").append(s.path);
  if (s.ttl.count() > 0) ex_->sticky_field.append("; Max-Age=").append(std::to_string(s.ttl.count()));
  if (s.http_only) ex_->sticky_field.append("; HttpOnly");
  ex_->sticky_field.append("; SameSite=").append(s.same_site);
  if (s.secure) ex_->sticky_field.append("; Secure");
  ex_->sticky_field.append("\r\n");
  return ex_->sticky_field;
}

// A response of Hermes' own after the upstream side failed. With the client's body unread the
// connection cannot carry another request, so it closes.
Task<Outcome> DownstreamSession::LocalFailure(unsigned status, std::string_view reason,
                                              std::string_view extra_fields) {
  bool body_unread = !ex_->replay_ready && (ex_->req->chunked() || ex_->req->content_length().value_or(0) > 0) &&
                     !ex_->request_sent;
  if (body_unread || ex_->response_started) {
    if (ex_->response_started) co_return Outcome::kClose;
    ex_->out.clear();
    http1::WriteLocalResponse(ex_->out, status, reason, true, ex_->head_request, extra_fields);
    ex_->response_started = true;
    ex_->status = status;
    co_await WriteClient(ex_->out);
    co_await LingeringClose();
    co_return Outcome::kClose;
  }
  ex_->out.clear();
  http1::WriteLocalResponse(ex_->out, status, reason, !ex_->client_keep_alive, ex_->head_request, extra_fields);
  ex_->response_started = true;
  ex_->status = status;
  if (co_await WriteClient(ex_->out)) co_return Outcome::kClose;
  co_return ex_->client_keep_alive ? Outcome::kKeepAlive : Outcome::kClose;
}

// Feeds the buffered client bytes to the chunked-body parser, which decodes into the staging
// area: how many bytes it took from buffer_ and decoded, or a framing error.
DownstreamSession::Decoded DownstreamSession::DecodeChunked() {
  Decoded d = http1::DecodeChunkedPiece(*ex_->req, buffer_->data(), Staging(), kStaging);
  buffer_->consume(d.consumed);
  ex_->body_received += d.produced;
  // Beast adds trailer fields to the request's fields: they are dropped, never forwarded as part
  // of the head (a trailer "Host:" would otherwise pass every check made on the head).
  if (ex_->req->is_done()) DropTrailers();
  return d;
}

// Beast inserts a field after the last one of the same name, so trailers are told from the head's
// fields by identity, not by position.
void DownstreamSession::DropTrailers() {
  auto& req = ex_->req->get();
  if (static_cast<size_t>(std::distance(req.begin(), req.end())) == ex_->head_fields.size()) return;
  for (auto it = req.begin(); it != req.end();) {
    bool head = std::find(ex_->head_fields.begin(), ex_->head_fields.end(), &*it) != ex_->head_fields.end();
    it = head ? std::next(it) : req.erase(it);
  }
}

// The client's body read whole into ex_->replay (up to `limit`) so that a retry can send it again;
// a bigger body keeps what was read in ex_->replay as its first piece and streams the rest.
Task<bool> DownstreamSession::BufferRequestBody(uint64_t limit) {
  if (ExpectsContinue()) {
    bool continued = co_await SendContinue();
    if (!continued) co_return false;
  }
  if (!ex_->req->chunked()) {
    // A bigger body has its first `limit` bytes read here too, so that a slow client holds no
    // upstream connection for them; the rest streams and the body is not replayable.
    uint64_t length = *ex_->req->content_length();
    uint64_t want = std::min(length, limit);
    ex_->replay.reserve(static_cast<size_t>(want));
    while (ex_->replay.size() < want) {
      if (buffer_->size() == 0) {
        SetBodyDeadline();
        auto [ec, n] = co_await socket_.async_read_some(
            buffer_->prepare(static_cast<size_t>(std::min<uint64_t>(want - ex_->replay.size(), kBodyRead))),
            kNoThrow);
        if (ec) {
          co_await BodyReadFailed();
          co_return false;
        }
        buffer_->commit(n);
        if (!ex_->req->chunked()) ex_->body_received += n;
      }
      size_t k = static_cast<size_t>(std::min<uint64_t>(want - ex_->replay.size(), buffer_->size()));
      ex_->replay.append(static_cast<const char*>(buffer_->data().data()), k);
      buffer_->consume(k);
    }
    ex_->replay_ready = want == length;
    co_return true;
  }
  char* staging = Staging();
  while (!ex_->req->is_done()) {
    auto [consumed, produced, ec] = DecodeChunked();
    if (ec) {
      co_await Reject(400, "malformed chunked body");
      co_return false;
    }
    ex_->replay.append(staging, produced);
    if (ex_->replay.size() > limit) {
      if (settings_->max_request_body > 0 && ex_->replay.size() > settings_->max_request_body) {
        co_await Reject(413, "request body larger than max_request_body");
        co_return false;
      }
      co_return true;  // too big to replay: ex_->replay is sent first, the rest streams
    }
    if (ex_->req->is_done()) break;
    if (consumed == 0 && produced == 0) {
      if (ChunkFramingTooLarge()) {
        co_await Reject(400, "chunk header or trailer section too large");
        co_return false;
      }
      SetBodyDeadline();
      auto [rec, n] = co_await socket_.async_read_some(buffer_->prepare(kBodyRead), kNoThrow);
      if (rec) {
        co_await BodyReadFailed();
        co_return false;
      }
      buffer_->commit(n);
      if (!ex_->req->chunked()) ex_->body_received += n;
    }
  }
  ex_->replay_ready = true;
  co_return true;
}

// RFC 9110 10.1.1: a client may wait for "100 Continue" before sending its body; Hermes answers
// that itself, once, when it is about to read the body.
// Decided once, when the body is first wanted: a client that sent body bytes with its head is
// not waiting, and a 100 never goes out in the middle of a body.
bool DownstreamSession::ExpectsContinue() {
  if (ex_->continue_decided) return false;
  ex_->continue_decided = true;
  const auto& req = ex_->req->get();
  return req.version() >= 11 && buffer_->size() == 0 &&
         http1::IEquals(req[field::expect], "100-continue");
}

// False when the client went away.
Task<bool> DownstreamSession::SendContinue() {
  error_code ec = co_await WriteClient("HTTP/1.1 100 Continue\r\n\r\n");
  co_return !ec;
}

// The client's body after what BufferRequestBody kept, for the upstream attempt: a length-
// delimited body as it sits in buffer_, a chunked one decoded into the staging area.
Task<std::optional<std::string_view>> DownstreamSession::NextBodyPiece() {
  buffer_->consume(ex_->body_piece);  // the attempt wrote the last piece
  ex_->body_piece = 0;
  if (ExpectsContinue()) {  // checked here: a coroutine call per piece would allocate a frame
    bool continued = co_await SendContinue();
    if (!continued) co_return std::nullopt;
  }
  if (!ex_->req->chunked()) {
    uint64_t remaining = ex_->req->content_length().value_or(0) - ex_->replay.size() - ex_->body_streamed;
    if (remaining == 0) co_return std::string_view();
    if (buffer_->size() == 0) {
      SetBodyDeadline();
      auto [ec, n] = co_await socket_.async_read_some(
          buffer_->prepare(static_cast<size_t>(std::min<uint64_t>(remaining, kBodyRead))), kNoThrow);
      if (ec) {  // client gone or stalled mid-body
        co_await BodyReadFailed();
        co_return std::nullopt;
      }
      buffer_->commit(n);
      ex_->body_received += n;
    }
    ex_->body_piece = static_cast<size_t>(std::min<uint64_t>(remaining, buffer_->size()));
    ex_->body_streamed += ex_->body_piece;
    co_return std::string_view(static_cast<const char*>(buffer_->data().data()), ex_->body_piece);
  }
  char* staging = Staging();
  for (;;) {
    if (ex_->req->is_done()) co_return std::string_view();
    auto [consumed, produced, ec] = DecodeChunked();
    if (ec) {
      if (!ex_->response_started) co_await Reject(400, "malformed chunked body");
      co_return std::nullopt;
    }
    if (settings_->max_request_body > 0 && ex_->body_received > settings_->max_request_body) {
      // The upstream already has part of it; it is abandoned with its connection.
      co_await Reject(413, "request body larger than max_request_body");
      co_return std::nullopt;
    }
    if (produced > 0) co_return std::string_view(staging, produced);
    if (consumed > 0) continue;
    if (ChunkFramingTooLarge()) {
      co_await Reject(400, "chunk header or trailer section too large");
      co_return std::nullopt;
    }
    SetBodyDeadline();
    auto [rec, n] = co_await socket_.async_read_some(buffer_->prepare(kBodyRead), kNoThrow);
    if (rec) {
      co_await BodyReadFailed();
      co_return std::nullopt;
    }
    buffer_->commit(n);
  }
}

// Interim responses (103 Early Hints...) go to HTTP/1.1 clients as they are; an HTTP/1.0 client
// gets none.
Task<bool> DownstreamSession::ForwardInterim(const http1::ResponseHeader& head, const Route& route) {
  if (ex_->req->get().version() < 11) co_return true;
  ex_->out.clear();
  http1::WriteResponseHead(ex_->out, head, route, {{}, false, false, false, {}});
  error_code ec = co_await WriteClient(ex_->out);
  co_return !ec;
}

Task<bool> DownstreamSession::WriteBodyPiece(std::string_view piece, bool chunked_out, bool with_head) {
  std::array<char, 20> size_line{};
  std::array<asio::const_buffer, 4> bufs{};
  size_t i = 0;
  if (with_head) bufs[i++] = asio::buffer(ex_->out);
  if (chunked_out && !piece.empty()) bufs[i++] = asio::buffer(http1::ChunkSizeLine(size_line, piece.size()));
  if (!piece.empty()) bufs[i++] = asio::buffer(piece);
  if (chunked_out && !piece.empty()) bufs[i++] = asio::buffer("\r\n", 2);
  SetDeadline(settings_->idle_timeout);
  auto [ec, n] = co_await WriteAll(socket_, bufs);
  co_return !ec;
}

Task<Outcome> DownstreamSession::SendResponse(const Route& route, proxy::UpstreamAttempt& upstream,
                                              std::string_view extra_fields) {
  auto& res = ex_->res->get();
  auto& req = ex_->req->get();
  unsigned status = res.result_int();
  ex_->status = status;
  if (status == 101) {
    if (!ex_->upgrade) { co_await Reject(502, "upstream switched protocols unasked"); co_return Outcome::kClose; }
    ex_->out.clear();
    http1::WriteResponseHead(ex_->out, res.base(), route, {{}, false, false, true, extra_fields});
    co_return co_await Tunnel();
  }
  ex_->upgrade = false;  // the upstream declined: an ordinary response

  bool client_11 = req.version() >= 11;
  if (w_.draining()) ex_->client_keep_alive = false;  // say so in this response, then close
  bool no_body = status == 204 || status == 304 || ex_->head_request;
  std::optional<uint64_t> length = http1::ContentLength(*ex_->res);
  http1::ForwardedResponse fwd;
  enum class Body { kNone, kLength, kChunked, kUntilClose } body = Body::kNone;
  uint64_t body_length = 0;
  if (ex_->head_request) {
    fwd.framing.kind = Framing::Kind::kAsIs;
  } else if (no_body) {
    fwd.framing.kind = Framing::Kind::kNone;
  } else if (ex_->res->chunked()) {
    body = Body::kChunked;
  } else if (length) {
    body = Body::kLength;
    body_length = *length;
    fwd.framing = {Framing::Kind::kLength, body_length};
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
      ex_->client_keep_alive = false;
    }
  }
  fwd.close = !ex_->client_keep_alive;
  fwd.extra_fields = extra_fields;
  fwd.keep_alive_10 = ex_->client_keep_alive && !client_11;
  ex_->out.clear();
  http1::WriteResponseHead(ex_->out, res.base(), route, fwd);
  ex_->response_started = true;

  bool ok = true;
  if (body == Body::kNone) {
    ok = co_await WriteBodyPiece({}, false, true);
  } else {
    upstream.StartResponseBody(body == Body::kLength    ? proxy::ResponseFraming::kLength
                               : body == Body::kChunked ? proxy::ResponseFraming::kChunked
                                                        : proxy::ResponseFraming::kUntilClose,
                               body_length);
    ok = co_await StreamResponseBody(upstream, chunked_out);
  }
  if (!ok) co_return Outcome::kClose;
  ex_->response_complete = true;
  co_return ex_->client_keep_alive ? Outcome::kKeepAlive : Outcome::kClose;
}

// The response body as the upstream attempt hands it over, re-framed for the client: the head
// goes with whatever of the body has already arrived, the rest as it comes. Broken framing from
// the upstream is never passed on: a 502 if the client has seen nothing yet, else the connection
// closes mid-body (as it does when the upstream's body is cut short).
Task<bool> DownstreamSession::StreamResponseBody(proxy::UpstreamAttempt& upstream, bool chunked_out) {
  using State = proxy::ResponsePiece::State;
  bool with_head = true;
  for (;;) {
    proxy::ResponsePiece piece = co_await upstream.NextResponsePiece(/*may_wait=*/!with_head);
    if (piece.state == State::kMalformed) {
      if (with_head) co_await Reject(502, piece.reason);
      co_return false;
    }
    if (piece.state == State::kTruncated) co_return false;
    if (!piece.data.empty() || with_head) {
      bool written = co_await WriteBodyPiece(piece.data, chunked_out, with_head);
      if (!written) co_return false;
      with_head = false;
    }
    if (piece.state == State::kEnd) break;
  }
  if (chunked_out) {
    SetDeadline(settings_->idle_timeout);
    auto [ec, n] = co_await WriteAll(socket_, asio::buffer("0\r\n\r\n", 5));
    if (ec) co_return false;
  }
  co_return true;
}

// After 101 Switching Protocols: the response head and whatever either side already sent go
// through, then the tunnel (proxy/tunnel.h) until either side closes.
Task<Outcome> DownstreamSession::Tunnel() {
  std::array<asio::const_buffer, 2> to_client{asio::buffer(ex_->out), ex_->up->buffer.data()};
  SetDeadline(settings_->idle_timeout);
  auto [ec, n] = co_await WriteAll(socket_, to_client);
  if (ec) co_return Outcome::kClose;
  ex_->up->buffer.consume(ex_->up->buffer.size());
  if (buffer_->size() > 0) {
    auto [uec, un] = co_await WriteAll(ex_->up->socket, buffer_->data());
    if (uec) co_return Outcome::kClose;
    buffer_->consume(buffer_->size());
  }
  co_await proxy::Splice(socket_, ex_->up->socket, *this, w_, settings_->idle_timeout);
  co_return Outcome::kClose;
}

}  // namespace

Task<void> ServeConnection(Worker& worker, Socket socket, std::string listener) {
  DownstreamSession s(worker, socket, listener);
  bool first = true;
  while (s.RefreshSnapshot()) {
    s.waiting_ = !s.buffer_ || s.buffer_->size() == 0;
    if (s.w_.draining() && s.waiting_) break;
    s.SetDeadline(first ? s.settings_->header_timeout : s.settings_->idle_timeout);
    first = false;
    if (s.waiting_) {
      // Nothing buffered: the wait for the next request holds no buffer, arena or exchange
      // (epoll reports bytes that came before the wait was queued: SocketReadinessTest).
      s.ReleaseExchange();
      auto [ec] = co_await s.socket_.async_wait(Socket::wait_read, kNoThrow);
      if (ec) break;
      s.TakeExchange();
      // The bytes are here: read them now rather than through another asynchronous read, whose
      // completion would be one more pass through the worker's scheduler.
      error_code rec;
      size_t n = s.socket_.read_some(s.buffer_->prepare(kInitialBuffer), rec);
      if (rec == asio::error::eof) break;
      if (rec && rec != asio::error::would_block && rec != asio::error::try_again) break;
      if (!rec) s.buffer_->commit(n);
      // The config may have changed while the connection waited (for an hour, say): the
      // request is served on the current one.
      if (!s.RefreshSnapshot()) break;
    }
    if (!co_await s.ServeRequest()) break;
  }
  error_code ec;
  s.socket_.shutdown(tcp::socket::shutdown_send, ec);
  s.socket_.close(ec);
}


}  // namespace hermes::dataplane
