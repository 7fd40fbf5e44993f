#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/envelope.hpp"
#include "common/result.hpp"
#include "ports/key_store.hpp"

namespace visitpay::adapters::keys {

// `keys.file`: master keys from a key-ring text (a file, or an environment variable's value).
//
//   # comments and blank lines are allowed
//   2025-01 <64 hex characters>
//   2025-06 <64 hex characters>     <- the last key line is the active key
//
// Key ids are [A-Za-z0-9._-]{1,64} and unique. Rotation appends a line; after `keys rotate` has
// rewrapped every data key under it, the old line is deleted (retired). Errors name the line or
// the path, never key material. Keys are cleansed when the store is destroyed.
class FileKeyStore final : public ports::KeyStore {
 public:
  static common::Result<FileKeyStore> from_text(std::string_view text);
  // Refuses a file that group or others may read: the mode must be 0600 or 0400.
  static common::Result<FileKeyStore> from_file(const std::string& path);

  // "<key_id> <64 random hex characters>" (no newline) for appending to a key ring; "" if the id
  // is not valid. The caller holds key material: write it out, never log it.
  static std::string generate_key_line(std::string_view key_id);
  static bool is_valid_key_id(std::string_view key_id);

  FileKeyStore(const FileKeyStore&) = delete;
  FileKeyStore& operator=(const FileKeyStore&) = delete;
  FileKeyStore(FileKeyStore&& other) noexcept;
  FileKeyStore& operator=(FileKeyStore&& other) noexcept;
  ~FileKeyStore() override;

  std::string active_key_id() const override;
  std::optional<common::DataKey> master_key(std::string_view key_id) const override;

  std::size_t size() const { return keys_.size(); }

 private:
  struct Entry {
    std::string id;
    common::DataKey key{};
  };

  FileKeyStore() = default;
  // `source` names the text in errors: "key ring" or "key ring <path>".
  static common::Result<FileKeyStore> parse(std::string_view text, std::string_view source);
  void cleanse() noexcept;

  std::vector<Entry> keys_;  // in file order; the last one is active
};

// The configured master key ring: `ring_text` (VISITPAY_MASTER_KEYS) if set, else the file
// `ring_file`; an error when neither is configured.
common::Result<FileKeyStore> load_key_ring(const std::string& ring_text,
                                           const std::string& ring_file);

}  // namespace visitpay::adapters::keys
