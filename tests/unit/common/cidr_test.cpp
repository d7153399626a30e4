// ParseCidr and CidrSet: the networks trusted_proxies (and the IP ACLs to come) are written in.
#include "hermes/common/cidr.h"

#include <gtest/gtest.h>

namespace hermes {
namespace {

namespace ip = boost::asio::ip;

bool In(const char* net, const char* address) {
  auto cidr = ParseCidr(net);
  EXPECT_TRUE(cidr) << net;
  return cidr && cidr->Contains(ip::make_address(address));
}

TEST(CidrTest, MatchesIpv4Networks) {
  EXPECT_TRUE(In("10.0.0.0/8", "10.255.1.2"));
  EXPECT_FALSE(In("10.0.0.0/8", "11.0.0.1"));
  EXPECT_TRUE(In("192.168.1.0/25", "192.168.1.127"));
  EXPECT_FALSE(In("192.168.1.0/25", "192.168.1.128"));
  EXPECT_TRUE(In("0.0.0.0/0", "203.0.113.1"));
  EXPECT_TRUE(In("127.0.0.1", "127.0.0.1"));
  EXPECT_FALSE(In("127.0.0.1", "127.0.0.2"));
}

TEST(CidrTest, MatchesIpv6NetworksAndMappedIpv4) {
  EXPECT_TRUE(In("2001:db8::/32", "2001:db8:1::5"));
  EXPECT_FALSE(In("2001:db8::/32", "2001:db9::1"));
  EXPECT_TRUE(In("::1/128", "::1"));
  EXPECT_TRUE(In("127.0.0.0/8", "::ffff:127.0.0.1"));
  EXPECT_FALSE(In("::1/128", "127.0.0.1"));
}

TEST(CidrTest, MappedNetworksAreTheirIpv4Networks) {
  EXPECT_TRUE(In("::ffff:10.0.0.0/104", "10.1.2.3"));
  EXPECT_TRUE(In("::ffff:10.0.0.0/104", "::ffff:10.1.2.3"));
  EXPECT_FALSE(In("::ffff:10.0.0.0/104", "11.0.0.1"));
  EXPECT_TRUE(In("::ffff:127.0.0.1", "127.0.0.1"));
  std::string why;
  EXPECT_FALSE(ParseCidr("::ffff:0.0.0.0/80", &why));
}

TEST(CidrTest, RefusesWhatIsNotANetwork) {
  std::string why;
  EXPECT_FALSE(ParseCidr("10.0.0.0/33", &why));
  EXPECT_EQ(why, "prefix length 33 is over 32");
  EXPECT_FALSE(ParseCidr("10.1.2.3/8", &why));
  EXPECT_EQ(why, "\"10.1.2.3/8\" has host bits set (the network is 10.0.0.0/8)");
  EXPECT_FALSE(ParseCidr("example.com", &why));
  EXPECT_FALSE(ParseCidr("10.0.0.0/", &why));
  EXPECT_FALSE(ParseCidr("10.0.0.0/x", &why));
  EXPECT_FALSE(ParseCidr("", &why));
}

TEST(CidrSetTest, ContainsWhatAnyNetworkContains) {
  CidrSet set({*ParseCidr("10.0.0.0/8"), *ParseCidr("::1")});
  EXPECT_TRUE(set.Contains(ip::make_address("10.2.3.4")));
  EXPECT_TRUE(set.Contains(ip::make_address("::1")));
  EXPECT_FALSE(set.Contains(ip::make_address("192.0.2.1")));
  EXPECT_TRUE(CidrSet().empty());
}

}  // namespace
}  // namespace hermes
