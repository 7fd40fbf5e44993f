// Payer data at rest: rows from before encryption are encrypted by the data migration, and the
// service refuses to run without master keys.
#include <gtest/gtest.h>

#include "adapters/keys/file/file_key_store.hpp"
#include "app/legacy_lines.hpp"
#include "app/legacy_payers.hpp"
#include "app/line_descriptions.hpp"
#include "service/service.hpp"
#include "store/privacy_store.hpp"
#include "test_service.hpp"

namespace visitpay::testing {
namespace {

TEST(PayerEncryption, LegacyPlaintextRowsAreEncryptedOnceAndEmptied) {
  const auto conninfo = migrated_database();
  auto db = store::PgSyncConnection::open(conninfo);
  ASSERT_TRUE(db);
  // A row as written before migration 0005: plaintext, no keys.
  auto seeded = db->exec(R"sql(
    WITH s AS (
      INSERT INTO sessions (id, clinic_id, visit_id, state, currency, amount_ore, vat_amount_ore,
                            checked_out_at, has_phone, request_fingerprint, created_at, updated_at)
      VALUES ('01a205a9-8b12-7fd2-be29-1ea122a66f5c', 'oslo-sentrum', 'LEGACY-1', 'pending',
              'NOK', 65000, 0, now(), true, '\x00', now(), now())
      RETURNING id
    )
    INSERT INTO payers (session_id, name, national_id, phone, street, postal_code, city, country)
    SELECT id, 'Kari Nordmann', '10915596784', '+4741234567', 'Storgata 1', '0155', 'Oslo', 'NO'
    FROM s)sql");
  ASSERT_TRUE(seeded) << seeded.error().detail;

  auto keys = adapters::keys::FileKeyStore::from_text(test_master_keys());
  ASSERT_TRUE(keys);
  const app::PayerVault vault(*keys);
  common::Logger quiet(common::LogLevel::error);
  const common::Bytes lookup_key(32, 7);
  auto done = app::encrypt_legacy_payers(*db, vault, lookup_key, quiet);
  ASSERT_TRUE(done) << done.error().detail;
  EXPECT_EQ(*done, 1);
  auto again = app::encrypt_legacy_payers(*db, vault, lookup_key, quiet);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0);  // once

  auto row = db->exec(
      "SELECT p.name, p.national_id, p.phone, p.street, p.name_enc, p.address_enc, "
      "p.national_id_enc, p.phone_enc, k.master_key_id, k.wrapped_key, r.wrapped_key, "
      "p.national_id_hmac FROM payers p "
      "JOIN payer_keys k ON k.session_id = p.session_id AND k.key_class = 'transient' "
      "JOIN payer_keys r ON r.session_id = p.session_id AND r.key_class = 'retained'");
  ASSERT_TRUE(row);
  ASSERT_EQ(row->rows(), 1);
  for (int col = 0; col <= 3; ++col)
    EXPECT_TRUE(row->is_null(0, col)) << col;
  domain::SealedPayer sealed;
  sealed.name = *row->bytea(0, 4);
  sealed.address = *row->bytea(0, 5);
  sealed.national_id = row->bytea(0, 6);
  sealed.phone = row->bytea(0, 7);
  sealed.transient_key = {row->string(0, 8), *row->bytea(0, 9)};
  sealed.retained_key = {row->string(0, 8), *row->bytea(0, 10)};
  auto opened = vault.open("01a205a9-8b12-7fd2-be29-1ea122a66f5c", sealed, true, true);
  ASSERT_TRUE(opened) << opened.error().detail;
  EXPECT_EQ(opened->name, "Kari Nordmann");
  EXPECT_EQ(opened->phone, "+4741234567");
  EXPECT_EQ(opened->address->city, "Oslo");
  const auto lookup = app::national_id_lookup(lookup_key, "10915596784");
  EXPECT_EQ(*row->bytea(0, 11), common::Bytes(lookup.begin(), lookup.end()));
}

// What `visitpay privacy check` counts as plaintext left (expected: none).
std::int64_t plaintext_left(store::PgSyncConnection& db) {
  const auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  auto counts = store::PrivacyStore::overdue(db, store::RetentionPolicy{}, now);
  if (!counts) throw std::runtime_error(counts.error().detail);
  for (const auto& c : *counts) {
    if (c.rule == "plaintext") return c.sessions;
  }
  return -1;
}

TEST(PayerEncryption, LegacyPlaintextLinesAreSealedUnderTheRetainedKeyOnce) {
  const auto conninfo = migrated_database();
  auto db = store::PgSyncConnection::open(conninfo);
  ASSERT_TRUE(db);
  // As written before migration 0019: an invoiced visit (two lines; its invoice with the fee line,
  // credited), and a cancelled one whose retained key the purge already destroyed. The credit
  // note's visit lines hold nothing, as an instance of the previous version copies lines already
  // sealed during a rolling upgrade.
  auto seeded = db->exec(R"sql(
    WITH s AS (
      INSERT INTO sessions (id, clinic_id, visit_id, state, currency, amount_ore, vat_amount_ore,
                            checked_out_at, has_phone, request_fingerprint, created_at, updated_at)
      VALUES ('01a205a9-8b12-7fd2-be29-1ea122a66f5d', 'oslo-sentrum', 'LEGACY-2', 'invoiced',
              'NOK', 85000, 4000, now(), false, '\x00', now(), now()),
             ('01a205a9-8b12-7fd2-be29-1ea122a66f5e', 'oslo-sentrum', 'LEGACY-3', 'cancelled',
              'NOK', 65000, 0, now(), true, '\x00', now(), now())
      RETURNING id
    ), l AS (
      INSERT INTO session_lines (session_id, line_no, description, amount_ore, vat_amount_ore)
      VALUES ('01a205a9-8b12-7fd2-be29-1ea122a66f5d', 1, 'Konsultasjon psykiater', 65000, 0),
             ('01a205a9-8b12-7fd2-be29-1ea122a66f5d', 2, 'Attest', 20000, 4000),
             ('01a205a9-8b12-7fd2-be29-1ea122a66f5e', 1, 'Samtaleterapi', 65000, 0)
    ), p AS (
      INSERT INTO payers (session_id, name, street, postal_code, city, country,
                          retained_purged_at)
      VALUES ('01a205a9-8b12-7fd2-be29-1ea122a66f5d', 'Kari Nordmann', 'Storgata 1', '0155',
              'Oslo', 'NO', NULL),
             ('01a205a9-8b12-7fd2-be29-1ea122a66f5e', NULL, NULL, NULL, NULL, NULL, now())
    ), i AS (
      INSERT INTO invoices (id, kind, org_number, number, session_id, credits_invoice_id, status,
                            clinic_id, reason, fee_ore, total_ore, kid, due_days, seller_name,
                            seller_foretaksregisteret, seller_vat_registered,
                            seller_bank_account, delivery_place, delivered_on, created_at,
                            updated_at)
      VALUES ('01a205a9-8b12-7fd2-be29-1ea122a66f60', 'invoice', '912345688', 1,
              '01a205a9-8b12-7fd2-be29-1ea122a66f5d', NULL, 'credited', 'oslo-sentrum',
              'window_expired', 3900, 88900, '0000000016', 14, 'Oslo Sentrum Klinikk AS', true,
              false, '15032080003', 'Oslo', current_date, now(), now()),
             ('01a205a9-8b12-7fd2-be29-1ea122a66f61', 'credit_note', '912345688', 2,
              '01a205a9-8b12-7fd2-be29-1ea122a66f5d', '01a205a9-8b12-7fd2-be29-1ea122a66f60',
              'issued', 'oslo-sentrum', 'credit', 3900, -88900, NULL, 14,
              'Oslo Sentrum Klinikk AS', true, false, '15032080003', 'Oslo', current_date, now(),
              now())
    )
    INSERT INTO invoice_lines (invoice_id, line_no, description, amount_ore, is_fee, vat_ore)
    SELECT x.invoice_id::uuid, l.line_no,
           CASE WHEN x.sign = 1 OR l.is_fee THEN l.description END, l.sign * l.amount, l.is_fee,
           l.sign * l.vat
    FROM (VALUES ('01a205a9-8b12-7fd2-be29-1ea122a66f60', 1),
                 ('01a205a9-8b12-7fd2-be29-1ea122a66f61', -1)) AS x (invoice_id, sign),
         LATERAL (VALUES (1, 'Konsultasjon psykiater', 65000, false, 0, x.sign),
                         (2, 'Attest', 20000, false, 4000, x.sign),
                         (3, 'Fakturagebyr', 3900, true, 0, x.sign))
                 AS l (line_no, description, amount, is_fee, vat, sign))sql");
  ASSERT_TRUE(seeded) << seeded.error().detail;
  EXPECT_EQ(plaintext_left(*db), 1 + 3 + 2);  // the payer, the session and the invoice lines

  auto keys = adapters::keys::FileKeyStore::from_text(test_master_keys());
  ASSERT_TRUE(keys);
  const app::PayerVault vault(*keys);
  common::Logger quiet(common::LogLevel::error);
  ASSERT_TRUE(app::encrypt_legacy_payers(*db, vault, common::Bytes(32, 7), quiet));
  auto done = app::seal_legacy_lines(*db, vault, quiet);
  ASSERT_TRUE(done) << done.error().detail;
  EXPECT_EQ(*done, 2 + 4 + 1);  // sealed; copied onto the invoice lines (2 mended); emptied
  auto again = app::seal_legacy_lines(*db, vault, quiet);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0);  // once
  EXPECT_EQ(plaintext_left(*db), 0);

  // No plaintext left but the fee line's own text; the invoice and the credit note hold the
  // session line's ciphertext; the purged session's description is gone.
  auto counts = db->exec(
      "SELECT (SELECT count(*) FROM session_lines WHERE description IS NOT NULL), "
      "(SELECT count(*) FROM invoice_lines WHERE description IS NOT NULL AND NOT is_fee), "
      "(SELECT count(*) FROM invoice_lines WHERE is_fee AND description = 'Fakturagebyr' "
      " AND description_enc IS NULL), "
      "(SELECT count(*) FROM invoice_lines il JOIN invoices i ON i.id = il.invoice_id "
      " JOIN session_lines sl ON sl.session_id = i.session_id AND sl.line_no = il.line_no "
      " WHERE il.description_enc = sl.description_enc), "
      "(SELECT count(*) FROM session_lines WHERE description_enc IS NULL)");
  ASSERT_TRUE(counts) << counts.error().detail;
  EXPECT_EQ(counts->int64(0, 0), 0);
  EXPECT_EQ(counts->int64(0, 1), 0);
  EXPECT_EQ(counts->int64(0, 2), 2);
  EXPECT_EQ(counts->int64(0, 3), 4);
  EXPECT_EQ(counts->int64(0, 4), 1);  // LEGACY-3's: nothing to seal it under

  // Sealed under the session's retained key, bound to its line: line 1 opens as line 1 only.
  auto row = db->exec(
      "SELECT k.master_key_id, k.wrapped_key, l.description_enc FROM session_lines l "
      "JOIN payer_keys k ON k.session_id = l.session_id AND k.key_class = 'retained' "
      "WHERE l.line_no = 1");
  ASSERT_TRUE(row);
  ASSERT_EQ(row->rows(), 1);
  auto retained = vault.unlock("01a205a9-8b12-7fd2-be29-1ea122a66f5d", app::KeyClass::retained,
                               {row->string(0, 0), *row->bytea(0, 1)});
  ASSERT_TRUE(retained) << retained.error().detail;
  auto opened = app::open_description(*retained, 1, row->bytea(0, 2));
  ASSERT_TRUE(opened) << opened.error().detail;
  EXPECT_EQ(*opened, "Konsultasjon psykiater");
  EXPECT_FALSE(app::open_description(*retained, 2, row->bytea(0, 2)));
}

TEST(PayerEncryption, TheServiceRefusesToStartWithoutMasterKeys) {
  auto config = test_config(migrated_database());
  config.master_keys.clear();
  config.master_keys_file.clear();
  ports::ManualClock clock(ports::Clock::time_point{});
  common::Logger quiet(common::LogLevel::error);
  service::Service service(config, clock, quiet);
  auto started = service.start(false);
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().detail.find("no master keys"), std::string::npos);

  config.master_keys_file = "/nonexistent/master.keys";
  service::Service with_missing_file(config, clock, quiet);
  EXPECT_FALSE(with_missing_file.start(false));
}

}  // namespace
}  // namespace visitpay::testing
