// Writing a whole buffer sequence from a coroutine. asio::async_write's composed operation keeps a
// work-tracking executor per operation (atomic counter updates on every completion, measured at
// ~2% of the proxy's CPU); a loop over async_write_some does not, and one call nearly always
// writes everything.
#pragma once

#include <tuple>

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_suffix.hpp>

#include "dataplane/asio.h"

namespace hermes::dataplane {

template <class ConstBufferSequence>
Task<std::tuple<boost::system::error_code, size_t>> WriteAll(Socket& socket,
                                                             const ConstBufferSequence& buffers) {
  const size_t total = asio::buffer_size(buffers);
  size_t written = 0;
  boost::beast::buffers_suffix<ConstBufferSequence> rest(buffers);
  while (written < total) {
    auto [ec, n] = co_await socket.async_write_some(rest, kNoThrow);
    written += n;
    if (ec) co_return std::tuple{ec, written};
    rest.consume(n);
  }
  co_return std::tuple{boost::system::error_code{}, written};
}

}  // namespace hermes::dataplane
