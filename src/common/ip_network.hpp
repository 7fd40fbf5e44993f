#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace visitpay::common {

// An IPv4 or IPv6 address. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket
// reports for an IPv4 peer) is stored as the IPv4 address it maps, so one client has one form and
// matches IPv4 ranges.
struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4: the first 4 bytes, the rest zero

  std::string to_string() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Strict textual forms only: dotted-quad IPv4 ("192.0.2.1"; no leading zeros, no shortened forms)
// or RFC 4291 IPv6 ("2001:db8::1", "::ffff:192.0.2.1"); no brackets, ports or zone ids.
std::optional<IpAddress> parse_ip_address(std::string_view text);

// A CIDR range ("20.91.170.120/29", "2001:db8::/32"); a bare address is a range of one
// (/32 or /128). IPv4-mapped ranges (::ffff:0:0/96 and longer) become the IPv4 ranges they map.
struct IpNetwork {
  IpAddress base;     // the range's first address (no bits set past the prefix)
  unsigned prefix{};  // 0..32 (IPv4) or 0..128 (IPv6)

  bool contains(const IpAddress& address) const;
  std::string to_string() const;
  friend bool operator==(const IpNetwork&, const IpNetwork&) = default;
};

// bad_request whose detail says what is wrong with `text` (it is config, never personal data).
// An address with bits set past the prefix ("10.0.0.1/8") is refused rather than silently
// widened: it is more likely a typo than a range.
Result<IpNetwork> parse_ip_network(std::string_view text);

bool any_contains(const std::vector<IpNetwork>& networks, const IpAddress& address);

}  // namespace visitpay::common
