// One try of a request on one endpoint over HTTP/1.1 (the router's UpstreamConnector): a
// connection from the worker's pool or a new one within the cluster's limits, the request head
// and body, the response head. It writes only to the upstream; what the client must see (a 100
// Continue, an interim 1xx, a 400/408/413 about its body) goes through the DownstreamPort, which
// the downstream session implements.
#pragma once

#include <optional>
#include <string_view>

#include "dataplane/asio.h"
#include "dataplane/codec/http1/message.h"
#include "dataplane/config/snapshot.h"
#include "dataplane/proxy/exchange.h"
#include "dataplane/proxy/router.h"

namespace hermes::dataplane {
class SessionBase;
class Worker;
}  // namespace hermes::dataplane

namespace hermes::dataplane::proxy {

// The client's side of a try, as the upstream attempt needs it.
class DownstreamPort {
 public:
  virtual ~DownstreamPort() = default;
  // The next piece of the client's body after the part the exchange keeps in `replay` (decoded,
  // for chunked; a 100 Continue sent first if the client waits for one). The piece stays valid
  // until the next call. Empty once the body is complete; nullopt when the client went away or
  // was answered (stalled: 408, malformed: 400, over max_request_body: 413).
  virtual Task<std::optional<std::string_view>> NextBodyPiece() = 0;
  // Forwards an interim (1xx) response head to the client (with the route's response header
  // rules), if it speaks HTTP/1.1; false when the client went away.
  virtual Task<bool> ForwardInterim(const http1::ResponseHeader& head, const Route& route) = 0;
};

// What the attempt needs of the connection it serves.
struct DownstreamPeer {
  std::string_view ip;        // the TCP peer, for X-Forwarded-For
  bool trusted = false;       // one of the listener's trusted_proxies
  Millis idle_timeout{60000};  // the listener's: every write and body read
};

// A piece of the response body (NextResponsePiece).
struct ResponsePiece {
  enum class State : uint8_t {
    kData,       // `data` (possibly empty when the caller did not let it wait)
    kEnd,        // the body is complete
    kMalformed,  // broken chunked framing: never passed on (`reason` says what)
    kTruncated,  // the upstream closed or failed mid-body
  };
  State state = State::kEnd;
  std::string_view data;
  std::string_view reason;  // kMalformed, static text
};

// How the response body is delimited on the upstream connection.
enum class ResponseFraming : uint8_t { kLength, kChunked, kUntilClose };

class UpstreamAttempt final : public UpstreamConnector {
 public:
  UpstreamAttempt(Worker& worker, SessionBase& timing, DownstreamPort& downstream, Exchange& ex,
                  http::Arena& arena, const Route& route, const DownstreamPeer& peer)
      : w_(worker), timing_(timing), downstream_(downstream), ex_(ex), arena_(arena), route_(route),
        peer_(peer) {}

  // On kResponse the response head is in ex.res and its connection in ex.up.
  Task<TryReport> Try(const Endpoint& endpoint, const RetryState& retry) override;
  void Abandon() override;
  Task<void> Backoff(std::chrono::milliseconds wait) override;

  // The response body of the try that answered, decoded if chunked. StartResponseBody first;
  // then each piece stays valid until the next call. With `may_wait` false the call returns what
  // has already arrived (maybe nothing) without reading, so the head can go out at once.
  void StartResponseBody(ResponseFraming framing, uint64_t length);
  Task<ResponsePiece> NextResponsePiece(bool may_wait);

 private:
  enum class Step : uint8_t { kHead, kFailed, kRetryFresh, kClientGone, kOverloaded };

  Task<Step> Open(const Endpoint& ep, bool fresh_only, bool& reused);
  void WriteHead(const Endpoint& ep);
  Task<Step> SendRequest(bool reused);
  Task<Step> SendStreamedBody(bool chunked, bool can_retry_fresh);
  Task<Step> ReadResponseHead(bool reused);
  void SetDeadline(Clock::duration d);
  Step Fail(resilience::AttemptFailure kind, bool reached, unsigned status, std::string_view reason) {
    ex_.failure = {kind, reached, ex_.failure.body_used, status, reason};
    return Step::kFailed;
  }
  bool Bodyless() const;

  Worker& w_;
  SessionBase& timing_;
  DownstreamPort& downstream_;
  Exchange& ex_;
  http::Arena& arena_;
  const Route& route_;
  DownstreamPeer peer_;
  std::optional<std::string_view> pending_;  // a body piece taken from the client, not yet written
  ResponseFraming response_framing_ = ResponseFraming::kLength;
  uint64_t response_remaining_ = 0;  // kLength: body bytes not yet handed out
  size_t response_piece_ = 0;        // bytes of the upstream buffer the last piece handed out
};

}  // namespace hermes::dataplane::proxy
