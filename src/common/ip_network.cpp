#include "common/ip_network.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace visitpay::common {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool is_mapped_v4(const std::array<std::uint8_t, 16>& bytes) {
  return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), bytes.begin());
}

unsigned width(const IpAddress& address) {
  return address.v6 ? 128 : 32;
}

// The address with every bit past `prefix` cleared.
IpAddress masked(IpAddress address, unsigned prefix) {
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned first_bit = i * 8;
    if (first_bit >= prefix) {
      address.bytes[i] = 0;
    } else if (prefix - first_bit < 8) {
      address.bytes[i] &= static_cast<std::uint8_t>(0xff << (8 - (prefix - first_bit)));
    }
  }
  return address;
}

}  // namespace

std::string IpAddress::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof text) == nullptr) return {};
  return text;
}

std::optional<IpAddress> parse_ip_address(std::string_view text) {
  // inet_pton needs a terminated string; anything longer than the longest IPv6 text is invalid.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string terminated(text);
  IpAddress address;
  if (inet_pton(AF_INET, terminated.c_str(), address.bytes.data()) == 1) return address;
  if (inet_pton(AF_INET6, terminated.c_str(), address.bytes.data()) != 1) return std::nullopt;
  if (is_mapped_v4(address.bytes)) {
    std::copy(address.bytes.begin() + 12, address.bytes.end(), address.bytes.begin());
    std::fill(address.bytes.begin() + 4, address.bytes.end(), std::uint8_t{0});
    return address;
  }
  address.v6 = true;
  return address;
}

bool IpNetwork::contains(const IpAddress& address) const {
  return address.v6 == base.v6 && masked(address, prefix) == base;
}

std::string IpNetwork::to_string() const {
  return base.to_string() + "/" + std::to_string(prefix);
}

Result<IpNetwork> parse_ip_network(std::string_view text) {
  const auto slash = text.find('/');
  const std::string_view address_text = text.substr(0, slash);
  auto address = parse_ip_address(address_text);
  if (!address) {
    return make_error(ErrorCode::bad_request,
                      "\"" + std::string(text) + "\" is not an IP address or CIDR range");
  }
  // IPv6 text that became an IPv4 address: an IPv4-mapped one.
  const bool mapped_text = address_text.find(':') != std::string_view::npos && !address->v6;
  IpNetwork network{*address, width(*address)};
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    unsigned prefix = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    // An IPv4-mapped range counts its prefix over the whole IPv6 address.
    const unsigned limit = mapped_text ? 128 : width(*address);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        prefix > limit || (digits.size() > 1 && digits.front() == '0')) {
      return make_error(
          ErrorCode::bad_request,
          "\"" + std::string(text) + "\" has a prefix that is not 0-" + std::to_string(limit));
    }
    if (mapped_text) {
      if (prefix < 96) {
        return make_error(
            ErrorCode::bad_request,
            "\"" + std::string(text) + "\": an IPv4-mapped range needs a prefix of 96 or more");
      }
      prefix -= 96;
    }
    network.prefix = prefix;
  }
  if (!(masked(network.base, network.prefix) == network.base)) {
    return make_error(
        ErrorCode::bad_request,
        "\"" + std::string(text) + "\" has bits set past its prefix (the range is " +
            IpNetwork{masked(network.base, network.prefix), network.prefix}.to_string() + ")");
  }
  return network;
}

bool any_contains(const std::vector<IpNetwork>& networks, const IpAddress& address) {
  return std::any_of(networks.begin(), networks.end(),
                     [&address](const IpNetwork& n) { return n.contains(address); });
}

}  // namespace visitpay::common
