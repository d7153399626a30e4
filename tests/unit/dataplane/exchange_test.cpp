// Exchange::Reuse: what a connection's per-request state keeps when it goes back to the worker's
// free list, and what makes it too big to keep.
#include "dataplane/proxy/exchange.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "dataplane/server/buffer_pool.h"

namespace hermes::dataplane::proxy {
namespace {

TEST(ExchangeTest, AReusedExchangeHasNoParserConnectionOrHeadFieldsButKeepsItsCapacity) {
  http::Arena arena(1024);
  Exchange e;
  e.req.emplace(std::piecewise_construct, std::make_tuple(),
                std::make_tuple(http1::FieldsAllocator(arena)));
  e.head_fields.push_back(&e);
  e.out.assign(300, 'x');
  ASSERT_TRUE(Exchange::Reuse(e));
  EXPECT_FALSE(e.req.has_value());
  EXPECT_FALSE(e.res.has_value());
  EXPECT_EQ(e.up, nullptr);
  EXPECT_TRUE(e.head_fields.empty());
  EXPECT_GE(e.out.capacity(), 300u) << "the next request writes its head without allocating";
}

TEST(ExchangeTest, AnExchangeThatKeptABigBodyIsNotKept) {
  Exchange e;
  e.replay.assign(kKeptReplayCapacity + 1, 'b');
  EXPECT_FALSE(Exchange::Reuse(e));
}

TEST(ExchangeTest, AnExchangeWithALongHeadOrTargetIsNotKept) {
  for (std::string Exchange::*field : {&Exchange::out, &Exchange::target, &Exchange::path_scratch,
                                       &Exchange::host_scratch, &Exchange::sticky_field}) {
    Exchange e;
    (e.*field).assign(kKeptStringCapacity + 1, 'h');
    EXPECT_FALSE(Exchange::Reuse(e));
  }
}

TEST(ExchangeTest, TheFreeListKeepsAtMostItsLimitOfExchanges) {
  FreeList<Exchange> list(2, &Exchange::Reuse);
  for (int i = 0; i < 5; ++i) list.Give(std::make_unique<Exchange>());
  EXPECT_EQ(list.size(), 2u);
  auto big = std::make_unique<Exchange>();
  big->replay.assign(kKeptReplayCapacity * 2, 'b');
  EXPECT_NE(list.Take(), nullptr);
  list.Give(std::move(big));
  EXPECT_EQ(list.size(), 1u) << "the big one went back to the heap";
}

}  // namespace
}  // namespace hermes::dataplane::proxy
