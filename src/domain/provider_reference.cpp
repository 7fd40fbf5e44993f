#include "domain/provider_reference.hpp"

#include <cstdint>

#include "common/crypto.hpp"

namespace visitpay::domain {

std::string payee_reference(std::string_view operation, std::string_view session_id) {
  // The UUID's 16 bytes, big-endian.
  std::string hex;
  for (char c : session_id) {
    if (c != '-') hex += c;
  }
  common::Bytes bytes;
  if (hex.size() != 32 || !common::from_hex(hex, bytes)) return {};
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

std::string order_payee_reference(std::string_view session_id, int attempt) {
  if (attempt < 1 || attempt > kMaxOrderAttempts) return {};
  std::string base = payee_reference("PO", session_id);
  if (base.empty()) return {};
  const std::string digits = std::to_string(attempt);
  return base + std::string(3 - digits.size(), '0') + digits;
}

}  // namespace visitpay::domain
