#include "common/uuid.hpp"

#include <array>
#include <cctype>

#include "common/crypto.hpp"

namespace visitpay::common {

std::string new_uuid_v7(std::chrono::system_clock::time_point now) {
  const auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count());
  Bytes rnd = random_bytes(10);
  std::array<std::uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i)
    b[i] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
  b[6] = static_cast<std::uint8_t>(0x70 | (rnd[0] & 0x0f));
  b[7] = rnd[1];
  b[8] = static_cast<std::uint8_t>(0x80 | (rnd[2] & 0x3f));
  for (int i = 9; i < 16; ++i)
    b[i] = rnd[i - 6];
  std::string hex = to_hex(b);
  return hex.substr(0, 8) + '-' + hex.substr(8, 4) + '-' + hex.substr(12, 4) + '-' +
         hex.substr(16, 4) + '-' + hex.substr(20);
}

std::optional<std::string> normalize_uuid(std::string_view text) {
  if (text.size() != 36) return std::nullopt;
  std::string out(text);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position) {
      if (out[i] != '-') return std::nullopt;
      continue;
    }
    const auto c = static_cast<unsigned char>(out[i]);
    if (!std::isxdigit(c)) return std::nullopt;
    out[i] = static_cast<char>(std::tolower(c));
  }
  return out;
}

}  // namespace visitpay::common
