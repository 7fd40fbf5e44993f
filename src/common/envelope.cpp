#include "common/envelope.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace visitpay::common {

namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const noexcept { EVP_CIPHER_CTX_free(ctx); }
};
// EVP_CIPHER_CTX_free cleanses the expanded key schedule.
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

constexpr std::size_t kHeaderSize = 1 + kEnvelopeNonceSize;
constexpr std::string_view kWrapLabel = "visitpay.wrap.v1";
// EVP_*Update take int lengths.
constexpr std::size_t kMaxChunk = static_cast<std::size_t>(INT_MAX) & ~std::size_t{15};

const unsigned char* bytes_of(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

[[noreturn]] void seal_failed() {
  std::fputs("visitpay: AES-256-GCM encryption failed in OpenSSL\n", stderr);
  std::abort();
}

// Fetched once: EVP_aes_256_gcm() makes OpenSSL look the cipher up (locks, name comparisons) at
// every context's set-up. Never freed, like OpenSSL's own cached algorithms.
const EVP_CIPHER* aes_256_gcm() {
  static EVP_CIPHER* const cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return cipher;  // null only if OpenSSL has no AES-GCM: every seal then fails loudly
}

CipherCtx new_gcm_context(const DataKey& key, const std::uint8_t* nonce, bool encrypt) {
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return nullptr;
  const int enc = encrypt ? 1 : 0;
  if (EVP_CipherInit_ex(ctx.get(), aes_256_gcm(), nullptr, nullptr, nullptr, enc) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(kEnvelopeNonceSize),
                          nullptr) != 1 ||
      EVP_CipherInit_ex(ctx.get(), nullptr, nullptr, key.data(), nonce, enc) != 1) {
    return nullptr;
  }
  return ctx;
}

// Feeds `in` through EVP_CipherUpdate in int-sized chunks; `out` null means associated data.
bool update(EVP_CIPHER_CTX* ctx, unsigned char* out, const unsigned char* in, std::size_t n) {
  while (n > 0) {
    const std::size_t chunk = std::min(n, kMaxChunk);
    int written = 0;
    if (EVP_CipherUpdate(ctx, out, &written, in, static_cast<int>(chunk)) != 1) return false;
    // GCM is a stream mode: it writes exactly what it reads (nothing for associated data).
    if (out != nullptr) {
      if (written != static_cast<int>(chunk)) return false;
      out += chunk;
    }
    in += chunk;
    n -= chunk;
  }
  return true;
}

// Encrypts into `out` (kEnvelopeOverhead + plaintext bytes, already sized).
bool encrypt_into(const DataKey& key, const detail::Nonce& nonce, const unsigned char* plaintext,
                  std::size_t plaintext_size, std::string_view associated_data, std::uint8_t* out) {
  CipherCtx ctx = new_gcm_context(key, nonce.data(), true);
  if (!ctx) return false;
  if (!update(ctx.get(), nullptr, bytes_of(associated_data), associated_data.size())) return false;
  std::uint8_t* ciphertext = out + kHeaderSize;
  if (!update(ctx.get(), ciphertext, plaintext, plaintext_size)) return false;
  int final_len = 0;
  if (EVP_EncryptFinal_ex(ctx.get(), ciphertext + plaintext_size, &final_len) != 1 ||
      final_len != 0) {
    return false;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kEnvelopeTagSize),
                          ciphertext + plaintext_size) != 1) {
    return false;
  }
  out[0] = kEnvelopeVersion;
  std::copy(nonce.begin(), nonce.end(), out + 1);
  return true;
}

Bytes seal_raw(const DataKey& key, const detail::Nonce& nonce, const unsigned char* plaintext,
               std::size_t plaintext_size, std::string_view associated_data) {
  Bytes blob(kEnvelopeOverhead + plaintext_size);
  if (!encrypt_into(key, nonce, plaintext, plaintext_size, associated_data, blob.data())) {
    seal_failed();
  }
  return blob;
}

// Decrypts `blob` into `out` (exactly blob.size() - kEnvelopeOverhead bytes). On failure `out` is
// cleansed, as it may hold unauthenticated plaintext.
bool decrypt_into(const DataKey& key, const Bytes& blob, std::string_view associated_data,
                  std::uint8_t* out) {
  if (blob.size() < kEnvelopeOverhead || blob[0] != kEnvelopeVersion) return false;
  const std::size_t size = blob.size() - kEnvelopeOverhead;
  const std::uint8_t* ciphertext = blob.data() + kHeaderSize;
  // OpenSSL takes the expected tag through a non-const pointer; copy it rather than cast.
  std::array<std::uint8_t, kEnvelopeTagSize> tag{};
  std::copy_n(ciphertext + size, kEnvelopeTagSize, tag.begin());

  CipherCtx ctx = new_gcm_context(key, blob.data() + 1, false);
  bool ok = ctx != nullptr;
  ok = ok && update(ctx.get(), nullptr, bytes_of(associated_data), associated_data.size());
  ok = ok && update(ctx.get(), out, ciphertext, size);
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG,
                                 static_cast<int>(kEnvelopeTagSize), tag.data()) == 1;
  int final_len = 0;
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), out + size, &final_len) == 1 && final_len == 0;
  if (!ok && size > 0) OPENSSL_cleanse(out, size);
  return ok;
}

std::string wrap_associated_data(std::string_view master_key_id, std::string_view context) {
  std::string aad;
  aad.reserve(kWrapLabel.size() + 4 + master_key_id.size() + context.size());
  aad.append(kWrapLabel);
  const auto id_size = static_cast<std::uint32_t>(master_key_id.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    aad.push_back(static_cast<char>((id_size >> shift) & 0xffU));
  }
  aad.append(master_key_id);
  aad.append(context);
  return aad;
}

detail::Nonce random_nonce() {
  const Bytes random = random_bytes(kEnvelopeNonceSize);
  detail::Nonce nonce{};
  std::copy(random.begin(), random.end(), nonce.begin());
  return nonce;
}

}  // namespace

DataKey generate_data_key() {
  Bytes random = random_bytes(DataKey{}.size());
  DataKey key{};
  std::copy(random.begin(), random.end(), key.begin());
  OPENSSL_cleanse(random.data(), random.size());
  return key;
}

void cleanse(DataKey& key) noexcept {
  OPENSSL_cleanse(key.data(), key.size());
}

Bytes seal(const DataKey& key, std::string_view plaintext, std::string_view associated_data) {
  return seal_raw(key, random_nonce(), bytes_of(plaintext), plaintext.size(), associated_data);
}

std::optional<std::string> open(const DataKey& key, const Bytes& blob,
                                std::string_view associated_data) {
  if (blob.size() < kEnvelopeOverhead) return std::nullopt;
  // Decrypted in place in the returned object, so no copy of the plaintext is left behind.
  std::optional<std::string> plaintext(std::in_place, blob.size() - kEnvelopeOverhead, '\0');
  if (!decrypt_into(key, blob, associated_data,
                    reinterpret_cast<std::uint8_t*>(plaintext->data()))) {
    return std::nullopt;
  }
  return plaintext;
}

Bytes wrap_key(const DataKey& master, std::string_view master_key_id, const DataKey& data_key,
               std::string_view context) {
  return seal_raw(master, random_nonce(), data_key.data(), data_key.size(),
                  wrap_associated_data(master_key_id, context));
}

std::optional<DataKey> unwrap_key(const DataKey& master, std::string_view master_key_id,
                                  const Bytes& wrapped, std::string_view context) {
  if (wrapped.size() != kEnvelopeOverhead + DataKey{}.size()) return std::nullopt;
  std::optional<DataKey> key(std::in_place);
  if (!decrypt_into(master, wrapped, wrap_associated_data(master_key_id, context), key->data())) {
    return std::nullopt;
  }
  return key;
}

namespace detail {

Bytes seal_with_nonce(const DataKey& key, const Nonce& nonce, std::string_view plaintext,
                      std::string_view associated_data) {
  return seal_raw(key, nonce, bytes_of(plaintext), plaintext.size(), associated_data);
}

}  // namespace detail

}  // namespace visitpay::common
