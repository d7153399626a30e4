// What a client connection needs only while it works on a request: the parsers, the heads being
// written, the rewritten target, the body kept for retries, the upstream connection of the try.
// A connection waiting for its next request holds none of it: the exchange goes back to its
// worker's free list (Worker::TakeExchange), keeping its strings' capacity for the next user, so a
// keep-alive request allocates nothing and an idle connection costs a few hundred bytes.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/config/snapshot.h"
#include "dataplane/codec/http1/message.h"
#include "dataplane/resilience/retry.h"
#include "dataplane/upstream/connection_pool.h"

namespace hermes::dataplane::proxy {

// What went wrong on the upstream side of a try, nothing sent to the client.
struct UpstreamFailure {
  resilience::AttemptFailure kind = resilience::AttemptFailure::kReset;
  bool reached = false;    // request bytes may have reached the upstream
  bool body_used = false;  // client body bytes were streamed (not replayable)
  unsigned status = 502;
  std::string_view reason;  // static text
};

struct Exchange {
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kStaging = 16384;  // decoded chunked bodies pass through here

  // The staging area, allocated on first use and kept with the exchange.
  char* Staging() {
    if (!staging) staging = std::make_unique<char[]>(kStaging);
    return staging.get();
  }

  // Readies a returned exchange for its next request; false when it grew too big to keep.
  static bool Reuse(Exchange& e);

  std::optional<http1::RequestParser> req;   // fields in the connection's arena
  std::optional<http1::ResponseParser> res;  // fields in the connection's arena
  std::string out;           // head being written (kept until the response starts, for retries)
  std::string target;        // rewritten request target
  std::string path_scratch;  // normalized path, when it differs from the client's
  std::string_view path;     // the normalized path (into the request or path_scratch)
  std::string_view query;    // "?..." of the client's target, or ""
  std::string_view target_view;  // the target sent upstream (target or the client's)
  std::string replay;        // request body kept for retries (BufferRequestBody)
  std::string sticky_field;  // Set-Cookie or header line pinning the client
  std::string host_scratch;  // lower-cased Host
  std::string trusted_client;  // the client the trusted hops name (trusted peers only)
  std::string_view client_ip;  // the peer's address, or trusted_client
  std::unique_ptr<char[]> staging;  // decoded chunked bodies pass through here
  std::vector<const void*> head_fields;  // a chunked request's head fields (not its trailers)
  upstream::ConnectionPtr up;
  const Endpoint* served = nullptr;  // the endpoint of the request's final try, if one was made
  UpstreamFailure failure;
  std::array<char, 32> request_id{};
  std::string_view request_id_view;

  Clock::time_point started{};
  Clock::time_point request_began{};  // first byte of the request head (coarse)
  Clock::time_point body_began{};     // the head was complete (coarse)
  uint64_t body_received = 0;         // body bytes (decoded, for chunked) read after the head
  uint64_t body_streamed = 0;         // length-delimited body bytes handed to the upstream attempt
  size_t body_piece = 0;  // bytes of the read buffer the last NextBodyPiece() handed out
  unsigned status = 0;
  bool replay_ready = false;  // replay holds the whole body
  bool continue_decided = false;  // whether to send 100 Continue was decided (ExpectsContinue)
  bool client_keep_alive = false;
  bool request_sent = false;
  bool response_started = false;
  bool response_complete = false;
  bool upgrade = false;
  bool head_request = false;
};

// What a kept exchange may hold on to: strings that grew past this (a big body kept for retries,
// a long target or head) go back to the heap with their exchange, so the worker's free list
// holds at most max_pooled x (kKeptStringCapacity x 6 + the 16 KiB staging area).
inline constexpr std::size_t kKeptReplayCapacity = 16384;
inline constexpr std::size_t kKeptStringCapacity = 4096;

inline bool Exchange::Reuse(Exchange& e) {
  e.req.reset();
  e.res.reset();
  e.up.reset();
  e.served = nullptr;
  e.head_fields.clear();
  return e.replay.capacity() <= kKeptReplayCapacity && e.out.capacity() <= kKeptStringCapacity &&
         e.target.capacity() <= kKeptStringCapacity &&
         e.path_scratch.capacity() <= kKeptStringCapacity &&
         e.host_scratch.capacity() <= kKeptStringCapacity &&
         e.sticky_field.capacity() <= kKeptStringCapacity && e.head_fields.capacity() <= 64;
}

}  // namespace hermes::dataplane::proxy
