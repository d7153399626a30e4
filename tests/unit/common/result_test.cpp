// hermes::Result: a value or an error, and what a caller may ask of each.
#include "hermes/common/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace hermes {
namespace {

Result<int> Half(int n) {
  if (n % 2) return Failure("odd number " + std::to_string(n));
  return n / 2;
}

TEST(ResultTest, AValueIsOkAndReadable) {
  const Result<int> r = Half(4);
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(static_cast<bool>(r));
  EXPECT_EQ(r.value(), 2);
  EXPECT_EQ(*r, 2);
}

TEST(ResultTest, AFailureCarriesItsMessage) {
  const Result<int> r = Half(3);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "odd number 3");
}

TEST(ResultTest, AStringValueAndAStringErrorAreToldApart) {
  const Result<std::string> value = std::string("token");
  const Result<std::string> error = Failure("token file t is empty");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "token");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.error(), "token file t is empty");
}

TEST(ResultTest, AMoveOnlyValueIsMovedOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
}

struct Kinded {
  int kind = 0;
  std::string message;
};

TEST(ResultTest, TheErrorTypeMayCarryMoreThanAMessage) {
  const Result<int, Kinded> r = Failure(Kinded{404, "no such version"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, 404);
}

TEST(ResultTest, VoidResultsAreOkByDefaultOrAFailure) {
  const Result<void> fine;
  const Result<void> failed = Failure("cannot write");
  EXPECT_TRUE(fine.ok());
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error(), "cannot write");
}

}  // namespace
}  // namespace hermes
