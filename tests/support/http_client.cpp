// RawExchange on a private io_context, and response parsing with Beast's parser.
#include "tests/support/http_client.h"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <limits>

namespace hermes::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

// Reading and writing run at once, so a server that answers before the whole request is sent
// (or streams a large response) cannot deadlock the exchange.
class Exchange {
 public:
  Exchange(std::string bytes) : bytes_(std::move(bytes)) {}

  std::string Run(const std::string& host, uint16_t port, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    error_code ec;
    const auto endpoints = resolver_.resolve(host, std::to_string(port), ec);
    if (ec) return {};
    asio::async_connect(socket_, endpoints,
                        [this](error_code ec, const tcp::endpoint&) { OnConnect(ec); });
    context_.run_until(deadline);
    // Timed out or done: closing aborts whatever is pending, and run() collects those handlers.
    socket_.close(ec);
    context_.restart();
    context_.run();
    return std::move(received_);
  }

 private:
  void OnConnect(error_code ec) {
    if (ec) return;
    asio::async_write(socket_, asio::buffer(bytes_), [](error_code, std::size_t) {});
    Read();
  }

  void Read() {
    socket_.async_read_some(asio::buffer(chunk_),
                            [this](error_code ec, std::size_t size) { OnRead(ec, size); });
  }

  void OnRead(error_code ec, std::size_t size) {
    received_.append(chunk_.data(), size);
    if (!ec) Read();
  }

  asio::io_context context_;
  tcp::resolver resolver_{context_};
  tcp::socket socket_{context_};
  std::string bytes_;
  std::string received_;
  std::array<char, 64 * 1024> chunk_;
};

}  // namespace

std::string RawExchange(const std::string& host, uint16_t port, std::string bytes,
                        std::chrono::milliseconds timeout) {
  return Exchange(std::move(bytes)).Run(host, port, timeout);
}

int ParseStatus(const std::string& response) {
  // "HTTP/1.1 200 ..." : the code is the three digits after the version and a space.
  if (response.size() < 12 || !response.starts_with("HTTP/") || response[8] != ' ') return 0;
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (response[i] < '0' || response[i] > '9') return 0;
    status = status * 10 + (response[i] - '0');
  }
  return status;
}

RawConnection::RawConnection(const std::string& host, uint16_t port,
                             std::chrono::milliseconds timeout) {
  error_code ec;
  const auto endpoints = tcp::resolver(context_).resolve(host, std::to_string(port), ec);
  if (ec) return;
  asio::async_connect(socket_, endpoints, [this](error_code ec, const tcp::endpoint&) {
    if (ec) socket_.close(ec);
  });
  RunFor(timeout);
}

bool RawConnection::Send(std::string_view bytes) {
  error_code ec;
  asio::write(socket_, asio::buffer(bytes.data(), bytes.size()), ec);
  return !ec;
}

std::string RawConnection::ReadUntil(std::string_view delimiter,
                                     std::chrono::milliseconds timeout) {
  if (pending_.find(delimiter) == std::string::npos) {
    Read(delimiter);
    RunFor(timeout);
  }
  const auto found = pending_.find(delimiter);
  const std::size_t size = found == std::string::npos ? pending_.size() : found + delimiter.size();
  std::string head = pending_.substr(0, size);
  pending_.erase(0, size);
  return head;
}

std::string RawConnection::ReadToEnd(std::chrono::milliseconds timeout) {
  Read({});
  RunFor(timeout);
  return std::exchange(pending_, {});
}

void RawConnection::Read(std::string_view delimiter) {
  socket_.async_read_some(asio::buffer(chunk_), [this, delimiter](error_code ec, std::size_t size) {
    pending_.append(chunk_.data(), size);
    if (ec) {
      peer_closed_ = ec == asio::error::eof;
      return;
    }
    if (delimiter.empty() || pending_.find(delimiter) == std::string::npos) Read(delimiter);
  });
}

// An operation still pending at the timeout is cancelled, keeping the data it read so far.
void RawConnection::RunFor(std::chrono::milliseconds timeout) {
  context_.restart();
  context_.run_for(timeout);
  if (!context_.stopped()) {
    error_code ignored;
    socket_.cancel(ignored);
    context_.restart();
    context_.run();
  }
}

std::string RawResponse::Header(std::string_view name) const {
  for (const auto& [field, value] : headers) {
    if (beast::iequals(field, name)) return value;
  }
  return {};
}

bool RawResponse::HasHeader(std::string_view name) const {
  for (const auto& header : headers) {
    if (beast::iequals(header.first, name)) return true;
  }
  return false;
}

std::vector<RawResponse> ParseResponses(std::string_view bytes) {
  std::vector<RawResponse> responses;
  while (!bytes.empty()) {
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    parser.body_limit(std::numeric_limits<uint64_t>::max());
    error_code ec;
    while (!parser.is_done()) {
      if (bytes.empty()) {
        // A body delimited by the connection closing ends here (RFC 9112 section 6.3).
        parser.put_eof(ec);
        if (ec) return responses;
        continue;
      }
      const std::size_t used = parser.put(asio::buffer(bytes.data(), bytes.size()), ec);
      bytes.remove_prefix(used);
      if ((ec && ec != http::error::need_more) || used == 0) return responses;
    }
    const auto& message = parser.get();
    RawResponse response;
    response.status = static_cast<int>(message.result_int());
    for (const auto& field : message) {
      response.headers.emplace_back(field.name_string(), field.value());
    }
    response.body = message.body();
    responses.push_back(std::move(response));
  }
  return responses;
}

}  // namespace hermes::test
