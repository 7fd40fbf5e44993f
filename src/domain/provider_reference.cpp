#include "domain/provider_reference.hpp"

#include <array>
#include <cstdint>

namespace visitpay::domain {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string payee_reference(std::string_view operation, std::string_view session_id) {
  // The UUID's 16 bytes, big-endian.
  std::array<std::uint8_t, 16> bytes{};
  std::size_t nibbles = 0;
  for (char c : session_id) {
    if (c == '-') continue;
    const int v = hex_value(c);
    if (v < 0 || nibbles == 32) return {};
    bytes[nibbles / 2] = static_cast<std::uint8_t>(bytes[nibbles / 2] << 4 | v);
    ++nibbles;
  }
  if (nibbles != 32) return {};
  // Long division by 36, 25 times: 36^25 > 2^128, so every UUID has exactly 25 digits.
  constexpr std::string_view kDigits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string digits(25, '0');
  for (int i = 24; i >= 0; --i) {
    unsigned remainder = 0;
    for (auto& b : bytes) {
      const unsigned value = remainder << 8 | b;
      b = static_cast<std::uint8_t>(value / 36);
      remainder = value % 36;
    }
    digits[static_cast<std::size_t>(i)] = kDigits[remainder];
  }
  return std::string(operation) + digits;
}

}  // namespace visitpay::domain
