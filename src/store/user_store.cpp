#include "store/user_store.hpp"

#include <sstream>

#include "common/time_format.hpp"

namespace visitpay::store {

using common::Result;

namespace {

constexpr Statement kFindUser{"console_user.find", R"sql(
SELECT id, username, password_hash, array_to_string(roles, ' '), array_to_string(clinic_ids, ' '),
  totp_secret, disabled_at IS NOT NULL, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
FROM console_users WHERE username = $1)sql"};

constexpr Statement kListUsers{"console_user.list", R"sql(
SELECT id, username, '', array_to_string(roles, ' '), array_to_string(clinic_ids, ' '),
  CASE WHEN totp_secret IS NULL THEN NULL ELSE '' END, disabled_at IS NOT NULL,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
FROM console_users ORDER BY username)sql"};

constexpr Statement kSetDisabled{"console_user.set_disabled", R"sql(
UPDATE console_users SET disabled_at = CASE WHEN $2::boolean THEN $3::timestamptz END
WHERE username = $1)sql"};

constexpr Statement kFailuresSince{"console_login.failures_since", R"sql(
SELECT count(*) FILTER (WHERE key = $1), count(*) FILTER (WHERE key = $2)
FROM console_login_failures WHERE key IN ($1, $2) AND at > $3)sql"};

constexpr Statement kRecordFailure{"console_login.record_failure", R"sql(
WITH forgotten AS (DELETE FROM console_login_failures WHERE at < $4)
INSERT INTO console_login_failures (key, at) VALUES ($1, $3), ($2, $3))sql",
                                   Repeat::once};

constexpr Statement kClearFailures{"console_login.clear_failures",
                                   "DELETE FROM console_login_failures WHERE key = $1"};

constexpr Statement kAcceptTotpStep{"console_user.accept_totp_step", R"sql(
UPDATE console_users SET totp_last_step = $2
WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2))sql",
                                    Repeat::once};

constexpr Statement kCreateSession{"console_session.create", R"sql(
INSERT INTO console_sessions (id_sha256, user_id, created_at, last_seen_at)
VALUES ($1, $2, $3, $3))sql",
                                   Repeat::once};

constexpr Statement kTouchSession{"console_session.touch", R"sql(
UPDATE console_sessions s SET last_seen_at = $2
FROM console_users u
WHERE s.id_sha256 = $1 AND u.id = s.user_id AND s.revoked_at IS NULL AND u.disabled_at IS NULL
  AND s.last_seen_at > $3 AND s.created_at > $4
RETURNING u.id, u.username, array_to_string(u.roles, ' '), array_to_string(u.clinic_ids, ' '))sql"};

constexpr Statement kRevokeSession{"console_session.revoke", R"sql(
UPDATE console_sessions SET revoked_at = $2 WHERE id_sha256 = $1 AND revoked_at IS NULL)sql"};

constexpr Statement kRevokeAll{"console_session.revoke_all", R"sql(
UPDATE console_sessions SET revoked_at = $2
WHERE user_id = (SELECT user_id FROM console_sessions WHERE id_sha256 = $1)
  AND revoked_at IS NULL)sql"};

constexpr std::string_view kAddUser = R"sql(
INSERT INTO console_users (id, username, password_hash, roles, clinic_ids, totp_secret, created_at)
VALUES ($1, $2, $3, $4::text[], $5::text[], $6, $7))sql";

// `users add --replace` (development users of deploy/local.sh run): the account as given, enabled.
constexpr std::string_view kReplaceUser = R"sql(
INSERT INTO console_users (id, username, password_hash, roles, clinic_ids, totp_secret, created_at)
VALUES ($1, $2, $3, $4::text[], $5::text[], $6, $7)
ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,
  roles = EXCLUDED.roles, clinic_ids = EXCLUDED.clinic_ids, totp_secret = EXCLUDED.totp_secret,
  totp_last_step = NULL, disabled_at = NULL)sql";

constexpr std::string_view kResetPassword = R"sql(
WITH u AS (
  UPDATE console_users SET password_hash = $2, totp_secret = coalesce($3, totp_secret),
    totp_last_step = CASE WHEN $3 IS NULL THEN totp_last_step END
  WHERE username = $1 RETURNING id)
UPDATE console_sessions SET revoked_at = $4
WHERE user_id IN (SELECT id FROM u) AND revoked_at IS NULL
RETURNING (SELECT count(*) FROM u))sql";

constexpr std::string_view kUserExists = "SELECT 1 FROM console_users WHERE username = $1";

constexpr std::string_view kSetRoles = R"sql(
UPDATE console_users SET roles = $2::text[], clinic_ids = $3::text[] WHERE username = $1)sql";

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  std::string word;
  while (in >> word)
    out.push_back(word);
  return out;
}

// A row of kFindUser / kListUsers (same columns).
UserRecord user_row(const PgResult& r, int i) {
  UserRecord u;
  u.id = r.string(i, 0);
  u.username = r.string(i, 1);
  u.password_hash = r.string(i, 2);
  u.roles = split_words(r.text(i, 3));
  u.clinic_ids = split_words(r.text(i, 4));
  u.totp_secret = r.optional_string(i, 5);
  u.disabled = r.boolean(i, 6);
  u.created_at = r.string(i, 7);
  return u;
}

std::string ts(ports::Clock::time_point t) {
  return common::format_rfc3339_utc(t);
}

std::string digest_param(const common::Sha256Digest& d) {
  return pg_bytea_hex(d.data(), d.size());
}

}  // namespace

asio::awaitable<Result<std::optional<UserRecord>>> UserStore::find_by_username(
    const std::string& username) {
  PgParams p;
  p.add(username);
  auto r = co_await pool_.execute(kFindUser, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<UserRecord>{};
  co_return std::optional<UserRecord>(user_row(*r, 0));
}

asio::awaitable<Result<LoginFailures>> UserStore::failures_since(const std::string& account_key,
                                                                 const std::string& address_key,
                                                                 Time since) {
  PgParams p;
  p.add(account_key).add(address_key).add(ts(since));
  auto r = co_await pool_.execute(kFailuresSince, p);
  if (!r) co_return std::move(r).error();
  co_return LoginFailures{r->int64(0, 0), r->int64(0, 1)};
}

asio::awaitable<Result<void>> UserStore::record_failure(const std::string& account_key,
                                                        const std::string& address_key, Time at,
                                                        Time forget_before) {
  PgParams p;
  p.add(account_key).add(address_key).add(ts(at)).add(ts(forget_before));
  auto r = co_await pool_.execute(kRecordFailure, p);
  if (!r) co_return std::move(r).error();
  co_return common::Ok{};
}

asio::awaitable<Result<void>> UserStore::clear_failures(const std::string& account_key) {
  PgParams p;
  p.add(account_key);
  auto r = co_await pool_.execute(kClearFailures, p);
  if (!r) co_return std::move(r).error();
  co_return common::Ok{};
}

asio::awaitable<Result<bool>> UserStore::accept_totp_step(const std::string& user_id,
                                                          std::int64_t step) {
  PgParams p;
  p.add(user_id).add(step);
  auto r = co_await pool_.execute(kAcceptTotpStep, p);
  if (!r) co_return std::move(r).error();
  co_return r->affected_rows() == 1;
}

asio::awaitable<Result<void>> UserStore::create_session(const common::Sha256Digest& id_digest,
                                                        const std::string& user_id, Time now) {
  PgParams p;
  p.add(digest_param(id_digest)).add(user_id).add(ts(now));
  auto r = co_await pool_.execute(kCreateSession, p);
  if (!r) co_return std::move(r).error();
  co_return common::Ok{};
}

asio::awaitable<Result<std::optional<SessionUser>>> UserStore::touch_session(
    const common::Sha256Digest& id_digest, Time now, Time idle_since, Time created_since) {
  PgParams p;
  p.add(digest_param(id_digest)).add(ts(now)).add(ts(idle_since)).add(ts(created_since));
  auto r = co_await pool_.execute(kTouchSession, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<SessionUser>{};
  co_return std::optional<SessionUser>(SessionUser{
      r->string(0, 0), r->string(0, 1), split_words(r->text(0, 2)), split_words(r->text(0, 3))});
}

asio::awaitable<Result<void>> UserStore::revoke_session(const common::Sha256Digest& id_digest,
                                                        Time now) {
  PgParams p;
  p.add(digest_param(id_digest)).add(ts(now));
  auto r = co_await pool_.execute(kRevokeSession, p);
  if (!r) co_return std::move(r).error();
  co_return common::Ok{};
}

asio::awaitable<Result<std::int64_t>> UserStore::revoke_all_sessions(
    const common::Sha256Digest& id_digest, Time now) {
  PgParams p;
  p.add(digest_param(id_digest)).add(ts(now));
  auto r = co_await pool_.execute(kRevokeAll, p);
  if (!r) co_return std::move(r).error();
  co_return r->affected_rows();
}

asio::awaitable<Result<std::vector<UserRecord>>> UserStore::list() {
  const PgParams none;
  auto r = co_await pool_.execute(kListUsers, none);
  if (!r) co_return std::move(r).error();
  std::vector<UserRecord> out;
  out.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i)
    out.push_back(user_row(*r, i));
  co_return out;
}

asio::awaitable<Result<bool>> UserStore::set_disabled(const std::string& username, bool disabled,
                                                      Time now) {
  PgParams p;
  p.add(username).add(disabled).add(ts(now));
  auto r = co_await pool_.execute(kSetDisabled, p);
  if (!r) co_return std::move(r).error();
  co_return r->affected_rows() == 1;
}

Result<void> UserStore::add(PgSyncConnection& db, const UserRecord& user,
                            const std::string& now_utc, bool replace) {
  PgParams p;
  p.add(user.id)
      .add(user.username)
      .add(user.password_hash)
      .add(pg_text_array(user.roles))
      .add(pg_text_array(user.clinic_ids))
      .add(user.totp_secret)
      .add(now_utc);
  auto r = db.exec(replace ? kReplaceUser : kAddUser, p);
  if (!r) return std::move(r).error();
  return common::Ok{};
}

Result<std::vector<UserRecord>> UserStore::list(PgSyncConnection& db) {
  auto r = db.exec(kListUsers.sql);
  if (!r) return std::move(r).error();
  std::vector<UserRecord> out;
  out.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i)
    out.push_back(user_row(*r, i));
  return out;
}

Result<bool> UserStore::set_disabled(PgSyncConnection& db, const std::string& username,
                                     bool disabled, const std::string& now_utc) {
  PgParams p;
  p.add(username).add(disabled).add(now_utc);
  auto r = db.exec(kSetDisabled.sql, p);
  if (!r) return std::move(r).error();
  return r->affected_rows() == 1;
}

Result<bool> UserStore::reset_password(PgSyncConnection& db, const std::string& username,
                                       const std::string& password_hash,
                                       const std::optional<std::string>& totp_secret,
                                       const std::string& now_utc) {
  PgParams exists;
  exists.add(username);
  auto found = db.exec(kUserExists, exists);
  if (!found) return std::move(found).error();
  if (found->empty()) return false;
  PgParams p;
  p.add(username).add(password_hash).add(totp_secret).add(now_utc);
  auto r = db.exec(kResetPassword, p);
  if (!r) return std::move(r).error();
  return true;
}

Result<bool> UserStore::set_roles(PgSyncConnection& db, const std::string& username,
                                  const std::vector<std::string>& roles,
                                  const std::vector<std::string>& clinic_ids) {
  PgParams p;
  p.add(username).add(pg_text_array(roles)).add(pg_text_array(clinic_ids));
  auto r = db.exec(kSetRoles, p);
  if (!r) return std::move(r).error();
  return r->affected_rows() == 1;
}

}  // namespace visitpay::store
