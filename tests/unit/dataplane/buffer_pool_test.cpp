// The per-worker pool of read buffers and field arenas: leases hand items out and back, the free
// lists are bounded, and a buffer that grew for a body is not kept.
#include "dataplane/server/buffer_pool.h"

#include <gtest/gtest.h>

#include <vector>

#include "dataplane/codec/http1/message.h"

namespace hermes::dataplane {
namespace {

BufferPool::Sizes SmallPool(std::size_t max_pooled) {
  BufferPool::Sizes s;
  s.read_buffer = 4096;
  s.max_kept_read_buffer = 8192;
  s.arena = 1024;
  s.max_pooled = max_pooled;
  return s;
}

TEST(BufferPoolTest, AFreshReadBufferIsEmptyWithTheReservedCapacity) {
  BufferPool pool(SmallPool(4));
  BufferPool::ReadBufferLease b = pool.TakeReadBuffer();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size(), 0u);
  EXPECT_GE(b->capacity(), 4096u);
  EXPECT_EQ(pool.pooled_read_buffers(), 0u);
}

TEST(BufferPoolTest, AReturnedReadBufferIsHandedOutAgainCleared) {
  BufferPool pool(SmallPool(4));
  const void* first = nullptr;
  {
    BufferPool::ReadBufferLease b = pool.TakeReadBuffer();
    first = b.get();
    b->commit(boost::asio::buffer_copy(b->prepare(5), boost::asio::buffer("hello", 5)));
    ASSERT_EQ(b->size(), 5u);
  }
  EXPECT_EQ(pool.pooled_read_buffers(), 1u);
  BufferPool::ReadBufferLease again = pool.TakeReadBuffer();
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(again->size(), 0u);
  EXPECT_EQ(pool.pooled_read_buffers(), 0u);
}

TEST(BufferPoolTest, KeepsAtMostMaxPooledSpareItemsOfEachKind) {
  BufferPool pool(SmallPool(2));
  {
    std::vector<BufferPool::ReadBufferLease> buffers;
    std::vector<BufferPool::ArenaLease> arenas;
    for (int i = 0; i < 5; ++i) {
      buffers.push_back(pool.TakeReadBuffer());
      arenas.push_back(pool.TakeArena());
    }
  }
  EXPECT_EQ(pool.pooled_read_buffers(), 2u);
  EXPECT_EQ(pool.pooled_arenas(), 2u);

  // The spares go first, then fresh items come from the heap.
  std::vector<BufferPool::ReadBufferLease> again;
  for (int i = 0; i < 3; ++i) again.push_back(pool.TakeReadBuffer());
  EXPECT_EQ(pool.pooled_read_buffers(), 0u);
  for (const auto& b : again) EXPECT_GE(b->capacity(), 4096u);
}

TEST(BufferPoolTest, AReadBufferThatGrewPastTheKeptCapacityGoesBackToTheHeap) {
  BufferPool pool(SmallPool(4));
  {
    BufferPool::ReadBufferLease b = pool.TakeReadBuffer();
    b->prepare(65536);  // a body read
    ASSERT_GT(b->capacity(), 8192u);
  }
  EXPECT_EQ(pool.pooled_read_buffers(), 0u);
  {
    BufferPool::ReadBufferLease b = pool.TakeReadBuffer();
    b->prepare(8192 - 100);
  }
  EXPECT_EQ(pool.pooled_read_buffers(), 1u);
}

TEST(BufferPoolTest, AnArenaComesBackEmptyOnceTheFieldsUsingItAreGone) {
  BufferPool pool(SmallPool(4));
  void* first_node = nullptr;
  {
    BufferPool::ArenaLease arena = pool.TakeArena();
    http1::RequestParser parser(std::piecewise_construct, std::make_tuple(),
                               std::make_tuple(http1::FieldsAllocator(*arena)));
    boost::beast::error_code ec;
    std::string_view head = "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\r\n";
    parser.put(boost::asio::buffer(head.data(), head.size()), ec);
    ASSERT_FALSE(ec);
    ASSERT_TRUE(parser.is_header_done());
    first_node = arena->Allocate(8, 8);
    arena->Deallocate(first_node, 8, 8);
  }  // the parser goes first (declared last), then the lease returns the arena
  ASSERT_EQ(pool.pooled_arenas(), 1u);
  BufferPool::ArenaLease again = pool.TakeArena();
  // Nothing is left allocated from the block: a new message starts at its beginning.
  void* p = again->Allocate(8, 8);
  EXPECT_LT(p, first_node);
  again->Deallocate(p, 8, 8);
}

TEST(BufferPoolTest, AMovedLeaseReturnsItsItemOnce) {
  BufferPool pool(SmallPool(4));
  {
    BufferPool::ReadBufferLease a = pool.TakeReadBuffer();
    BufferPool::ReadBufferLease b = std::move(a);
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): a moved-from lease is empty
    EXPECT_TRUE(b);
    BufferPool::ReadBufferLease c;
    c = std::move(b);
    EXPECT_TRUE(c);
  }
  EXPECT_EQ(pool.pooled_read_buffers(), 1u);
}

TEST(BufferPoolTest, ReleaseGivesTheItemBackBeforeTheLeaseEnds) {
  BufferPool pool(SmallPool(4));
  BufferPool::ArenaLease a = pool.TakeArena();
  a.Release();
  EXPECT_FALSE(a);
  EXPECT_EQ(pool.pooled_arenas(), 1u);
  a.Release();  // an empty lease gives nothing back
  EXPECT_EQ(pool.pooled_arenas(), 1u);
}

TEST(BufferPoolTest, AssigningOverAHeldLeaseReturnsTheOldItem) {
  BufferPool pool(SmallPool(4));
  BufferPool::ReadBufferLease a = pool.TakeReadBuffer();
  a = pool.TakeReadBuffer();
  EXPECT_EQ(pool.pooled_read_buffers(), 1u);
}

}  // namespace
}  // namespace hermes::dataplane
