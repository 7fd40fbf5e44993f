#include "domain/email_address.hpp"

#include <algorithm>

namespace visitpay::domain {

namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext: letters, digits and !#$%&'*+-/=?^_`{|}~
bool is_atext(char c) {
  static constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~";
  return is_alnum(c) || kSpecials.find(c) != std::string_view::npos;
}

// dot-atom-text: atoms of atext joined by single dots, no dot at either end.
bool is_dot_atom(std::string_view text) {
  if (text.empty() || text.front() == '.' || text.back() == '.') return false;
  if (text.find("..") != std::string_view::npos) return false;
  return std::all_of(text.begin(), text.end(), [](char c) { return c == '.' || is_atext(c); });
}

bool is_host_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  if (label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; });
}

bool is_host_name(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  int labels = 0;
  while (true) {
    const auto dot = domain.find('.');
    if (!is_host_label(domain.substr(0, dot))) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    domain.remove_prefix(dot + 1);
  }
  return labels >= 2;
}

}  // namespace

EmailVerdict check_email_address(std::string_view address) {
  if (address.empty()) return {false, "must not be empty"};
  if (address.size() > 254) return {false, "must be at most 254 characters"};
  const bool ascii_printable = std::all_of(address.begin(), address.end(), [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (!ascii_printable) {
    return {false, "must be ASCII without spaces or control characters"};
  }
  const auto at = address.rfind('@');
  if (at == std::string_view::npos) return {false, "must have the form local@domain"};
  const auto local = address.substr(0, at);
  const auto domain = address.substr(at + 1);
  if (local.empty() || local.size() > 64) {
    return {false, "must have a local part of 1-64 characters before the @"};
  }
  if (!is_dot_atom(local)) {
    return {false, "must have a local part of letters, digits, dots and !#$%&'*+-/=?^_`{|}~"};
  }
  if (!is_host_name(domain)) {
    return {false, "must have a domain of host name labels after the @, such as example.no"};
  }
  return {true, ""};
}

}  // namespace visitpay::domain
