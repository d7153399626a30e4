// A per-connection bump allocator for Beast's header fields. basic_fields allocates one node per
// field; with std::allocator that is ~10 heap allocations per request. The arena hands out memory
// from a block owned by the connection and forgets it all when the next message starts (Beast's
// "fast" server example does the same with a fixed pool). When the block is full it falls back to
// the heap, so a request with huge headers still works.
#pragma once

#include <cstddef>
#include <memory>
#include <new>

namespace hermes::dataplane::http {

class Arena {
 public:
  explicit Arena(std::size_t size) : block_(new std::byte[size]), size_(size) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  void* Allocate(std::size_t n, std::size_t align) {
    std::size_t start = (used_ + align - 1) & ~(align - 1);
    if (start + n <= size_) {
      used_ = start + n;
      ++live_;
      return block_.get() + start;
    }
    return ::operator new(n, std::align_val_t{align});
  }

  void Deallocate(void* p, std::size_t /*n*/, std::size_t align) {
    auto* b = static_cast<std::byte*>(p);
    if (b >= block_.get() && b < block_.get() + size_) {
      // Memory is reclaimed as a whole once every node of the message has been released.
      if (--live_ == 0) used_ = 0;
      return;
    }
    ::operator delete(p, std::align_val_t{align});
  }

 private:
  std::unique_ptr<std::byte[]> block_;
  std::size_t size_;
  std::size_t used_ = 0;
  std::size_t live_ = 0;
};

template <class T>
class ArenaAllocator {
 public:
  using value_type = T;
  explicit ArenaAllocator(Arena& arena) noexcept : arena_(&arena) {}
  template <class U>
  ArenaAllocator(const ArenaAllocator<U>& other) noexcept : arena_(other.arena()) {}

  T* allocate(std::size_t n) {
    return static_cast<T*>(arena_->Allocate(n * sizeof(T), alignof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept { arena_->Deallocate(p, n * sizeof(T), alignof(T)); }

  Arena* arena() const noexcept { return arena_; }
  template <class U>
  bool operator==(const ArenaAllocator<U>& other) const noexcept {
    return arena_ == other.arena();
  }

 private:
  Arena* arena_;
};

}  // namespace hermes::dataplane::http
