#include "store/client_store.hpp"

#include <sstream>

namespace visitpay::store {

using common::Result;

namespace {

constexpr Statement kFindByToken{"client.find_by_token", R"sql(
SELECT id, name, array_to_string(scopes, ' '), array_to_string(clinic_ids, ' ')
FROM api_clients WHERE token_sha256 = $1 AND revoked_at IS NULL)sql"};

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  std::string word;
  while (in >> word)
    out.push_back(word);
  return out;
}

}  // namespace

asio::awaitable<Result<std::optional<ClientRecord>>> ClientStore::find_active_by_token(
    const common::Sha256Digest& digest) {
  PgParams p;
  p.add(pg_bytea_hex(digest.data(), digest.size()));
  auto r = co_await pool_.execute(kFindByToken, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<ClientRecord>{};
  ClientRecord c;
  c.id = r->string(0, 0);
  c.name = r->string(0, 1);
  c.scopes = split_words(r->text(0, 2));
  c.clinic_ids = split_words(r->text(0, 3));
  co_return std::optional<ClientRecord>(std::move(c));
}

Result<void> ClientStore::add(PgSyncConnection& db, const std::string& id, const std::string& name,
                              const common::Sha256Digest& digest,
                              const std::vector<std::string>& scopes,
                              const std::vector<std::string>& clinic_ids,
                              const std::string& now_utc, bool replace) {
  PgParams p;
  p.add(id)
      .add(name)
      .add(pg_bytea_hex(digest.data(), digest.size()))
      .add(pg_text_array(scopes))
      .add(pg_text_array(clinic_ids))
      .add(now_utc);
  const char* sql = replace ? R"sql(
INSERT INTO api_clients (id, name, token_sha256, scopes, clinic_ids, created_at)
VALUES ($1, $2, $3, $4::text[], $5::text[], $6)
ON CONFLICT (name) DO UPDATE SET token_sha256 = EXCLUDED.token_sha256, scopes = EXCLUDED.scopes,
  clinic_ids = EXCLUDED.clinic_ids, created_at = EXCLUDED.created_at, revoked_at = NULL)sql"
                            : R"sql(
INSERT INTO api_clients (id, name, token_sha256, scopes, clinic_ids, created_at)
VALUES ($1, $2, $3, $4::text[], $5::text[], $6))sql";
  auto r = db.exec(sql, p);
  if (!r) return std::move(r).error();
  return {};
}

Result<bool> ClientStore::revoke(PgSyncConnection& db, const std::string& name,
                                 const std::string& now_utc) {
  PgParams p;
  p.add(name).add(now_utc);
  auto r =
      db.exec("UPDATE api_clients SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL", p);
  if (!r) return std::move(r).error();
  return r->affected_rows() == 1;
}

Result<std::vector<ClientRecord>> ClientStore::list(PgSyncConnection& db) {
  auto r = db.exec(
      "SELECT id, name, array_to_string(scopes, ' '), array_to_string(clinic_ids, ' '), "
      "created_at, revoked_at IS NOT NULL FROM api_clients ORDER BY name");
  if (!r) return std::move(r).error();
  std::vector<ClientRecord> out;
  out.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back({r->string(i, 0), r->string(i, 1), split_words(r->text(i, 2)),
                   split_words(r->text(i, 3)), r->string(i, 4), r->boolean(i, 5)});
  }
  return out;
}

}  // namespace visitpay::store
