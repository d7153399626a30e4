// The memory a client connection needs only while it has bytes to work on: its read buffer and
// the arena its header fields live in. A connection waiting for its next request holds neither:
// it leases them from its worker's pool when bytes arrive and the lease gives them back when the
// exchange ends with nothing buffered. One pool per worker thread, so no locks. Each free list
// keeps at most `max_pooled` items (the rest go back to the heap), so a burst of connections
// leaves a bounded amount of memory behind.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "dataplane/http/arena_allocator.h"

namespace hermes::dataplane {

// A bounded stack of spare items. Single-threaded. `reuse` readies a returned item for its next
// user (clears it) and says whether it is worth keeping at all.
template <class T>
class FreeList {
 public:
  using ReuseFn = std::function<bool(T&)>;

  FreeList(std::size_t max_pooled, ReuseFn reuse)
      : max_pooled_(max_pooled), reuse_(std::move(reuse)) {
    items_.reserve(max_pooled);
  }

  // A spare item, or nullptr when there is none.
  std::unique_ptr<T> Take() {
    if (items_.empty()) return nullptr;
    std::unique_ptr<T> item = std::move(items_.back());
    items_.pop_back();
    return item;
  }
  // Keeps `item` for the next Take, or frees it when the list is full or reuse refuses it.
  void Give(std::unique_ptr<T> item) {
    if (items_.size() < max_pooled_ && reuse_(*item)) items_.push_back(std::move(item));
  }
  std::size_t size() const { return items_.size(); }

 private:
  std::size_t max_pooled_;
  ReuseFn reuse_;
  std::vector<std::unique_ptr<T>> items_;
};

// An item of a FreeList for as long as the lease lives; the item goes back to the list (which
// may free it instead) when the lease ends. The list must outlive the lease. An empty lease
// (default-constructed, moved from or released) holds nothing.
template <class T>
class Lease {
 public:
  Lease() = default;
  Lease(std::unique_ptr<T> item, FreeList<T>& list) : item_(std::move(item)), list_(&list) {}
  Lease(Lease&& other) noexcept : item_(std::move(other.item_)), list_(other.list_) {}
  Lease& operator=(Lease&& other) noexcept {
    if (this != &other) {
      Release();
      item_ = std::move(other.item_);
      list_ = other.list_;
    }
    return *this;
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  ~Lease() { Release(); }

  // Gives the item back now; the lease is empty afterwards.
  void Release() {
    if (item_) list_->Give(std::move(item_));
  }

  explicit operator bool() const { return item_ != nullptr; }
  T& operator*() const { return *item_; }
  T* operator->() const { return item_.get(); }
  T* get() const { return item_.get(); }

 private:
  std::unique_ptr<T> item_;
  FreeList<T>* list_ = nullptr;
};

class BufferPool {
 public:
  struct Sizes {
    std::size_t read_buffer = 4096;  // reserved in a fresh read buffer
    // A read buffer that grew past this (a body was read through it) goes back to the heap
    // instead of the pool, so the pool's memory stays max_pooled × this at most.
    std::size_t max_kept_read_buffer = 65536 + 4096;
    std::size_t arena = 2048;      // the block of a fresh arena
    std::size_t max_pooled = 256;  // spare read buffers kept, and spare arenas kept
  };

  using ReadBuffer = boost::beast::flat_buffer;
  using ReadBufferLease = Lease<ReadBuffer>;
  using ArenaLease = Lease<http::Arena>;

  BufferPool() : BufferPool(Sizes{}) {}
  explicit BufferPool(const Sizes& sizes);
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // An empty buffer with at least sizes.read_buffer bytes of capacity. It is returned to the pool
  // cleared: whoever ends the lease must have consumed (or given up on) its bytes.
  ReadBufferLease TakeReadBuffer();
  // An arena with nothing allocated from it. Every object using the arena (parsers, fields) must
  // be destroyed before the lease ends.
  ArenaLease TakeArena();

  std::size_t pooled_read_buffers() const { return read_buffers_.size(); }
  std::size_t pooled_arenas() const { return arenas_.size(); }

 private:
  Sizes sizes_;
  FreeList<ReadBuffer> read_buffers_;
  FreeList<http::Arena> arenas_;
};

}  // namespace hermes::dataplane
