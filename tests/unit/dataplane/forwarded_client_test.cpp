// ResolveClient and BodyRateDeadline: who the client is behind trusted proxies, and when a slow
// body has fallen below the minimum rate (time passed in, no clock read).
#include <gtest/gtest.h>

#include <boost/beast/http/empty_body.hpp>
#include <chrono>
#include <string>

#include "dataplane/http/body_rate.h"
#include "dataplane/codec/http1/forwarded.h"

namespace hermes::dataplane::http1 {
namespace {

namespace ip = boost::asio::ip;
using namespace std::chrono_literals;

class Request {
 public:
  explicit Request(std::string_view raw) {
    parser_.eager(false);
    boost::system::error_code ec;
    parser_.put(boost::asio::buffer(raw.data(), raw.size()), ec);
    EXPECT_TRUE(!ec || ec == beast_http::error::need_more) << ec.message();
  }
  const RequestHeader& header() { return parser_.get().base(); }

 private:
  http::Arena arena_{1024};
  beast_http::request_parser<beast_http::empty_body, FieldsAllocator> parser_{
      std::piecewise_construct, std::make_tuple(), std::make_tuple(FieldsAllocator(arena_))};
};

CidrSet Trusted(std::initializer_list<const char*> nets) {
  std::vector<Cidr> v;
  for (const char* n : nets) v.push_back(*ParseCidr(n));
  return CidrSet(std::move(v));
}

std::string Client(std::string_view raw, const char* peer, const CidrSet& trusted) {
  Request req(raw);
  ip::address p = Unmapped(ip::make_address(peer));
  std::string out;
  ResolveClient(req.header(), p, trusted.Contains(p), trusted, out);
  return out;
}

TEST(ResolveClientTest, AnUntrustedPeerIsTheClientWhateverItClaims) {
  EXPECT_EQ(Client("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n", "192.0.2.1",
                   Trusted({"10.0.0.0/8"})),
            "192.0.2.1");
}

TEST(ResolveClientTest, WalksRightToLeftPastTrustedHops) {
  const CidrSet trusted = Trusted({"10.0.0.0/8", "192.0.2.1"});
  EXPECT_EQ(Client("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 6.6.6.6, 203.0.113.9, 10.0.0.2\r\n\r\n",
                   "192.0.2.1", trusted),
            "203.0.113.9");
  EXPECT_EQ(Client("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n",
                   "192.0.2.1", trusted),
            "6.6.6.6");
}

TEST(ResolveClientTest, ManyFieldsBeforeOurHopsCannotHideIt) {
  // HAProxy's option forwardfor adds a field of its own after whatever the client sent.
  std::string raw = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 20; ++i) raw += "X-Forwarded-For: 6.6.6.6\r\n";
  raw += "X-Forwarded-For: 203.0.113.5\r\n\r\n";
  EXPECT_EQ(Client(raw, "10.0.0.1", Trusted({"10.0.0.0/8"})), "203.0.113.5");
}

TEST(ResolveClientTest, EveryHopTrustedGivesTheLeftMost) {
  EXPECT_EQ(Client("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.1.1.1, 10.2.2.2\r\n\r\n", "10.3.3.3",
                   Trusted({"10.0.0.0/8"})),
            "10.1.1.1");
}

TEST(ResolveClientTest, AGarbageEntryStopsTheWalkAtTheLastGoodHop) {
  EXPECT_EQ(Client("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 1.1.1.1, unknown, 10.0.0.7\r\n\r\n",
                   "10.0.0.1", Trusted({"10.0.0.0/8"})),
            "10.0.0.7");
}

TEST(ResolveClientTest, AcceptsPortsBracketsAndMappedAddresses) {
  const CidrSet trusted = Trusted({"127.0.0.1"});
  EXPECT_EQ(Client("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: [2001:db8::1]:443\r\n\r\n", "127.0.0.1",
                   trusted),
            "2001:db8::1");
  EXPECT_EQ(Client("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 198.51.100.4:8080\r\n\r\n", "127.0.0.1",
                   trusted),
            "198.51.100.4");
  EXPECT_EQ(Client("GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: ::ffff:198.51.100.4\r\n\r\n",
                   "::ffff:127.0.0.1", trusted),
            "198.51.100.4");
}

TEST(BodyRateDeadlineTest, GivesTheAllowanceThenOneSecondPerRateBytes) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point began{};
  EXPECT_EQ(http::BodyRateDeadline(began, 0, 1024), began + 10s);
  EXPECT_EQ(http::BodyRateDeadline(began, 2048, 1024), began + 12s);
  EXPECT_EQ(http::BodyRateDeadline(began, 512, 1024), began + 10s + 500ms);
}

TEST(BodyRateDeadlineTest, DoesNotOverflowOnHugeCredit) {
  using Clock = std::chrono::steady_clock;
  EXPECT_EQ(http::BodyRateDeadline(Clock::time_point{}, UINT64_MAX, 1), Clock::time_point::max());
}

}  // namespace
}  // namespace hermes::dataplane::http1
