#include "app/legacy_payers.hpp"

#include <chrono>

#include "store/wrapped_key_column.hpp"

namespace visitpay::app {

namespace {

constexpr const char* kLegacyRows = R"sql(
SELECT session_id::text, name, national_id, phone, street, postal_code, city, country
FROM payers WHERE name IS NOT NULL AND name_enc IS NULL LIMIT 500)sql";

// Guarded by name_enc IS NULL, so a row is sealed once even if two processes run this.
constexpr const char* kSealRow = R"sql(
WITH p AS (
  UPDATE payers
  SET national_id_hmac = $2::bytea, national_id_enc = $3::bytea, phone_enc = $4::bytea,
      name_enc = $5::bytea, address_enc = $6::bytea, name = NULL, national_id = NULL,
      phone = NULL, street = NULL, postal_code = NULL, city = NULL, country = NULL
  WHERE session_id = $1::uuid AND name_enc IS NULL
  RETURNING session_id
)
INSERT INTO payer_keys (session_id, key_class, master_key_id, wrapped_key, created_at)
SELECT p.session_id, x.key_class, x.master_key_id, x.wrapped_key, now()
FROM p, (VALUES ('transient', $7::text, $8::bytea), ('retained', $9::text, $10::bytea))
        AS x (key_class, master_key_id, wrapped_key)
ON CONFLICT (session_id, key_class) DO NOTHING)sql";

// Payment links saved in plaintext: sealed under the session's transient key.
constexpr const char* kLegacyLinks = R"sql(
SELECT o.session_id::text, o.payment_url, k.master_key_id, k.wrapped_key
FROM payment_orders o
JOIN payer_keys k ON k.session_id = o.session_id AND k.key_class = 'transient'
WHERE o.payment_url IS NOT NULL LIMIT 500)sql";

constexpr const char* kSealLink = R"sql(
UPDATE payment_orders SET payment_url = NULL, payment_url_enc = $2::bytea
WHERE session_id = $1::uuid AND payment_url IS NOT NULL)sql";

// What is left has no key to seal it under any more (purged): the link goes.
constexpr const char* kDropOrphanLinks = R"sql(
UPDATE payment_orders SET payment_url = NULL WHERE payment_url IS NOT NULL)sql";

// An invoice's buyer copy is the session's retained ciphertexts (same key, same fields).
constexpr const char* kLegacyInvoices = R"sql(
UPDATE invoices i
SET buyer_name_enc = p.name_enc, buyer_address_enc = p.address_enc, buyer_name = NULL,
    buyer_street = NULL, buyer_postal_code = NULL, buyer_city = NULL, buyer_country = NULL
FROM payers p
WHERE p.session_id = i.session_id AND p.name_enc IS NOT NULL AND i.buyer_name IS NOT NULL)sql";

}  // namespace

common::Result<std::int64_t> encrypt_legacy_payers(store::PgSyncConnection& db,
                                                   const PayerVault& vault,
                                                   const common::Bytes& lookup_key,
                                                   common::Logger& log) {
  std::int64_t done = 0;
  while (true) {
    auto rows = db.exec(kLegacyRows);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) break;
    for (int i = 0; i < rows->rows(); ++i) {
      const std::string session_id = rows->string(i, 0);
      domain::Payer payer;
      payer.name = rows->string(i, 1);
      payer.national_id = rows->optional_string(i, 2);
      payer.phone = rows->optional_string(i, 3);
      payer.address = {
          rows->optional_string(i, 4).value_or(""), rows->optional_string(i, 5).value_or(""),
          rows->optional_string(i, 6).value_or(""), rows->optional_string(i, 7).value_or("")};
      auto sealed = vault.seal(session_id, payer);
      if (!sealed) return std::move(sealed).error();
      std::optional<common::Sha256Digest> lookup;
      if (payer.national_id) lookup = national_id_lookup(lookup_key, *payer.national_id);
      store::PgParams p;
      p.add(session_id)
          .add_bytea(lookup)
          .add_bytea(sealed->national_id)
          .add_bytea(sealed->phone)
          .add_bytea(sealed->name)
          .add_bytea(sealed->address)
          .add(sealed->transient_key.master_key_id)
          .add_bytea(sealed->transient_key.wrapped)
          .add(sealed->retained_key.master_key_id)
          .add_bytea(sealed->retained_key.wrapped);
      auto updated = db.exec(kSealRow, p);
      if (!updated) return std::move(updated).error();
      ++done;
    }
  }
  while (true) {
    auto rows = db.exec(kLegacyLinks);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) break;
    for (int i = 0; i < rows->rows(); ++i) {
      const std::string session_id = rows->string(i, 0);
      auto key = store::wrapped_key(*rows, i, 2);
      if (!key) return common::make_error(common::ErrorCode::internal_error, "a bad wrapped key");
      auto transient = vault.unlock(session_id, KeyClass::transient, *key);
      if (!transient) return std::move(transient).error();
      const auto sealed = transient->seal("payment_url", rows->string(i, 1));
      store::PgParams p;
      p.add(session_id).add_bytea(sealed);
      auto updated = db.exec(kSealLink, p);
      if (!updated) return std::move(updated).error();
      ++done;
    }
  }
  for (const char* statement : {kDropOrphanLinks, kLegacyInvoices}) {
    auto updated = db.exec(statement);
    if (!updated) return std::move(updated).error();
    done += updated->affected_rows();
  }
  if (done > 0) log.info("payers.legacy_encrypted", {{"rows", static_cast<long long>(done)}});
  return done;
}

}  // namespace visitpay::app
