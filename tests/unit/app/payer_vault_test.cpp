#include "app/payer_vault.hpp"

#include <gtest/gtest.h>

#include <string>

#include "adapters/keys/file/file_key_store.hpp"

namespace visitpay::app {
namespace {

using adapters::keys::FileKeyStore;

constexpr const char* kSession = "01a205a9-8b12-7fd2-be29-1ea122a66f5c";
constexpr const char* kOther = "01a205a9-8b12-7fd2-be29-1ea122a66f5d";

domain::Payer kari() {
  domain::Payer p;
  p.name = "Kari Nordmann";
  p.national_id = "10915596784";
  p.phone = "+4741234567";
  p.address = {"Storgata 1", "0155", "Oslo", "NO"};
  return p;
}

FileKeyStore ring(const std::string& text) {
  auto keys = FileKeyStore::from_text(text);
  if (!keys) throw std::runtime_error(keys.error().detail);
  return std::move(keys.value());
}

std::string contains(const common::Bytes& blob, const std::string& needle) {
  const std::string text(blob.begin(), blob.end());
  return text.find(needle) == std::string::npos ? "" : needle;
}

TEST(PayerVault, SealsUnderTwoKeysAndOpensBoth) {
  const auto keys = ring(FileKeyStore::generate_key_line("k1") + "\n");
  const PayerVault vault(keys);
  auto sealed = vault.seal(kSession, kari());
  ASSERT_TRUE(sealed) << sealed.error().detail;
  EXPECT_EQ(sealed->transient_key.master_key_id, "k1");
  ASSERT_TRUE(sealed->national_id && sealed->phone);
  // No plaintext in any blob.
  for (const auto* blob :
       {&*sealed->national_id, &*sealed->phone, &sealed->name, &sealed->address}) {
    EXPECT_EQ(contains(*blob, "10915596784"), "");
    EXPECT_EQ(contains(*blob, "Kari"), "");
    EXPECT_EQ(contains(*blob, "Storgata"), "");
  }
  auto opened = vault.open(kSession, *sealed, true, true);
  ASSERT_TRUE(opened) << opened.error().detail;
  EXPECT_EQ(opened->national_id, "10915596784");
  EXPECT_EQ(opened->phone, "+4741234567");
  EXPECT_EQ(opened->name, "Kari Nordmann");
  ASSERT_TRUE(opened->address);
  EXPECT_EQ(opened->address->street, "Storgata 1");
  EXPECT_EQ(opened->address->postal_code, "0155");
  EXPECT_EQ(opened->address->city, "Oslo");
  EXPECT_EQ(opened->address->country, "NO");
}

TEST(PayerVault, APurgedClassReadsAsAbsent) {
  const auto keys = ring(FileKeyStore::generate_key_line("k1"));
  const PayerVault vault(keys);
  auto sealed = vault.seal(kSession, kari());
  ASSERT_TRUE(sealed);
  auto opened = vault.open(kSession, *sealed, /*transient_key_present=*/false, true);
  ASSERT_TRUE(opened);
  EXPECT_FALSE(opened->transient_available);
  EXPECT_FALSE(opened->national_id);
  EXPECT_FALSE(opened->phone);
  EXPECT_EQ(opened->name, "Kari Nordmann");
}

TEST(PayerVault, RowsCannotBeSwapped) {
  const auto keys = ring(FileKeyStore::generate_key_line("k1"));
  const PayerVault vault(keys);
  auto sealed = vault.seal(kSession, kari());
  ASSERT_TRUE(sealed);
  // Another session's id: the wrapped keys do not unwrap.
  EXPECT_FALSE(vault.open(kOther, *sealed, true, true));
  // A field moved to another field or class does not decrypt.
  auto swapped = *sealed;
  swapped.phone = sealed->national_id;
  EXPECT_FALSE(vault.open(kSession, swapped, true, false));
  auto cross = *sealed;
  cross.name = *sealed->phone;
  EXPECT_FALSE(vault.open(kSession, cross, false, true));
  // Errors name no personal data.
  const auto error = vault.open(kOther, *sealed, true, true).error().detail;
  EXPECT_EQ(error.find("1091"), std::string::npos);
}

TEST(PayerVault, RotationRewrapsUnderTheNewKeyAndTheOldOneCanRetire) {
  const auto k1 = FileKeyStore::generate_key_line("k1");
  const auto k2 = FileKeyStore::generate_key_line("k2");
  const auto old_ring = ring(k1);
  auto sealed = PayerVault(old_ring).seal(kSession, kari());
  ASSERT_TRUE(sealed);

  const auto both = ring(k1 + "\n" + k2 + "\n");  // k2 is active now
  const PayerVault rotating(both);
  auto transient = rotating.rewrap(kSession, KeyClass::transient, sealed->transient_key);
  auto retained = rotating.rewrap(kSession, KeyClass::retained, sealed->retained_key);
  ASSERT_TRUE(transient && retained);
  EXPECT_EQ(transient->master_key_id, "k2");
  sealed->transient_key = *transient;
  sealed->retained_key = *retained;

  const auto new_ring = ring(k2);  // k1 retired
  auto opened = PayerVault(new_ring).open(kSession, *sealed, true, true);
  ASSERT_TRUE(opened) << opened.error().detail;
  EXPECT_EQ(opened->national_id, "10915596784");
  // Without rotation the retired key would have made the data unreadable.
  auto stale = PayerVault(old_ring).seal(kSession, kari());
  ASSERT_TRUE(stale);
  EXPECT_FALSE(PayerVault(new_ring).open(kSession, *stale, true, true));
}

}  // namespace
}  // namespace visitpay::app
