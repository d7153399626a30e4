// "host:port" parsing for listener, admin and endpoint addresses.
#include "hermes/common/address.h"

#include <gtest/gtest.h>

namespace hermes {
namespace {

std::string ErrorFor(std::string_view text) {
  std::string error;
  EXPECT_EQ(ParseHostPort(text, &error), std::nullopt) << text;
  return error;
}

TEST(ParseHostPortTest, ReadsHostAndPort) {
  std::optional<HostPort> parsed = ParseHostPort("localhost:9001");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->host, "localhost");
  EXPECT_EQ(parsed->port, 9001);
}

TEST(ParseHostPortTest, ReadsIpv4Host) {
  std::optional<HostPort> parsed = ParseHostPort("127.0.0.1:0");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->host, "127.0.0.1");
  EXPECT_EQ(parsed->port, 0);
}

TEST(ParseHostPortTest, ReadsPortAloneAsAllInterfaces) {
  std::optional<HostPort> parsed = ParseHostPort(":8080");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->host, "");
  EXPECT_EQ(parsed->port, 8080);
}

TEST(ParseHostPortTest, ReadsBracketedIpv6WithoutBrackets) {
  std::optional<HostPort> parsed = ParseHostPort("[::1]:8443");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->host, "::1");
  EXPECT_EQ(parsed->port, 8443);
}

TEST(ParseHostPortTest, AcceptsHighestPort) {
  ASSERT_TRUE(ParseHostPort("host:65535"));
  EXPECT_EQ(ParseHostPort("host:65535")->port, 65535);
}

TEST(ParseHostPortTest, RejectsMissingPort) {
  EXPECT_EQ(ErrorFor("localhost"), "missing port");
  EXPECT_EQ(ErrorFor("localhost:"), "missing port");
  EXPECT_EQ(ErrorFor("[::1]"), "missing port");
}

TEST(ParseHostPortTest, RejectsPortOutOfRange) {
  EXPECT_EQ(ErrorFor("localhost:65536"), "port out of range (0-65535)");
  EXPECT_EQ(ErrorFor("localhost:99999999999999999999"), "port out of range (0-65535)");
}

TEST(ParseHostPortTest, RejectsNonNumericPort) {
  EXPECT_EQ(ErrorFor("localhost:http"), "port \"http\" is not a number");
  EXPECT_EQ(ErrorFor("localhost:-1"), "port \"-1\" is not a number");
}

TEST(ParseHostPortTest, RejectsInvalidIpv6Literal) {
  EXPECT_EQ(ErrorFor("[::zz]:80"), "invalid IPv6 literal \"::zz\"");
  EXPECT_EQ(ErrorFor("[::1:80"), "invalid IPv6 literal: missing ']'");
  EXPECT_EQ(ErrorFor("[::1]80"), "unexpected text after ']'");
}

TEST(ParseHostPortTest, RejectsUnbracketedIpv6) {
  EXPECT_EQ(ErrorFor("::1:80"), "an IPv6 address must be in brackets, e.g. [::1]:8080");
}

TEST(ParseHostPortTest, RejectsUrl) {
  EXPECT_EQ(ErrorFor("http://localhost:80"), "a URL scheme is not allowed");
}

TEST(ParseHostPortTest, RejectsInvalidHostNames) {
  EXPECT_EQ(ErrorFor("bad host:80"), "invalid host \"bad host\"");
  EXPECT_EQ(ErrorFor("a..b:80"), "invalid host \"a..b\"");
  EXPECT_EQ(ErrorFor("300.1.1.1:80"), "invalid host \"300.1.1.1\"");
}

TEST(ParseHostPortTest, RejectsEmptyText) { EXPECT_EQ(ErrorFor(""), "empty address"); }

TEST(ParseHostPortTest, LeavesErrorAloneWhenNotAsked) {
  EXPECT_EQ(ParseHostPort("localhost"), std::nullopt);
}

}  // namespace
}  // namespace hermes
