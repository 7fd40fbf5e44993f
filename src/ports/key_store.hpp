#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/envelope.hpp"

namespace visitpay::ports {

// The master keys that wrap the per-session data keys (common/envelope.hpp). They come from
// outside the database (a key file, the environment, later a KMS or Vault) and are loaded at
// start-up, so lookups are synchronous; a KMS adapter would cache. Master keys never leave the
// process and are never logged: only their ids appear in logs, errors and the database.
//
// Rotation: a new key becomes active, every data key is rewrapped under it, and only then is the
// old key retired (removed from the store); until then both are available.
class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // The key that wraps new data keys; its id is stored next to each wrapped key.
  virtual std::string active_key_id() const = 0;

  // nullopt if no such key (unknown or retired). The caller should common::cleanse() the copy
  // once done with it.
  virtual std::optional<common::DataKey> master_key(std::string_view key_id) const = 0;
};

}  // namespace visitpay::ports
