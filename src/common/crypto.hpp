#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace visitpay::common {

using Bytes = std::vector<std::uint8_t>;
using Sha256Digest = std::array<std::uint8_t, 32>;

Sha256Digest sha256(std::string_view data);
Sha256Digest hmac_sha256(const Bytes& key, std::string_view data);
// CSPRNG: OpenSSL's DRBG (RAND_bytes), drawn through a per-thread pool; aborts if the RNG fails.
Bytes random_bytes(std::size_t n);

std::string to_hex(const std::uint8_t* data, std::size_t n);
template <typename Container>
std::string to_hex(const Container& c) {
  return to_hex(c.data(), c.size());
}
// Strict: even length, [0-9a-fA-F] only.
bool from_hex(std::string_view hex, Bytes& out);

std::string base64url(const std::uint8_t* data, std::size_t n);  // unpadded

bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace visitpay::common
