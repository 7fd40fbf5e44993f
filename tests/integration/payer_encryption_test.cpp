// Payer data at rest: rows from before encryption are encrypted by the data migration, and the
// service refuses to run without master keys.
#include <gtest/gtest.h>

#include "adapters/keys/file/file_key_store.hpp"
#include "app/legacy_payers.hpp"
#include "service/service.hpp"
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
