// A Beast body type that counts request body bytes and keeps none, so a 1 GiB upload costs no
// memory.
#pragma once

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstddef>
#include <cstdint>

namespace hermes::test {

struct CountingBody {
  using value_type = uint64_t;

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(boost::beast::http::header<isRequest, Fields>&, value_type& count) : count_(count) {}

    void init(const boost::optional<uint64_t>&, boost::beast::error_code& ec) {
      count_ = 0;
      ec = {};
    }

    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, boost::beast::error_code& ec) {
      ec = {};
      const std::size_t size = boost::beast::buffer_bytes(buffers);
      count_ += size;
      return size;
    }

    void finish(boost::beast::error_code& ec) { ec = {}; }

   private:
    value_type& count_;
  };
};

}  // namespace hermes::test
