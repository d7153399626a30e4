// The hand-built JSON of -o json: exact text, key order as built.
#include <gtest/gtest.h>

#include <limits>

#include "ctl/json.h"

namespace hermes::ctl {
namespace {

TEST(JsonTest, ScalarsAndNull) {
  EXPECT_EQ(Json().Dump(), "null\n");
  EXPECT_EQ(Json(true).Dump(), "true\n");
  EXPECT_EQ(Json(int64_t{-3}).Dump(), "-3\n");
  EXPECT_EQ(Json(uint64_t{18446744073709551615u}).Dump(), "18446744073709551615\n");
  EXPECT_EQ(Json("a\"b\n").Dump(), "\"a\\\"b\\n\"\n");
}

TEST(JsonTest, EmptyContainersStayOnOneLine) {
  EXPECT_EQ(Json::MakeArray().Dump(), "[]\n");
  EXPECT_EQ(Json::MakeObject().Dump(), "{}\n");
}

TEST(JsonTest, ObjectsKeepInsertionOrderAndIndentByTwo) {
  Json inner = Json::MakeArray();
  inner.Push(Json(uint64_t{1})).Push(Json("x"));
  Json j = Json::MakeObject();
  j.Set("zeta", Json(false)).Set("alpha", std::move(inner)).Set("empty", Json::MakeObject());
  EXPECT_EQ(j.Dump(), R"({
  "zeta": false,
  "alpha": [
    1,
    "x"
  ],
  "empty": {}
}
)");
}

TEST(JsonTest, FixedNumbersKeepTheirDecimals) {
  EXPECT_EQ(Json::Fixed(20, 3).Dump(), "20.000\n");
  EXPECT_EQ(Json::Fixed(0.0125, 4).Dump(), "0.0125\n");
  EXPECT_EQ(Json::Fixed(16.66666, 3).Dump(), "16.667\n");
  EXPECT_EQ(Json::Fixed(-0.00001, 3).Dump(), "0.000\n");
}

TEST(JsonTest, NonFiniteFixedNumbersAreNull) {
  EXPECT_EQ(Json::Fixed(std::numeric_limits<double>::quiet_NaN(), 3).Dump(), "null\n");
  EXPECT_EQ(Json::Fixed(std::numeric_limits<double>::infinity(), 3).Dump(), "null\n");
  EXPECT_EQ(Json::Fixed(-std::numeric_limits<double>::infinity(), 3).Dump(), "null\n");
}

}  // namespace
}  // namespace hermes::ctl
