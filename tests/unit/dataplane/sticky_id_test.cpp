// Sticky-session endpoint ids: a keyed HMAC of cluster and address, computed when a snapshot
// compiles, keyed with the config's sticky_secret or, without one, with a random key of the
// process run (lb/sticky_id.h, EndpointStateRegistry::run_sticky_secret).
#include "dataplane/lb/sticky_id.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "dataplane/lb/hash.h"
#include "dataplane/config/snapshot.h"
#include "dataplane/stats/stats.h"
#include "hermes/common/config.h"

namespace hermes::dataplane {
namespace {

constexpr std::string_view kSecret = "a fleet secret of more than 16 bytes";

// What Hermes computed before ids were keyed: xxHash64 of "cluster\naddress" under a seed that
// was a constant of the source, so anyone could reverse a cookie by trying addresses.
uint64_t ConstantSeedId(const std::string& cluster, const std::string& address) {
  return lb::Hash64(cluster + "\n" + address, 0x6865726d65737374ULL);
}

// HMAC-SHA256 computed in one shot by OpenSSL, for comparison with StickyIds' re-used context.
uint64_t OneShotHmac(std::string_view secret, std::string_view cluster, std::string_view address) {
  std::string message(8, '\0');
  for (size_t i = 0; i < 8; ++i)
    message[i] = static_cast<char>(static_cast<uint64_t>(cluster.size()) >> (56 - 8 * i));
  message.append(cluster).append(address);
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac.data(), &size);
  uint64_t id = 0;
  for (size_t i = 0; i < 8; ++i) id = (id << 8) | mac[i];
  return id;
}

// A cluster "web" over `n` endpoints 10.0.x.y:8080, optionally keyed with `secret`.
v1::Config WebCluster(int n, std::string_view secret = "") {
  std::string yaml = "clusters:\n  - name: web\n    endpoints:\n";
  for (int i = 0; i < n; ++i)
    yaml += "      - { address: \"10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256) +
            ":8080\" }\n";
  yaml += "routes:\n  - { name: all, cluster: web }\n";
  auto loaded = config::LoadConfigString(yaml);
  for (const auto& e : loaded.errors) ADD_FAILURE() << e.ToString();
  loaded.config.set_sticky_secret(std::string(secret));
  return loaded.config;
}

std::vector<uint64_t> Ids(const SnapshotPtr& snapshot) {
  std::vector<uint64_t> ids;
  for (const auto& ep : snapshot->clusters.at(0)->endpoints) ids.push_back(ep.sticky_id);
  return ids;
}

class StickyIdTest : public ::testing::Test {
 protected:
  SnapshotPtr Compile(const v1::Config& config, EndpointStateRegistry& registry) {
    return CompileSnapshot(config, ResolvedHosts{}, ++generation_, stats_, registry);
  }

  StatsStore stats_{1};
  uint64_t generation_ = 0;
};

TEST(StickyIdsTest, AnIdIsTheFirst64BitsOfHmacSha256OfTheLengthPrefixedClusterAndAddress) {
  lb::StickyIds ids(kSecret);
  // Several in a row: each id starts from the keyed state, not from the previous message.
  for (const char* address : {"10.0.0.1:80", "10.0.0.2:80", "backend.internal:8443"})
    EXPECT_EQ(ids.Id("web", address), OneShotHmac(kSecret, "web", address)) << address;
}

TEST(StickyIdsTest, TheClusterAddressBoundaryIsPartOfTheMessage) {
  lb::StickyIds ids(kSecret);
  EXPECT_NE(ids.Id("web", "1.2.3.4:80"), ids.Id("web1", ".2.3.4:80"));
  EXPECT_NE(ids.Id("web", "10.0.0.1:80"), ids.Id("api", "10.0.0.1:80"));
}

TEST(StickyIdsTest, DifferentSecretsGiveDifferentIds) {
  lb::StickyIds one(kSecret);
  lb::StickyIds other("another secret, also long enough");
  EXPECT_NE(one.Id("web", "10.0.0.1:8080"), other.Id("web", "10.0.0.1:8080"));
}

TEST(StickyIdsTest, EveryAddressOfASlash16GetsItsOwnId) {
  lb::StickyIds ids(kSecret);
  std::set<uint64_t> seen;
  for (int i = 0; i < 65536; ++i)
    seen.insert(
        ids.Id("web", "10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ":8080"));
  EXPECT_EQ(seen.size(), 65536u);
}

TEST(StickyIdsTest, RandomSecretsAre32BytesAndDiffer) {
  const std::string a = lb::RandomStickySecret(), b = lb::RandomStickySecret();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
}

TEST_F(StickyIdTest, TheSameSecretGivesTheSameIdsAcrossCompilesAndRegistries) {
  EndpointStateRegistry one, other;  // two proxies of a fleet
  const v1::Config config = WebCluster(8, kSecret);
  const auto first = Ids(Compile(config, one));
  EXPECT_EQ(Ids(Compile(config, one)), first);
  EXPECT_EQ(Ids(Compile(config, other)), first);
  lb::StickyIds ids(kSecret);
  EXPECT_EQ(first.at(3), ids.Id("web", "10.0.0.3:8080"));
}

TEST_F(StickyIdTest, DifferentSecretsInTheConfigGiveDifferentIds) {
  EndpointStateRegistry registry;
  const auto one = Ids(Compile(WebCluster(8, kSecret), registry));
  const auto other = Ids(Compile(WebCluster(8, "another secret, also long enough"), registry));
  for (size_t i = 0; i < one.size(); ++i) EXPECT_NE(one[i], other[i]) << i;
}

TEST_F(StickyIdTest, WithoutASecretEachRegistryHasItsOwnKeyKeptAcrossCompiles) {
  EndpointStateRegistry one, other;  // two processes (or Servers) without sticky_secret
  const v1::Config config = WebCluster(8);
  const auto first = Ids(Compile(config, one));
  EXPECT_EQ(Ids(Compile(config, one)), first) << "a reload keeps every client pinned";
  const auto elsewhere = Ids(Compile(config, other));
  for (size_t i = 0; i < first.size(); ++i) EXPECT_NE(first[i], elsewhere[i]) << i;
  lb::StickyIds run_key(one.run_sticky_secret());
  EXPECT_EQ(first.at(0), run_key.Id("web", "10.0.0.0:8080"));
}

TEST_F(StickyIdTest, AnIdIsNeverTheConstantSeedHashOfItsAddress) {
  EndpointStateRegistry registry;
  for (const v1::Config& config : {WebCluster(64, kSecret), WebCluster(64)}) {
    auto snapshot = Compile(config, registry);
    for (const auto& ep : snapshot->clusters.at(0)->endpoints)
      EXPECT_NE(ep.sticky_id, ConstantSeedId("web", ep.address)) << ep.address;
  }
}

TEST_F(StickyIdTest, NoTwoEndpointsOfALargeClusterShareAnId) {
  EndpointStateRegistry registry;
  const auto ids = Ids(Compile(WebCluster(4096, kSecret), registry));
  EXPECT_EQ(std::set<uint64_t>(ids.begin(), ids.end()).size(), ids.size());
}

}  // namespace
}  // namespace hermes::dataplane
