#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/crypto.hpp"
#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "domain/sealed_payer.hpp"
#include "ports/key_store.hpp"

namespace visitpay::app {

// Each session's payer data is encrypted under two data keys of its own (AES-256-GCM, see
// common/envelope.hpp), stored only wrapped by a master key from the KeyStore:
//   transient  national id and phone: destroyed when the payment purpose is fulfilled
//   retained   name, address and e-mail address: the invoice's buyer (name and address copied
//              onto it), kept for the bookkeeping period
// Every ciphertext binds "session:<id>:<class>:<field>" as associated data and every wrapped key
// "session:<id>:<class>", so neither can be moved to another row, class or field. Destroying a
// wrapped key (crypto-shredding) makes its fields unreadable for good, backups included.
using domain::key_class_name;
using domain::KeyClass;
using domain::SealedPayer;
using domain::WrappedKey;

// What could be decrypted. A class whose key was destroyed (purged) reads as absent.
struct OpenedPayer {
  bool transient_available = false;
  bool retained_available = false;
  std::optional<std::string> national_id;
  std::optional<std::string> phone;
  std::optional<std::string> payment_url;
  std::optional<std::string> name;
  std::optional<domain::Address> address;
  std::optional<std::string> email;
};

// The keyed hash (HMAC-SHA256 under the look-up key) of a national id, digits only: finds a
// person's rows for data-subject requests without decrypting anything.
common::Sha256Digest national_id_lookup(const common::Bytes& lookup_key,
                                        std::string_view national_id);

// The address field's plaintext: street, postal code, city and country joined by U+001F.
std::optional<domain::Address> split_address(const std::string& text);

// One class's data key of one session, unwrapped: opens and seals that class's fields (bound to
// session, class and field) without unwrapping again. Wipes the key when destroyed.
class UnlockedKey {
 public:
  UnlockedKey(UnlockedKey&& other) noexcept;
  UnlockedKey(const UnlockedKey&) = delete;
  UnlockedKey& operator=(const UnlockedKey&) = delete;
  UnlockedKey& operator=(UnlockedKey&&) = delete;
  ~UnlockedKey();

  // nullopt when `blob` is absent; an error (never garbage) when it does not open.
  common::Result<std::optional<std::string>> open(std::string_view field,
                                                  const std::optional<common::Bytes>& blob) const;
  common::Bytes seal(std::string_view field, std::string_view plaintext) const;

 private:
  friend class PayerVault;
  UnlockedKey(std::string context, const common::DataKey& key);

  std::string context_;  // "session:<id>:<class>"
  common::DataKey key_{};
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

  // A data key unwrapped once, for several fields of its class (see UnlockedKey).
  common::Result<UnlockedKey> unlock(std::string_view session_id, KeyClass key_class,
                                     const WrappedKey& key) const;

  // The same data key wrapped under the active master key (master key rotation).
  common::Result<WrappedKey> rewrap(std::string_view session_id, KeyClass key_class,
                                    const WrappedKey& key) const;

 private:
  const ports::KeyStore& keys_;
};

}  // namespace visitpay::app
