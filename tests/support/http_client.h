// Blocking client helpers for tests: send raw bytes (malformed requests included) and inspect
// the raw bytes that come back.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hermes::test {

// Connects, writes `bytes` as they are while reading, and returns everything read until the peer
// closes or `timeout` passes (counted from the call). Empty if the connection fails.
std::string RawExchange(const std::string& host, uint16_t port, std::string bytes,
                        std::chrono::milliseconds timeout);

// The status code of the first status line (an interim 1xx counts), or 0 if there is none.
int ParseStatus(const std::string& response);

struct RawResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // in order, as received
  std::string body;                                          // de-chunked

  // The first value of a header (case-insensitive name), or "" if absent.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

// Every complete response in `bytes`, interim ones included, in order; stops at the first that
// does not parse. Responses to HEAD cannot be told apart from bytes alone: not for those.
std::vector<RawResponse> ParseResponses(std::string_view bytes);

// One client connection driven a step at a time, for exchanges RawExchange cannot express:
// waiting for 100 Continue before sending a body, reusing a kept-alive connection, watching for
// the peer to close.
class RawConnection {
 public:
  RawConnection(const std::string& host, uint16_t port,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool connected() const { return socket_.is_open(); }

  bool Send(std::string_view bytes);
  // Everything up to and including the first `delimiter`; what was read past it is kept for the
  // next read. Returns what arrived so far if the timeout passes or the peer closes first.
  std::string ReadUntil(std::string_view delimiter, std::chrono::milliseconds timeout);
  // Everything until the peer closes or the timeout passes.
  std::string ReadToEnd(std::chrono::milliseconds timeout);
  bool peer_closed() const { return peer_closed_; }

 private:
  void Read(std::string_view delimiter);  // empty: until the peer closes
  void RunFor(std::chrono::milliseconds timeout);

  boost::asio::io_context context_;
  boost::asio::ip::tcp::socket socket_{context_};
  std::string pending_;
  bool peer_closed_ = false;
  std::array<char, 16 * 1024> chunk_;
};

}  // namespace hermes::test
