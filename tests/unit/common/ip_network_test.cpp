#include "common/ip_network.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace visitpay::common {
namespace {

IpAddress ip(const char* text) {
  auto address = parse_ip_address(text);
  EXPECT_TRUE(address.has_value()) << text;
  return address.value_or(IpAddress{});
}

IpNetwork net(const char* text) {
  auto network = parse_ip_network(text);
  EXPECT_TRUE(network.ok()) << text << ": " << (network.ok() ? "" : network.error().detail);
  return network.ok() ? *network : IpNetwork{};
}

TEST(IpAddress, ParsesIpv4AndIpv6) {
  EXPECT_FALSE(ip("192.0.2.1").v6);
  EXPECT_EQ(ip("192.0.2.1").to_string(), "192.0.2.1");
  EXPECT_TRUE(ip("2001:db8::1").v6);
  EXPECT_EQ(ip("2001:DB8:0:0::1").to_string(), "2001:db8::1");
}

TEST(IpAddress, MappedIpv6IsTheIpv4Address) {
  // What a dual-stack socket reports for an IPv4 peer.
  const auto mapped = ip("::ffff:192.0.2.1");
  EXPECT_FALSE(mapped.v6);
  EXPECT_EQ(mapped, ip("192.0.2.1"));
  EXPECT_EQ(mapped.to_string(), "192.0.2.1");
  EXPECT_EQ(ip("::ffff:c000:0201"), ip("192.0.2.1"));
  // Other IPv6 addresses that embed IPv4 text are not mapped ones.
  EXPECT_TRUE(ip("64:ff9b::192.0.2.1").v6);
}

TEST(IpAddress, RefusesEverythingButStrictAddresses) {
  for (const char* text : {"", " 192.0.2.1", "192.0.2.1 ", "192.0.2", "192.0.2.256", "192.0.2.01",
                           "0x7f.0.0.1", "192.0.2.1:80", "[2001:db8::1]", "2001:db8::1%eth0",
                           "2001:db8:::1", "unknown", "192.0.2.1/32", "fe80::1%1", "1.2.3.4.5"}) {
    EXPECT_FALSE(parse_ip_address(text).has_value()) << text;
  }
}

TEST(IpNetwork, PrefixMatchIpv4) {
  // Swedbank Pay's callback range from 2025-03-12: .120-.127.
  const auto range = net("20.91.170.120/29");
  for (const char* inside : {"20.91.170.120", "20.91.170.123", "20.91.170.127"}) {
    EXPECT_TRUE(range.contains(ip(inside))) << inside;
  }
  for (const char* outside : {"20.91.170.119", "20.91.170.128", "20.91.171.120", "2001:db8::1"}) {
    EXPECT_FALSE(range.contains(ip(outside))) << outside;
  }
  EXPECT_TRUE(range.contains(ip("::ffff:20.91.170.121")));  // dual-stack peer
  EXPECT_TRUE(net("10.0.0.0/8").contains(ip("10.255.0.1")));
  EXPECT_TRUE(net("0.0.0.0/0").contains(ip("198.51.100.7")));
  EXPECT_FALSE(net("0.0.0.0/0").contains(ip("2001:db8::1")));
  EXPECT_TRUE(net("192.0.2.0/25").contains(ip("192.0.2.127")));
  EXPECT_FALSE(net("192.0.2.0/25").contains(ip("192.0.2.128")));
}

TEST(IpNetwork, ExactMatchForABareAddress) {
  const auto one = net("51.107.183.58");
  EXPECT_EQ(one.prefix, 32u);
  EXPECT_TRUE(one.contains(ip("51.107.183.58")));
  EXPECT_TRUE(one.contains(ip("::ffff:51.107.183.58")));
  EXPECT_FALSE(one.contains(ip("51.107.183.59")));
  EXPECT_FALSE(one.contains(ip("51.107.183.57")));
  const auto v6 = net("2001:db8::7");
  EXPECT_EQ(v6.prefix, 128u);
  EXPECT_TRUE(v6.contains(ip("2001:db8::7")));
  EXPECT_FALSE(v6.contains(ip("2001:db8::8")));
}

TEST(IpNetwork, PrefixMatchIpv6) {
  const auto range = net("2001:db8:abcd::/48");
  EXPECT_TRUE(range.contains(ip("2001:db8:abcd:ffff::1")));
  EXPECT_FALSE(range.contains(ip("2001:db8:abce::1")));
  EXPECT_FALSE(range.contains(ip("32.1.13.184")));  // same leading bytes as IPv4
  EXPECT_TRUE(net("2001:db8::/127").contains(ip("2001:db8::1")));
  EXPECT_FALSE(net("2001:db8::/127").contains(ip("2001:db8::2")));
  EXPECT_TRUE(net("::/0").contains(ip("2001:db8::2")));
  EXPECT_FALSE(net("::/0").contains(ip("192.0.2.1")));
}

TEST(IpNetwork, MappedRangesAreIpv4Ranges) {
  EXPECT_EQ(net("::ffff:10.0.0.0/104"), net("10.0.0.0/8"));
  EXPECT_EQ(net("::ffff:192.0.2.1"), net("192.0.2.1/32"));
  EXPECT_TRUE(net("::ffff:0:0/96").contains(ip("198.51.100.7")));
}

TEST(IpNetwork, RefusesTyposWithAReason) {
  for (const char* text : {"10.0.0.1/8", "2001:db8::1/32"}) {
    auto network = parse_ip_network(text);
    ASSERT_FALSE(network.ok()) << text;
    EXPECT_NE(network.error().detail.find("bits set past its prefix"), std::string::npos);
  }
  EXPECT_NE(parse_ip_network("10.0.0.1/8").error().detail.find("10.0.0.0/8"), std::string::npos);
  for (const char* text :
       {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/08", "10.0.0.0/8/8",
        "10.0.0.0/ 8", "::ffff:0:0/95", "example.com", "10.0.0.0/x"}) {
    EXPECT_FALSE(parse_ip_network(text).ok()) << text;
  }
}

TEST(IpNetwork, AnyContains) {
  const std::vector<IpNetwork> swedbank = {net("51.107.183.58"), net("91.132.170.1"),
                                           net("20.91.170.120/29")};
  EXPECT_TRUE(any_contains(swedbank, ip("91.132.170.1")));
  EXPECT_TRUE(any_contains(swedbank, ip("20.91.170.126")));
  EXPECT_FALSE(any_contains(swedbank, ip("91.132.170.2")));
  EXPECT_FALSE(any_contains({}, ip("91.132.170.1")));
}

}  // namespace
}  // namespace visitpay::common
