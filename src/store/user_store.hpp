#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "common/result.hpp"
#include "ports/clock.hpp"
#include "store/pg_pool.hpp"
#include "store/pg_sync.hpp"

namespace visitpay::store {

// A person's console account as stored (the password only as its Argon2id hash).
struct UserRecord {
  std::string id;
  std::string username;
  std::string password_hash;
  std::vector<std::string> roles;
  std::vector<std::string> clinic_ids;  // empty: every clinic
  std::optional<std::string> totp_secret;
  bool disabled = false;
  std::string created_at;  // RFC 3339 UTC (lists only)
};

// Counts of recent failed logins for an account and for an address.
struct LoginFailures {
  std::int64_t account = 0;
  std::int64_t address = 0;
};

// The person behind a live web session.
struct SessionUser {
  std::string user_id;
  std::string username;
  std::vector<std::string> roles;
  std::vector<std::string> clinic_ids;
};

// Console users, their web sessions and failed logins: every statement on these tables.
class UserStore {
 public:
  using Time = ports::Clock::time_point;
  explicit UserStore(PgPool& pool) : pool_(pool) {}

  asio::awaitable<common::Result<std::optional<UserRecord>>> find_by_username(
      const std::string& username);
  asio::awaitable<common::Result<LoginFailures>> failures_since(const std::string& account_key,
                                                                const std::string& address_key,
                                                                Time since);
  // Records one failure under both keys and forgets failures older than `forget_before`.
  asio::awaitable<common::Result<void>> record_failure(const std::string& account_key,
                                                       const std::string& address_key, Time at,
                                                       Time forget_before);
  asio::awaitable<common::Result<void>> clear_failures(const std::string& account_key);
  // Accepts a TOTP time step once: false when it (or a later one) was already used.
  asio::awaitable<common::Result<bool>> accept_totp_step(const std::string& user_id,
                                                         std::int64_t step);

  asio::awaitable<common::Result<void>> create_session(const common::Sha256Digest& id_digest,
                                                       const std::string& user_id, Time now);
  // The session's person if the session is live (not revoked, user enabled, within the idle and
  // absolute bounds); marks it seen now.
  asio::awaitable<common::Result<std::optional<SessionUser>>> touch_session(
      const common::Sha256Digest& id_digest, Time now, Time idle_since, Time created_since);
  asio::awaitable<common::Result<void>> revoke_session(const common::Sha256Digest& id_digest,
                                                       Time now);
  // Every session of the person who holds this one (logout everywhere).
  asio::awaitable<common::Result<std::int64_t>> revoke_all_sessions(
      const common::Sha256Digest& id_digest, Time now);

  asio::awaitable<common::Result<std::vector<UserRecord>>> list();
  asio::awaitable<common::Result<bool>> set_disabled(const std::string& username, bool disabled,
                                                     Time now);

  // Admin commands (blocking; the CLI).
  static common::Result<void> add(PgSyncConnection& db, const UserRecord& user,
                                  const std::string& now_utc, bool replace);
  static common::Result<std::vector<UserRecord>> list(PgSyncConnection& db);
  static common::Result<bool> set_disabled(PgSyncConnection& db, const std::string& username,
                                           bool disabled, const std::string& now_utc);
  // A new password hash (and, when given, a new TOTP secret); revokes the person's sessions.
  static common::Result<bool> reset_password(PgSyncConnection& db, const std::string& username,
                                             const std::string& password_hash,
                                             const std::optional<std::string>& totp_secret,
                                             const std::string& now_utc);
  static common::Result<bool> set_roles(PgSyncConnection& db, const std::string& username,
                                        const std::vector<std::string>& roles,
                                        const std::vector<std::string>& clinic_ids);

 private:
  PgPool& pool_;
};

}  // namespace visitpay::store
