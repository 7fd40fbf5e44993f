#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "common/result.hpp"
#include "store/pg_pool.hpp"
#include "store/pg_sync.hpp"

namespace visitpay::store {

struct ClientRecord {
  std::string id;
  std::string name;
  std::vector<std::string> scopes;
  std::vector<std::string> clinic_ids;  // empty: every clinic
  std::string created_at;
  bool revoked = false;
};

// API clients. Tokens are stored only as SHA-256 digests.
class ClientStore {
 public:
  explicit ClientStore(PgPool& pool) : pool_(pool) {}

  asio::awaitable<common::Result<std::optional<ClientRecord>>> find_active_by_token(
      const common::Sha256Digest& token_digest);

  // Admin commands (blocking; run from the CLI, never on an I/O thread).
  static common::Result<void> add(PgSyncConnection& db, const std::string& id,
                                  const std::string& name, const common::Sha256Digest& digest,
                                  const std::vector<std::string>& scopes,
                                  const std::vector<std::string>& clinic_ids,
                                  const std::string& now_utc, bool replace);
  static common::Result<bool> revoke(PgSyncConnection& db, const std::string& name,
                                     const std::string& now_utc);
  static common::Result<std::vector<ClientRecord>> list(PgSyncConnection& db);

 private:
  PgPool& pool_;
};

}  // namespace visitpay::store
