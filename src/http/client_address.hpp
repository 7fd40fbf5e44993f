#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "common/ip_network.hpp"

namespace visitpay::http {

// Which request header the trusted proxies write the client's address into. Only that one is
// read: a proxy that appends to X-Forwarded-For passes a client's own Forwarded header on
// untouched (and the other way round), so reading both would let the client choose its address.
enum class ForwardedHeader { x_forwarded_for, forwarded };

// One hop a proxy recorded: its address, or nullopt when it is not known ("unknown", an
// obfuscated identifier, an element without an address or with one that does not parse).
using ForwardedHop = std::optional<common::IpAddress>;

// X-Forwarded-For: comma-separated addresses, the original client first, each proxy appending the
// peer it saw. Elements may carry a port ("192.0.2.1:4711", "[2001:db8::1]:4711", as some load
// balancers write them). `fields` are the header's values in order (a repeated header continues
// the list). Never nullopt: every element is a hop, an unreadable one an unknown hop.
std::vector<ForwardedHop> parse_x_forwarded_for(const std::vector<std::string_view>& fields);

// Forwarded (RFC 7239): elements separated by ',', pairs by ';', each `for=` naming a hop (IPv6 in
// quotes and brackets, optionally with a port). nullopt when the header breaks the grammar (an
// unterminated quote, a pair without '=', a repeated parameter in one element): then the
// positions of its elements cannot be trusted at all.
std::optional<std::vector<ForwardedHop>> parse_forwarded(
    const std::vector<std::string_view>& fields);

struct ClientAddressPolicy {
  std::vector<common::IpNetwork> trusted_proxies;  // empty: no forwarding header is believed
  ForwardedHeader header = ForwardedHeader::x_forwarded_for;
};

// The address of the client that sent the request. From a peer that is not a trusted proxy, the
// peer itself and the headers are ignored (anyone can write them). From a trusted proxy, the
// right-most address of the header chain that is not a trusted proxy: everything left of it was
// written by that client and proves nothing. When the whole chain is trusted proxies, the
// left-most. nullopt when the peer does not parse, or when the walk meets an unknown hop or a
// malformed Forwarded header before it finds the client: the address is then unknown, and an
// allowlist must refuse it.
std::optional<common::IpAddress> client_address(std::string_view peer,
                                                const std::vector<std::string_view>& header_fields,
                                                const ClientAddressPolicy& policy);

}  // namespace visitpay::http
