#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/crypto.hpp"
#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "ports/key_store.hpp"

namespace visitpay::app {

// Each session's payer data is encrypted under two data keys of its own (AES-256-GCM, see
// common/envelope.hpp), stored only wrapped by a master key from the KeyStore:
//   transient  national id and phone: destroyed when the payment purpose is fulfilled
//   retained   name and address: copied onto an invoice and kept for the bookkeeping period
// Every ciphertext binds "session:<id>:<class>:<field>" as associated data and every wrapped key
// "session:<id>:<class>", so neither can be moved to another row, class or field. Destroying a
// wrapped key (crypto-shredding) makes its fields unreadable for good, backups included.
enum class KeyClass { transient, retained };
std::string_view key_class_name(KeyClass key_class);

struct WrappedKey {
  std::string master_key_id;  // which master key wraps it (rotation rewraps)
  common::Bytes wrapped;
};

struct SealedPayer {
  WrappedKey transient_key;
  WrappedKey retained_key;
  std::optional<common::Bytes> national_id;  // under the transient key
  std::optional<common::Bytes> phone;        // under the transient key
  common::Bytes name;                        // under the retained key
  common::Bytes address;                     // under the retained key: street, postal code, city,
                                             // country
};

// What could be decrypted. A class whose key was destroyed (purged) reads as absent.
struct OpenedPayer {
  bool transient_available = false;
  bool retained_available = false;
  std::optional<std::string> national_id;
  std::optional<std::string> phone;
  std::optional<std::string> name;
  std::optional<domain::Address> address;
};

class PayerVault {
 public:
  explicit PayerVault(const ports::KeyStore& keys) : keys_(keys) {}

  // Fresh data keys for the session, wrapped under the active master key. Errors name no data.
  common::Result<SealedPayer> seal(std::string_view session_id, const domain::Payer& payer) const;

  // `transient_key` / `retained_key` nullopt: that class was purged. A key that does not unwrap
  // or a field that does not open (tampered, swapped between rows) is an error, never garbage.
  common::Result<OpenedPayer> open(std::string_view session_id, const SealedPayer& sealed,
                                   bool transient_key_present, bool retained_key_present) const;

  // The same data key wrapped under the active master key (master key rotation).
  common::Result<WrappedKey> rewrap(std::string_view session_id, KeyClass key_class,
                                    const WrappedKey& key) const;

 private:
  const ports::KeyStore& keys_;
};

}  // namespace visitpay::app
