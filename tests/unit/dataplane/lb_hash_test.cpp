#include <gtest/gtest.h>

#include "dataplane/lb/hash.h"

namespace hermes::dataplane::lb {
namespace {

// Reference values of XXH64 (xxhash's own test vectors and python-xxhash's README).
TEST(Hash64Test, MatchesReferenceXxHash64) {
  EXPECT_EQ(Hash64(""), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(Hash64("a"), 0xD24EC4F1A98C6E5BULL);
  EXPECT_EQ(Hash64("abc"), 0x44BC2CF5AD770999ULL);
  EXPECT_EQ(Hash64("Nobody inspects the spammish repetition"), 0xFBCEA83C8A378BF1ULL);
}

TEST(Hash64Test, SeedChangesTheHash) {
  EXPECT_NE(Hash64("10.0.0.1:80", 0), Hash64("10.0.0.1:80", 1));
  EXPECT_EQ(Hash64("10.0.0.1:80", 7), Hash64("10.0.0.1:80", 7));
}

TEST(Hash64Test, EveryInputLengthHashesDifferently) {
  // Lengths 0..64 cover the 32-byte stripes, the 8- and 4-byte tails and single bytes.
  std::string data;
  std::vector<uint64_t> seen;
  for (int n = 0; n <= 64; ++n) {
    const uint64_t h = Hash64(data);
    EXPECT_EQ(std::count(seen.begin(), seen.end(), h), 0) << "length " << n;
    seen.push_back(h);
    data.push_back(static_cast<char>('a' + n % 26));
  }
}

// Ring points, maglev tables and hash keys of running fleets were computed with Hermes' own
// XXH64 before it moved to libxxhash: every length (stripes, 8- and 4-byte tails, single bytes)
// and seed must hash as before, or keys would move to other endpoints on upgrade.
TEST(Hash64Test, HashesAsTheEarlierOwnImplementation) {
  std::string data;
  uint64_t fold = 0;
  for (int n = 0; n <= 300; ++n) {
    fold = fold * 0x100000001B3ULL ^ Hash64(data, n);
    data.push_back(static_cast<char>(n * 7 + 3));
  }
  EXPECT_EQ(fold, 0x45D765B2B2C04FC9ULL);
}

}  // namespace
}  // namespace hermes::dataplane::lb
