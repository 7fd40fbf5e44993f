#include "common/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <array>
#include <cstdlib>
#include <cstring>

namespace visitpay::common {

namespace {

// Random bytes come from OpenSSL's DRBG a few KiB at a time and are handed out from a per-thread
// pool: one RAND_bytes call costs about 0.6 µs for 12 bytes and 1.1 µs for 4 KiB, and a check-out
// draws a dozen times (nonces, two data keys, a UUID). A byte handed out is cleansed from the
// pool. A forked child discards its copy of the pool (pthread_atfork: the forking thread is the
// only one the child has), so parent and child never hand out the same bytes.
class RandomPool {
 public:
  RandomPool() = default;
  RandomPool(const RandomPool&) = delete;
  RandomPool& operator=(const RandomPool&) = delete;
  ~RandomPool() { discard(); }

  void fill(std::uint8_t* out, std::size_t n) {
    if (n == 0) return;   // out may be null then, which memcpy must not see
    if (n > kSize / 4) {  // large draws go straight to the DRBG
      draw(out, n);
      return;
    }
    if (kSize - used_ < n) {
      draw(pool_.data(), kSize);
      used_ = 0;
    }
    std::memcpy(out, pool_.data() + used_, n);
    OPENSSL_cleanse(pool_.data() + used_, n);
    used_ += n;
  }

  void discard() noexcept {
    OPENSSL_cleanse(pool_.data(), pool_.size());
    used_ = kSize;
  }

 private:
  static constexpr std::size_t kSize = 4096;

  static void draw(std::uint8_t* out, std::size_t n) {
    if (RAND_bytes(out, static_cast<int>(n)) != 1) std::abort();  // no safe fallback exists
  }

  std::array<std::uint8_t, kSize> pool_{};
  std::size_t used_ = kSize;
};

RandomPool& this_thread_pool() {
  static const bool fork_handler = [] {
    if (pthread_atfork(nullptr, nullptr, [] { this_thread_pool().discard(); }) != 0) std::abort();
    return true;
  }();
  (void)fork_handler;
  thread_local RandomPool pool;
  return pool;
}

// Fetched once: EVP_sha256() makes OpenSSL look the algorithm up (locks, name comparisons) on
// every use. Never freed, like OpenSSL's own cached algorithms.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) std::abort();
  return md;
}

}  // namespace

Sha256Digest sha256(std::string_view data) {
  Sha256Digest out{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &len, sha256_md(), nullptr);
  return out;
}

Sha256Digest hmac_sha256(const Bytes& key, std::string_view data) {
  Sha256Digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  this_thread_pool().fill(out.data(), n);
  return out;
}

std::string to_hex(const std::uint8_t* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 0xf];
  }
  return out;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool from_hex(std::string_view hex, Bytes& out) {
  if (hex.size() % 2 != 0) return false;
  out.clear();
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = hex_value(hex[i]);
    int lo = hex_value(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return true;
}

std::string base64url(const std::uint8_t* data, std::size_t n) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < n; i += 3) {
    std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == n) {
    std::uint32_t v = data[i] << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (i + 2 == n) {
    std::uint32_t v = (data[i] << 16) | (data[i + 1] << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace visitpay::common
