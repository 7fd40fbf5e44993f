#pragma once

// Envelope encryption of payer personal data (architecture §7).
//
// Every session's personal data is sealed with AES-256-GCM under a per-session data key (one for
// transient data, one for the invoice-retained fields). Data keys are stored only wrapped by a
// master key that lives outside the database (ports::KeyStore).
//
// Sealed blob, format version 1 (also the format of a wrapped data key):
//
//   offset    size  field
//   0         1     format version, 0x01
//   1         12    nonce (random per seal)
//   13        n     ciphertext (n = plaintext length)
//   13 + n    16    GCM tag
//
// A blob is at least 29 bytes; a wrapped data key is exactly 61. The version byte is not part of
// the associated data: 1 is the only accepted value, so changing it only makes `open` fail. A
// future version must bind itself (e.g. by a different associated-data prefix).
//
// Associated data:
//   seal/open:            the caller's string as given (e.g. the session id), so a ciphertext
//                         cannot be moved to another row.
//   wrap_key/unwrap_key:  "visitpay.wrap.v1" || u32 big-endian length of the master key id ||
//                         master key id || context (e.g. "session:<uuid>:transient"), so a wrapped
//                         key cannot be moved to another session or key class, nor be
//                         relabelled with another master key id.
//
// Nonces are random (96 bits). A data key seals a handful of values; a master key wraps two data
// keys per session, so rotate it long before 2^32 wraps (NIST SP 800-38D §8.3).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/crypto.hpp"

namespace visitpay::common {

using DataKey = std::array<std::uint8_t, 32>;

inline constexpr std::uint8_t kEnvelopeVersion = 1;
inline constexpr std::size_t kEnvelopeNonceSize = 12;
inline constexpr std::size_t kEnvelopeTagSize = 16;
inline constexpr std::size_t kEnvelopeOverhead = 1 + kEnvelopeNonceSize + kEnvelopeTagSize;

// A fresh random key (CSPRNG; aborts if the RNG fails, like random_bytes).
DataKey generate_data_key();

// Overwrites key material that is no longer needed (not optimised away).
void cleanse(DataKey& key) noexcept;

// Aborts if OpenSSL fails: that means memory exhaustion or a broken crypto library, and returning
// an empty blob would silently lose the data.
Bytes seal(const DataKey& key, std::string_view plaintext, std::string_view associated_data);

// nullopt on any failure (wrong key, tampered or truncated blob, wrong associated data, unknown
// version); never throws on bad input, never aborts. Unauthenticated plaintext is never returned.
std::optional<std::string> open(const DataKey& key, const Bytes& blob,
                                std::string_view associated_data);

Bytes wrap_key(const DataKey& master, std::string_view master_key_id, const DataKey& data_key,
               std::string_view context);

// The caller should cleanse() the returned key once done with it.
std::optional<DataKey> unwrap_key(const DataKey& master, std::string_view master_key_id,
                                  const Bytes& wrapped, std::string_view context);

namespace detail {

using Nonce = std::array<std::uint8_t, kEnvelopeNonceSize>;

// For known-answer tests only: a nonce must never repeat under one key, which `seal` guarantees
// by drawing it at random.
Bytes seal_with_nonce(const DataKey& key, const Nonce& nonce, std::string_view plaintext,
                      std::string_view associated_data);

}  // namespace detail

}  // namespace visitpay::common
