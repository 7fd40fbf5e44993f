#include "http/client_address.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace visitpay::http {
namespace {

using common::IpAddress;
using Fields = std::vector<std::string_view>;

// The hops as text ("?" for an unknown one), to compare whole chains at once.
std::vector<std::string> text(const std::vector<ForwardedHop>& hops) {
  std::vector<std::string> out;
  for (const auto& hop : hops)
    out.push_back(hop ? hop->to_string() : "?");
  return out;
}

std::vector<std::string> xff(const Fields& fields) {
  return text(parse_x_forwarded_for(fields));
}

std::optional<std::vector<std::string>> fwd(const Fields& fields) {
  auto hops = parse_forwarded(fields);
  if (!hops) return std::nullopt;
  return text(*hops);
}

using Chain = std::vector<std::string>;

TEST(XForwardedFor, ParsesTheChainInOrder) {
  EXPECT_EQ(xff({"203.0.113.7"}), Chain{"203.0.113.7"});
  EXPECT_EQ(xff({"203.0.113.7, 10.0.0.2,10.0.0.3"}),
            (Chain{"203.0.113.7", "10.0.0.2", "10.0.0.3"}));
  // A repeated header continues the list.
  EXPECT_EQ(xff({"203.0.113.7", "10.0.0.2"}), (Chain{"203.0.113.7", "10.0.0.2"}));
  EXPECT_EQ(xff({"2001:db8::1, ::ffff:10.0.0.2"}), (Chain{"2001:db8::1", "10.0.0.2"}));
  EXPECT_TRUE(xff({}).empty());
  EXPECT_TRUE(xff({"", "  "}).empty());
}

TEST(XForwardedFor, ReadsPortsSomeBalancersAppend) {
  EXPECT_EQ(xff({"203.0.113.7:4711, [2001:db8::1]:443, [2001:db8::2]"}),
            (Chain{"203.0.113.7", "2001:db8::1", "2001:db8::2"}));
}

TEST(XForwardedFor, MalformedElementsAreUnknownHops) {
  EXPECT_EQ(xff({"unknown, 203.0.113.7"}), (Chain{"?", "203.0.113.7"}));
  EXPECT_EQ(xff({"203.0.113.7,,10.0.0.2"}), (Chain{"203.0.113.7", "?", "10.0.0.2"}));
  EXPECT_EQ(xff({"203.0.113.7:port"}), Chain{"?"});
  EXPECT_EQ(xff({"203.0.113.7:123456"}), Chain{"?"});
  EXPECT_EQ(xff({"[203.0.113.7]"}), Chain{"?"});
  EXPECT_EQ(xff({"[2001:db8::1"}), Chain{"?"});
  EXPECT_EQ(xff({"[2001:db8::1]x"}), Chain{"?"});
  EXPECT_EQ(xff({"evil.example"}), Chain{"?"});
  EXPECT_EQ(xff({"203.0.113.7 10.0.0.2"}), Chain{"?"});
}

TEST(Forwarded, ParsesRfc7239Examples) {
  EXPECT_EQ(fwd({"for=\"_gazonk\""}), Chain{"?"});
  EXPECT_EQ(fwd({"For=\"[2001:db8:cafe::17]:4711\""}), Chain{"2001:db8:cafe::17"});
  EXPECT_EQ(fwd({"for=192.0.2.60;proto=http;by=203.0.113.43"}), Chain{"192.0.2.60"});
  EXPECT_EQ(fwd({"for=192.0.2.43, for=198.51.100.17"}), (Chain{"192.0.2.43", "198.51.100.17"}));
  EXPECT_EQ(fwd({"for=192.0.2.43", "for=198.51.100.17;by=203.0.113.60;proto=http;host=x.example"}),
            (Chain{"192.0.2.43", "198.51.100.17"}));
  EXPECT_EQ(fwd({"for=\"192.0.2.43:47011\""}), Chain{"192.0.2.43"});
  EXPECT_EQ(fwd({"for=unknown, for=\"[::ffff:192.0.2.9]\""}), (Chain{"?", "192.0.2.9"}));
  EXPECT_EQ(fwd({"for=\"192.0.2.43:_hidden\""}), Chain{"192.0.2.43"});
  // An element without for= is a hop whose address is not known; an empty one is no hop.
  EXPECT_EQ(fwd({"proto=https, for=192.0.2.43"}), (Chain{"?", "192.0.2.43"}));
  EXPECT_EQ(fwd({"for=192.0.2.43,, for=198.51.100.17"}), (Chain{"192.0.2.43", "198.51.100.17"}));
  EXPECT_EQ(fwd({"for=192.0.2.43 ; proto=https"}), Chain{"192.0.2.43"});
  EXPECT_EQ(fwd({"for=\"\\192.0.2.43\""}), Chain{"192.0.2.43"});  // quoted-pair
  EXPECT_EQ(fwd({}), Chain{});
}

TEST(Forwarded, AddressesThatBreakTheNodeSyntaxAreUnknownHops) {
  EXPECT_EQ(fwd({"for=\"2001:db8::1\""}), Chain{"?"});  // IPv6 needs brackets
  EXPECT_EQ(fwd({"for=\"[192.0.2.1]\""}), Chain{"?"});
  EXPECT_EQ(fwd({"for=\"192.0.2.1:\""}), Chain{"?"});
  EXPECT_EQ(fwd({"for=example.com"}), Chain{"?"});
}

TEST(Forwarded, GrammarErrorsDiscardTheWholeHeader) {
  for (const char* field :
       {"for=\"192.0.2.43", "for", "for=", "=192.0.2.43", "for=192.0.2.43:80", "for=[2001:db8::1]",
        "for=192.0.2.43;for=198.51.100.17", "for=192.0.2.43 proto=http", "for =192.0.2.43",
        "for=\"192.0.2.43\"x", "for=192.0.2.43\\", "for=\"a\\"}) {
    EXPECT_FALSE(parse_forwarded({field}).has_value()) << field;
  }
  // One bad field spoils the others: element positions are no longer known.
  EXPECT_FALSE(parse_forwarded({"for=192.0.2.43", "for=\"oops"}).has_value());
}

ClientAddressPolicy trusting(std::vector<const char*> proxies,
                             ForwardedHeader header = ForwardedHeader::x_forwarded_for) {
  ClientAddressPolicy policy;
  policy.header = header;
  for (const char* p : proxies)
    policy.trusted_proxies.push_back(common::parse_ip_network(p).value());
  return policy;
}

std::string client(std::string_view peer, const Fields& fields, const ClientAddressPolicy& p) {
  auto address = client_address(peer, fields, p);
  return address ? address->to_string() : "unknown";
}

TEST(ClientAddress, HeadersFromAnUntrustedPeerAreIgnored) {
  const auto policy = trusting({"10.0.0.0/8"});
  EXPECT_EQ(client("198.51.100.7", {"20.91.170.121"}, policy), "198.51.100.7");
  EXPECT_EQ(client("::ffff:198.51.100.7", {"20.91.170.121"}, policy), "198.51.100.7");
  // No trusted proxies configured: nobody's header is believed.
  EXPECT_EQ(client("10.0.0.2", {"20.91.170.121"}, trusting({})), "10.0.0.2");
  EXPECT_EQ(client("not an address", {}, policy), "unknown");
}

TEST(ClientAddress, RightMostUntrustedAddressBehindTrustedProxies) {
  const auto policy = trusting({"10.0.0.0/8", "2001:db8:ffff::/48"});
  EXPECT_EQ(client("10.0.0.2", {"20.91.170.121"}, policy), "20.91.170.121");
  // Two proxies: the first appended the client, the second the first proxy.
  EXPECT_EQ(client("10.0.0.3", {"20.91.170.121, 10.0.0.2"}, policy), "20.91.170.121");
  // Whatever the client wrote itself stays left of the address the proxy saw.
  EXPECT_EQ(client("10.0.0.2", {"51.107.183.58, 198.51.100.7"}, policy), "198.51.100.7");
  EXPECT_EQ(client("10.0.0.2", {"garbage", "198.51.100.7"}, policy), "198.51.100.7");
  EXPECT_EQ(client("::ffff:10.0.0.2", {"2001:db8::5, 2001:db8:ffff::1"}, policy), "2001:db8::5");
  // The whole chain is trusted proxies (or the header is missing): the left-most.
  EXPECT_EQ(client("10.0.0.3", {"10.0.0.1, 10.0.0.2"}, policy), "10.0.0.1");
  EXPECT_EQ(client("10.0.0.3", {}, policy), "10.0.0.3");
}

TEST(ClientAddress, AnUnknownHopBeforeTheClientMakesItUnknown) {
  const auto policy = trusting({"10.0.0.0/8"});
  EXPECT_EQ(client("10.0.0.2", {"20.91.170.121, unknown"}, policy), "unknown");
  EXPECT_EQ(client("10.0.0.2", {"20.91.170.121, 10.0.0.1,"}, policy), "unknown");
}

TEST(ClientAddress, OnlyTheConfiguredHeaderIsRead) {
  const auto xff_policy = trusting({"10.0.0.0/8"});
  const auto forwarded_policy = trusting({"10.0.0.0/8"}, ForwardedHeader::forwarded);
  // The caller hands over the configured header's values; a Forwarded value read as
  // X-Forwarded-For is no address.
  EXPECT_EQ(client("10.0.0.2", {"for=20.91.170.121"}, xff_policy), "unknown");
  EXPECT_EQ(client("10.0.0.2", {"for=20.91.170.121"}, forwarded_policy), "20.91.170.121");
  EXPECT_EQ(client("10.0.0.2", {"for=\"[2001:db8::5]:80\", for=10.0.0.1"}, forwarded_policy),
            "2001:db8::5");
  EXPECT_EQ(client("10.0.0.2", {"for=20.91.170.121;for=10.0.0.1"}, forwarded_policy), "unknown");
  EXPECT_EQ(client("10.0.0.2", {"for=_hidden"}, forwarded_policy), "unknown");
  EXPECT_EQ(client("198.51.100.7", {"for=20.91.170.121"}, forwarded_policy), "198.51.100.7");
}

}  // namespace
}  // namespace visitpay::http
