#include "http/client_address.hpp"

#include <set>
#include <string>

namespace visitpay::http {
namespace {

using common::IpAddress;

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back()))
    s.remove_suffix(1);
  return s;
}

bool is_port(std::string_view s) {
  return !s.empty() && s.size() <= 5 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// RFC 7230 tchar.
bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// "[2001:db8::1]" or "[2001:db8::1]:4711" (the port is checked by `port_ok`).
template <typename PortCheck>
ForwardedHop bracketed_v6(std::string_view text, PortCheck port_ok) {
  const auto close = text.find(']');
  if (text.empty() || text.front() != '[' || close == std::string_view::npos) return std::nullopt;
  const std::string_view rest = text.substr(close + 1);
  if (!rest.empty() && (rest.front() != ':' || !port_ok(rest.substr(1)))) return std::nullopt;
  // IPv6 text only (an IPv4-mapped one becomes its IPv4 address).
  const std::string_view inside = text.substr(1, close - 1);
  if (inside.find(':') == std::string_view::npos) return std::nullopt;
  return common::parse_ip_address(inside);
}

// "192.0.2.1" or "192.0.2.1:4711".
template <typename PortCheck>
ForwardedHop v4_with_port(std::string_view text, PortCheck port_ok) {
  const auto colon = text.find(':');
  if (colon != std::string_view::npos && !port_ok(text.substr(colon + 1))) return std::nullopt;
  auto address = common::parse_ip_address(text.substr(0, colon));
  if (!address || address->v6) return std::nullopt;
  return address;
}

ForwardedHop x_forwarded_for_element(std::string_view text) {
  text = trim_ows(text);
  if (!text.empty() && text.front() == '[') return bracketed_v6(text, is_port);
  // Bare IPv6 has several colons; "a.b.c.d:port" one.
  if (text.find(':') != text.rfind(':')) return common::parse_ip_address(text);
  return v4_with_port(text, is_port);
}

// RFC 7239 node: IPv4, "[" IPv6 "]", "unknown" or an obfuscated identifier ("_..."), each with an
// optional port (digits or an obfuscated port).
ForwardedHop forwarded_node(std::string_view value) {
  auto port_ok = [](std::string_view port) {
    return is_port(port) || (port.size() > 1 && port.front() == '_');
  };
  if (!value.empty() && value.front() == '[') return bracketed_v6(value, port_ok);
  return v4_with_port(value, port_ok);  // "unknown" and "_hidden" do not parse: unknown hops
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Reads a token or a quoted-string at `i`; false on a grammar error.
bool read_value(std::string_view s, std::size_t& i, std::string& value) {
  if (i < s.size() && s[i] == '"') {
    for (++i; i < s.size(); ++i) {
      if (s[i] == '"') {
        ++i;
        return true;
      }
      if (s[i] == '\\' && ++i == s.size()) return false;
      value += s[i];
    }
    return false;  // unterminated
  }
  const std::size_t start = i;
  while (i < s.size() && is_tchar(s[i]))
    ++i;
  value = std::string(s.substr(start, i - start));
  return i > start;
}

// One forwarded-element's pairs, up to the ',' that ends it; appends its hop. False on a grammar
// error. An empty element (",,") is allowed by the list rule and adds nothing.
bool read_element(std::string_view s, std::size_t& i, std::vector<ForwardedHop>& hops) {
  std::set<std::string> names;
  std::optional<std::string> for_value;
  while (i < s.size() && s[i] != ',') {
    if (s[i] == ';' || is_ows(s[i])) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < s.size() && is_tchar(s[i]))
      ++i;
    if (i == start || i == s.size() || s[i] != '=') return false;
    std::string name = lower(s.substr(start, i - start));
    std::string value;
    ++i;
    if (!read_value(s, i, value) || !names.insert(name).second) return false;
    if (name == "for") for_value = std::move(value);
    while (i < s.size() && is_ows(s[i]))
      ++i;
    if (i < s.size() && s[i] != ';' && s[i] != ',') return false;
  }
  if (!names.empty()) hops.push_back(for_value ? forwarded_node(*for_value) : std::nullopt);
  return true;
}

}  // namespace

std::vector<ForwardedHop> parse_x_forwarded_for(const std::vector<std::string_view>& fields) {
  std::vector<ForwardedHop> hops;
  for (std::string_view field : fields) {
    if (trim_ows(field).empty()) continue;
    while (true) {
      const auto comma = field.find(',');
      hops.push_back(x_forwarded_for_element(field.substr(0, comma)));
      if (comma == std::string_view::npos) break;
      field.remove_prefix(comma + 1);
    }
  }
  return hops;
}

std::optional<std::vector<ForwardedHop>> parse_forwarded(
    const std::vector<std::string_view>& fields) {
  std::vector<ForwardedHop> hops;
  for (std::string_view field : fields) {
    std::size_t i = 0;
    while (i < field.size()) {
      if (!read_element(field, i, hops)) return std::nullopt;
      if (i < field.size()) ++i;  // the ',' between elements
    }
  }
  return hops;
}

std::optional<IpAddress> client_address(std::string_view peer,
                                        const std::vector<std::string_view>& header_fields,
                                        const ClientAddressPolicy& policy) {
  const auto peer_address = common::parse_ip_address(peer);
  if (!peer_address) return std::nullopt;
  if (!common::any_contains(policy.trusted_proxies, *peer_address)) return peer_address;
  std::vector<ForwardedHop> hops;
  if (policy.header == ForwardedHeader::forwarded) {
    auto parsed = parse_forwarded(header_fields);
    if (!parsed) return std::nullopt;
    hops = std::move(*parsed);
  } else {
    hops = parse_x_forwarded_for(header_fields);
  }
  IpAddress current = *peer_address;
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    if (!*hop) return std::nullopt;
    current = **hop;
    if (!common::any_contains(policy.trusted_proxies, current)) return current;
  }
  return current;
}

}  // namespace visitpay::http
