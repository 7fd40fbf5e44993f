#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/crypto.hpp"

namespace visitpay::domain {

// A session's payer data as stored: ciphertexts under two data keys of the session's own, which
// are kept only wrapped by a master key (see app/payer_vault.hpp for the scheme).
enum class KeyClass { transient, retained };
inline std::string_view key_class_name(KeyClass key_class) {
  return key_class == KeyClass::transient ? "transient" : "retained";
}

struct WrappedKey {
  std::string master_key_id;  // which master key wraps it (rotation rewraps)
  common::Bytes wrapped;
};

struct SealedPayer {
  WrappedKey transient_key;
  WrappedKey retained_key;
  std::optional<common::Bytes> national_id;  // under the transient key
  std::optional<common::Bytes> phone;        // under the transient key
  std::optional<common::Bytes> payment_url;  // under the transient key, once the order exists
  common::Bytes name;                        // under the retained key
  common::Bytes address;                     // under the retained key: street, postal code, city,
                                             // country
  std::optional<common::Bytes> email;        // under the retained key, when the payer gave one
};

}  // namespace visitpay::domain
