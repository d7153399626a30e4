#include "dataplane/server/buffer_pool.h"

namespace hermes::dataplane {

BufferPool::BufferPool(const Sizes& sizes)
    : sizes_(sizes),
      read_buffers_(sizes.max_pooled,
                    [max = sizes.max_kept_read_buffer](ReadBuffer& b) {
                      b.clear();
                      return b.capacity() <= max;
                    }),
      // An arena reclaims its block by itself once its last node is freed (TakeArena's contract).
      arenas_(sizes.max_pooled, [](http::Arena&) { return true; }) {}

BufferPool::ReadBufferLease BufferPool::TakeReadBuffer() {
  std::unique_ptr<ReadBuffer> b = read_buffers_.Take();
  if (!b) {
    b = std::make_unique<ReadBuffer>();
    b->reserve(sizes_.read_buffer);
  }
  return {std::move(b), read_buffers_};
}

BufferPool::ArenaLease BufferPool::TakeArena() {
  std::unique_ptr<http::Arena> a = arenas_.Take();
  if (!a) a = std::make_unique<http::Arena>(sizes_.arena);
  return {std::move(a), arenas_};
}

}  // namespace hermes::dataplane
