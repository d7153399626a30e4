#include "dataplane/proxy/upstream_attempt.h"

#include <array>

#include <boost/beast/http/error.hpp>

#include "dataplane/codec/http1/checks.h"
#include "dataplane/codec/http1/chunked_body.h"
#include "dataplane/codec/http1/head_writer.h"
#include "dataplane/server/worker.h"
#include "dataplane/write_all.h"

namespace hermes::dataplane::proxy {
namespace {

namespace bhttp = boost::beast::http;
using error_code = boost::system::error_code;
using http1::Framing;
using resilience::AttemptFailure;

constexpr size_t kHeadRead = 4096;
constexpr size_t kBodyRead = 65536;
constexpr size_t kResponseHeaderLimit = 65536;
// Interim (1xx) responses forwarded per request at most (Envoy keeps no count; a stream of 103s
// would otherwise keep a request open for ever): past it, 502.
constexpr int kMaxInterimResponses = 16;

}  // namespace

void UpstreamAttempt::SetDeadline(Clock::duration d) { timing_.SetDeadline(w_.coarse_now(), d); }

bool UpstreamAttempt::Bodyless() const {
  return ex_.replay_ready || (!ex_.req->chunked() && http1::ContentLength(*ex_.req).value_or(0) == 0);
}

void UpstreamAttempt::Abandon() {
  ex_.up.reset();  // a response being discarded goes with its connection
  ex_.res.reset();
}

Task<void> UpstreamAttempt::Backoff(std::chrono::milliseconds wait) {
  Timer timer(w_.executor());
  timer.expires_after(wait);
  co_await timer.async_wait(kNoThrow);
}

Task<TryReport> UpstreamAttempt::Try(const Endpoint& ep, const RetryState& retry) {
  ex_.failure = {};
  bool fresh_only = false;
  for (;;) {
    bool reused = false;
    Step step = co_await Open(ep, fresh_only, reused);
    if (step == Step::kHead) {
      WriteHead(ep);
      ep.state->active_requests.fetch_add(1, std::memory_order_relaxed);
      step = co_await SendRequest(reused);
      if (step == Step::kHead) {
        SetDeadline(retry.TryTimeout(Clock::now()));
        step = co_await ReadResponseHead(reused);
      }
      ep.state->active_requests.fetch_sub(1, std::memory_order_relaxed);
    }
    switch (step) {
      case Step::kRetryFresh:
        // A kept-alive connection the upstream had closed: once more on a fresh one.
        fresh_only = true;
        continue;
      case Step::kHead:
        co_return TryReport::Response(ex_.res->get().result_int());
      case Step::kClientGone:
        co_return TryReport::ClientGone();
      case Step::kOverloaded:
        co_return TryReport::Overloaded(ex_.failure.reason);
      case Step::kFailed:
        break;
    }
    const UpstreamFailure& f = ex_.failure;
    co_return TryReport::Failed(f.kind, f.reached, f.body_used, f.status, f.reason);
  }
}

// A pooled connection to the endpoint, or a new one within the cluster's pending-request and
// connection limits.
Task<UpstreamAttempt::Step> UpstreamAttempt::Open(const Endpoint& ep, bool fresh_only, bool& reused) {
  const Cluster& cluster = *route_.cluster;
  ClusterState& cs = *cluster.state;
  TrafficShard& cluster_shard = cluster.stats->shards[w_.id()];
  ex_.up.reset();
  if (!fresh_only) ex_.up = w_.pool().Take(ep, cluster.pool_idle_timeout, Clock::now());
  if (ex_.up) {
    reused = true;
    cluster_shard.pool_reused.Add();
    co_return Step::kHead;
  }
  if (!cs.limits.pending_requests.TryAcquire(cluster.limits.max_pending_requests)) {
    ex_.failure.reason = "cluster max_pending_requests reached";
    co_return Step::kOverloaded;
  }
  if (!cs.limits.connections.TryAcquire(cluster.limits.max_connections)) {
    cs.limits.pending_requests.Release();
    ex_.failure.reason = "cluster max_connections reached";
    co_return Step::kOverloaded;
  }
  ex_.up = std::make_unique<upstream::Connection>(w_.executor());
  ex_.up->cluster = cluster.state;
  SetDeadline(cluster.connect_timeout);
  ep.state->active_requests.fetch_add(1, std::memory_order_relaxed);
  error_code ec = co_await upstream::Connect(*ex_.up, ep);
  ep.state->active_requests.fetch_sub(1, std::memory_order_relaxed);
  cs.limits.pending_requests.Release();
  if (ec) {
    bool timed_out = timing_.expired;
    ex_.up.reset();
    cluster_shard.upstream_connect_errors.Add();
    if (EndpointShard* shard = ep.state->shard(w_.id())) {
      shard->connect_errors.Add();
      if (timed_out) shard->timeouts.Add();
    }
    ex_.failure = {AttemptFailure::kConnectFailure, false, false, timed_out ? 504u : 502u,
                   timed_out ? "upstream connect timeout" : "upstream connect failed"};
    co_return Step::kFailed;
  }
  cluster_shard.pool_created.Add();
  co_return Step::kHead;
}

void UpstreamAttempt::WriteHead(const Endpoint& ep) {
  const auto& req = ex_.req->get();
  // Host: rewritten, the client's, or (HTTP/1.0 without one) the endpoint's.
  std::string_view client_host = req[bhttp::field::host];
  std::string_view host = !route_.host_rewrite.empty() ? std::string_view(route_.host_rewrite)
                          : !client_host.empty()       ? client_host
                                                       : std::string_view(ep.address);
  Framing framing;
  if (ex_.replay_ready) {
    if (!ex_.replay.empty() || http1::ContentLength(*ex_.req))
      framing = {Framing::Kind::kLength, ex_.replay.size()};
  } else if (ex_.req->chunked()) {
    framing = {Framing::Kind::kChunked, 0};
  } else if (auto cl = http1::ContentLength(*ex_.req)) {
    framing = {Framing::Kind::kLength, *cl};
  }
  ex_.out.clear();
  http1::WriteRequestHead(ex_.out, req.base(), route_,
                          {ex_.target_view, host, peer_.ip, peer_.trusted, ex_.request_id_view,
                           framing, ex_.upgrade});
}

Task<UpstreamAttempt::Step> UpstreamAttempt::SendRequest(bool reused) {
  bool chunked = ex_.req->chunked() && !ex_.replay_ready;
  bool streamed =
      chunked || (!ex_.replay_ready && http1::ContentLength(*ex_.req).value_or(0) > ex_.replay.size());
  if (streamed) co_return co_await SendStreamedBody(chunked, reused && !ex_.request_sent);

  // The head and the whole body (if any) at once.
  std::array<asio::const_buffer, 2> bufs{asio::buffer(ex_.out), asio::buffer(ex_.replay)};
  if (!ex_.replay_ready) bufs[1] = asio::const_buffer();
  SetDeadline(peer_.idle_timeout);
  auto [ec, n] = co_await WriteAll(ex_.up->socket, bufs);
  if (ec) {
    if (reused && !ex_.request_sent && (n == 0 || http1::Idempotent(ex_.req->get().method())))
      co_return Step::kRetryFresh;
    co_return Fail(AttemptFailure::kReset, n > 0, 502, "upstream write failed");
  }
  ex_.request_sent = true;
  co_return Step::kHead;
}

// A body the exchange does not keep whole: the head goes first, with what BufferRequestBody kept
// (its first bytes) if anything, then every piece as the client sends it, re-framed as chunks when the client
// sent chunks. A piece taken from the client stays `pending_` until it is written, so a try that
// fails before writing any of it (a fresh connection, another endpoint) sends it again.
Task<UpstreamAttempt::Step> UpstreamAttempt::SendStreamedBody(bool chunked, bool can_retry_fresh) {
  std::array<char, 20> size_line{};
  bool first = true;
  for (;;) {
    std::string_view piece;
    bool from_client = false;
    if (first) {
      // The head goes at once, with the kept prefix if there is one: a client slow to send its
      // body does not leave a pooled connection idle long enough for the upstream to close it.
      piece = ex_.replay;
    } else {
      if (!pending_) {
        std::optional<std::string_view> next = co_await downstream_.NextBodyPiece();
        if (!next) co_return Step::kClientGone;
        pending_ = *next;
      }
      piece = *pending_;
      from_client = true;
    }
    bool last = from_client && piece.empty();
    std::array<asio::const_buffer, 5> bufs{};
    size_t i = 0;
    if (first) bufs[i++] = asio::buffer(ex_.out);
    if (!piece.empty()) {
      if (chunked) bufs[i++] = asio::buffer(http1::ChunkSizeLine(size_line, piece.size()));
      bufs[i++] = asio::buffer(piece);
      if (chunked) bufs[i++] = asio::buffer("\r\n", 2);
    }
    if (last && chunked) bufs[i++] = asio::buffer("0\r\n\r\n", 5);
    if (i > 0) {
      SetDeadline(peer_.idle_timeout);
      auto [ec, n] = co_await WriteAll(ex_.up->socket, bufs);
      if (ec) {
        bool body_sent = !first || n > ex_.out.size();
        if (first && n == 0 && can_retry_fresh) co_return Step::kRetryFresh;
        ex_.failure.body_used = ex_.failure.body_used || body_sent;
        co_return Fail(AttemptFailure::kReset, true, 502, "upstream write failed");
      }
    }
    // Body bytes went: another try could not send the same body again.
    if (!piece.empty()) ex_.failure.body_used = true;
    if (from_client) pending_.reset();
    first = false;
    if (last) break;
  }
  ex_.request_sent = true;
  co_return Step::kHead;
}

Task<UpstreamAttempt::Step> UpstreamAttempt::ReadResponseHead(bool reused) {
  const auto& req = ex_.req->get();
  // The try's deadline, set by the caller: re-armed before every read, so that neither a forwarded
  // 1xx nor a tick landing between a read and its resumption can extend or lose it.
  const Clock::time_point try_deadline = timing_.deadline;
  upstream::Connection& up = *ex_.up;
  for (int interim = 0;;) {
    ex_.res.emplace(std::piecewise_construct, std::make_tuple(),
                    std::make_tuple(http1::FieldsAllocator(arena_)));
    ex_.res->header_limit(kResponseHeaderLimit);
    ex_.res->body_limit(boost::none);
    if (ex_.head_request) ex_.res->skip(true);
    bool got_bytes = up.buffer.size() > 0;
    for (;;) {
      error_code ec;
      size_t n = up.buffer.size() ? ex_.res->put(up.buffer.data(), ec) : 0;
      if (!ec && ex_.res->is_header_done()) {
        std::string_view head(static_cast<const char*>(up.buffer.data().data()), n);
        if (auto v = http1::CheckRawHead(head); !v.ok()) ec = bhttp::error::bad_field;
        up.buffer.consume(n);
        if (!ec) break;
      }
      if (ec && ec != bhttp::error::need_more)
        co_return Fail(AttemptFailure::kReset, true, 502, "upstream sent a malformed response head");
      if (timing_.expired || w_.coarse_now() >= try_deadline)
        co_return Fail(AttemptFailure::kTimeout, true, 504, "upstream response timeout");
      timing_.deadline = try_deadline;
      auto [rec, rn] = co_await up.socket.async_read_some(up.buffer.prepare(kHeadRead), kNoThrow);
      if (rec) {
        if (timing_.expired) co_return Fail(AttemptFailure::kTimeout, true, 504, "upstream response timeout");
        // A kept-alive connection closed under us before any response byte: the request never
        // got an answer, so it may go once more on a fresh connection if that is safe.
        if (reused && !got_bytes && Bodyless() && http1::Idempotent(req.method()) && !ex_.upgrade)
          co_return Step::kRetryFresh;
        co_return Fail(AttemptFailure::kReset, true, 502, "upstream closed the connection");
      }
      got_bytes = true;
      up.buffer.commit(rn);
    }
    const auto& res = ex_.res->get();
    if (auto v = http1::CheckResponse(res.base()); !v.ok())
      co_return Fail(AttemptFailure::kReset, true, v.status, v.reason);
    unsigned status = res.result_int();
    if (status >= 200 || status == 101) break;
    if (++interim > kMaxInterimResponses)
      co_return Fail(AttemptFailure::kReset, true, 502, "upstream sent too many interim responses");
    // 100 Continue is Hermes' own business (it answered the client already); others (103 Early
    // Hints) go to the client. The route timeout runs on across them.
    if (status != 100) {
      bool client_there = co_await downstream_.ForwardInterim(res.base(), route_);
      if (!client_there) co_return Step::kClientGone;
      timing_.expired = false;
      timing_.deadline = try_deadline;
    }
  }
  co_return Step::kHead;
}

void UpstreamAttempt::StartResponseBody(ResponseFraming framing, uint64_t length) {
  response_framing_ = framing;
  response_remaining_ = length;
  response_piece_ = 0;
}

Task<ResponsePiece> UpstreamAttempt::NextResponsePiece(bool may_wait) {
  using State = ResponsePiece::State;
  upstream::Connection& up = *ex_.up;
  up.buffer.consume(response_piece_);  // the caller wrote the last piece
  response_piece_ = 0;
  if (response_framing_ != ResponseFraming::kChunked) {
    const bool until_close = response_framing_ == ResponseFraming::kUntilClose;
    for (;;) {
      if (!until_close && response_remaining_ == 0) co_return ResponsePiece{State::kEnd};
      size_t avail = up.buffer.size();
      size_t k = until_close ? avail : static_cast<size_t>(std::min<uint64_t>(response_remaining_, avail));
      if (k > 0 || !may_wait) {
        response_piece_ = k;
        if (!until_close) response_remaining_ -= k;
        co_return ResponsePiece{State::kData, {static_cast<const char*>(up.buffer.data().data()), k}};
      }
      SetDeadline(peer_.idle_timeout);
      size_t want = until_close ? kBodyRead
                                : static_cast<size_t>(std::min<uint64_t>(response_remaining_, kBodyRead));
      auto [ec, n] = co_await up.socket.async_read_some(up.buffer.prepare(want), kNoThrow);
      if (ec) {
        if (until_close && ec == asio::error::eof) {
          error_code pec;
          ex_.res->put_eof(pec);
          co_return ResponsePiece{State::kEnd};
        }
        co_return ResponsePiece{State::kTruncated};
      }
      up.buffer.commit(n);
    }
  }
  auto& body = ex_.res->get().body();
  char* staging = ex_.Staging();
  for (;;) {
    if (ex_.res->is_done()) co_return ResponsePiece{State::kEnd};
    body.data = staging;
    body.size = Exchange::kStaging;
    body.more = true;
    error_code ec;
    size_t consumed = up.buffer.size() ? ex_.res->put(up.buffer.data(), ec) : 0;
    up.buffer.consume(consumed);
    if (ec == bhttp::error::need_buffer || ec == bhttp::error::need_more) ec = {};
    if (ec) co_return ResponsePiece{State::kMalformed, {}, "upstream sent a malformed chunked body"};
    size_t produced = Exchange::kStaging - body.size;
    if (produced > 0 || !may_wait) co_return ResponsePiece{State::kData, {staging, produced}};
    if (ex_.res->is_done()) co_return ResponsePiece{State::kEnd};
    if (consumed > 0) continue;
    if (up.buffer.size() >= kResponseHeaderLimit) {
      // A chunk size line or trailer section longer than a response head may be: refused like
      // broken framing.
      co_return ResponsePiece{State::kMalformed, {},
                              "upstream sent an oversized chunk header or trailer section"};
    }
    SetDeadline(peer_.idle_timeout);
    auto [rec, n] = co_await up.socket.async_read_some(up.buffer.prepare(kBodyRead), kNoThrow);
    if (rec) co_return ResponsePiece{State::kTruncated};
    up.buffer.commit(n);
  }
}

}  // namespace hermes::dataplane::proxy
