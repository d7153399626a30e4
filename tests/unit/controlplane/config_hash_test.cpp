// The content identity of configs: deterministic bytes and their SHA-256.
#include "controlplane/store/config_hash.h"

#include <gtest/gtest.h>

#include "store_fixture.h"

namespace hermes::controlplane {
namespace {

TEST(ConfigHashTest, Sha256HexMatchesTheKnownDigests) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ConfigHashTest, EqualConfigsSerializeToEqualBytes) {
  EXPECT_EQ(SerializeDeterministic(SampleConfig("a")), SerializeDeterministic(SampleConfig("a")));
}

TEST(ConfigHashTest, DifferentConfigsHaveDifferentHashes) {
  EXPECT_NE(Sha256Hex(SerializeDeterministic(SampleConfig("a"))),
            Sha256Hex(SerializeDeterministic(SampleConfig("b"))));
}

TEST(ConfigHashTest, SerializationParsesBackToTheSameConfig) {
  v1::Config parsed;
  ASSERT_TRUE(parsed.ParseFromString(SerializeDeterministic(SampleConfig("a"))));
  EXPECT_EQ(parsed.SerializeAsString(), SampleConfig("a").SerializeAsString());
}

}  // namespace
}  // namespace hermes::controlplane
