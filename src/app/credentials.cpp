#include "app/credentials.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <array>
#include <vector>

#include "common/crypto.hpp"

namespace visitpay::app {

namespace {

constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
constexpr std::size_t kMinPassword = 12;
constexpr std::size_t kMaxPassword = 256;

bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

std::string base32(const std::vector<std::uint8_t>& bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const auto b : bytes) {
    buffer = (buffer << 8U) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32[(buffer >> static_cast<unsigned>(bits - 5)) & 31U]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32[(buffer << static_cast<unsigned>(5 - bits)) & 31U]);
  return out;
}

std::optional<std::vector<std::uint8_t>> from_base32(std::string_view text) {
  std::vector<std::uint8_t> out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    if (c == '=' || c == ' ') continue;
    const char upper = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    const auto pos = kBase32.find(upper);
    if (pos == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5U) | static_cast<std::uint32_t>(pos);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<std::uint8_t>((buffer >> static_cast<unsigned>(bits - 8)) & 255U));
      bits -= 8;
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

}  // namespace

std::optional<std::string> hash_password(std::string_view password) {
  if (!sodium_ready()) return std::nullopt;
  std::array<char, crypto_pwhash_STRBYTES> out{};
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::nullopt;  // out of memory
  }
  return std::string(out.data());
}

bool verify_password(const std::string& hash, std::string_view password) {
  if (!sodium_ready() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::optional<std::string> password_problem(std::string_view password) {
  if (password.size() < kMinPassword) {
    return "must be at least " + std::to_string(kMinPassword) + " characters";
  }
  if (password.size() > kMaxPassword) {
    return "must be at most " + std::to_string(kMaxPassword) + " characters";
  }
  return std::nullopt;
}

std::string new_password() {
  const auto bytes = common::random_bytes(15);
  return common::base64url(bytes.data(), bytes.size());
}

std::string new_totp_secret() {
  return base32(common::random_bytes(20));
}

std::optional<std::string> totp_code(std::string_view base32_secret, std::int64_t step) {
  const auto key = from_base32(base32_secret);
  if (!key || step < 0) return std::nullopt;
  std::array<unsigned char, 8> counter{};
  auto value = static_cast<std::uint64_t>(step);
  for (int i = 7; i >= 0; --i) {
    counter[static_cast<std::size_t>(i)] = static_cast<unsigned char>(value & 255U);
    value >>= 8U;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  if (HMAC(EVP_sha1(), key->data(), static_cast<int>(key->size()), counter.data(), counter.size(),
           mac.data(), &mac_len) == nullptr ||
      mac_len < 20) {
    return std::nullopt;
  }
  const unsigned offset = mac[19] & 15U;  // dynamic truncation (RFC 4226 § 5.3)
  const std::uint32_t binary = ((mac[offset] & 127U) << 24U) | (mac[offset + 1] << 16U) |
                               (mac[offset + 2] << 8U) | mac[offset + 3];
  std::string code = std::to_string(binary % 1'000'000U);
  code.insert(0, 6 - code.size(), '0');
  return code;
}

std::optional<std::int64_t> matching_totp_step(std::string_view base32_secret,
                                               std::string_view code, std::int64_t unix_seconds) {
  if (code.size() != 6) return std::nullopt;
  const std::int64_t now_step = unix_seconds / kTotpStepSeconds;
  std::optional<std::int64_t> found;
  for (std::int64_t step = now_step - 1; step <= now_step + 1; ++step) {
    const auto expected = totp_code(base32_secret, step);
    // Every candidate is compared, so the time taken does not say which one matched.
    if (expected && common::constant_time_equal(*expected, code) && !found) found = step;
  }
  return found;
}

std::string totp_uri(std::string_view username, std::string_view base32_secret) {
  return "otpauth://totp/visitpay:" + std::string(username) +
         "?secret=" + std::string(base32_secret) +
         "&issuer=visitpay&algorithm=SHA1&digits=6&period=30";
}

}  // namespace visitpay::app
