// One HTTP/1.1 connection to the test upstream: reads a request head, answers 100-continue,
// counts the body, then writes the behaviour the path selects. Requests are handled one at a
// time from one buffer, so pipelined requests are answered in order.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "tests/support/counting_body.h"
#include "tests/support/upstream_connection.h"
#include "tests/support/upstream_route.h"

namespace hermes::test {

class HttpSession : public UpstreamConnection, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket socket, UpstreamWorker& worker);
  void Start();
  void Close() override;

 private:
  using error_code = boost::system::error_code;

  void ReadHead();
  void OnHead(error_code ec, std::size_t);
  void OnContinueSent(error_code ec, std::size_t);
  void ReadBody();
  void OnBody(error_code ec, std::size_t);
  void RejectBadRequest();

  void Respond();
  void RespondFixed(unsigned status, std::string_view body,
                    std::string_view content_type = "text/plain",
                    std::string_view extra_lines = {});
  void AppendFixed(unsigned status, std::string_view body,
                   std::string_view content_type = "text/plain", std::string_view extra_lines = {});
  void RespondEcho();
  void RespondRaw(std::string_view head, std::string_view body);
  void RespondAfterDelay(std::chrono::milliseconds delay);
  void OnDelayElapsed(error_code ec);
  void RespondStream(uint64_t bytes, bool chunked);
  void WriteNextPiece(error_code ec, std::size_t);
  void UpgradeToWebSocket();

  void WriteOut();
  void OnResponseWritten(error_code ec, std::size_t);
  void DrainThenClose();
  void OnDrainDeadline(error_code);
  void OnDrained(error_code ec, std::size_t);

  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<CountingBody>> parser_;
  std::string out_;  // the response head (and small body) being written; capacity is reused

  Route route_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_only_ = false;
  uint64_t stream_remaining_ = 0;
  bool stream_chunked_ = false;
  bool stream_finished_ = false;
  std::array<char, 24> chunk_size_line_{};
};

}  // namespace hermes::test
