#include "app/line_descriptions.hpp"

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
  p.address = {"Storgata 1", "0155", "Oslo", "NO"};
  return p;
}

class LineDescriptions : public ::testing::Test {
 protected:
  FileKeyStore keys_ = [] {
    auto keys = FileKeyStore::from_text(FileKeyStore::generate_key_line("k1") + "\n");
    if (!keys) throw std::runtime_error(keys.error().detail);
    return std::move(keys.value());
  }();
  PayerVault vault_{keys_};
};

TEST_F(LineDescriptions, SealedUnderTheRetainedKeyAndBoundToSessionAndLine) {
  auto a = vault_.seal(kSession, kari());
  auto b = vault_.seal(kOther, kari());
  ASSERT_TRUE(a && b);
  const std::vector<domain::CheckoutLine> lines = {{"Konsultasjon psykiater", 65000, 0},
                                                   {"Attest", 20000, 4000}};
  auto sealed = seal_descriptions(vault_, kSession, a->retained_key, lines);
  ASSERT_TRUE(sealed) << sealed.error().detail;
  ASSERT_EQ(sealed->size(), 2U);
  const std::string blob((*sealed)[0].begin(), (*sealed)[0].end());
  EXPECT_EQ(blob.find("psykiater"), std::string::npos);

  auto retained = vault_.unlock(kSession, KeyClass::retained, a->retained_key);
  ASSERT_TRUE(retained);
  auto first = open_description(*retained, 1, (*sealed)[0]);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, "Konsultasjon psykiater");
  auto second = open_description(*retained, 2, (*sealed)[1]);
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, "Attest");
  EXPECT_FALSE(open_description(*retained, 2, (*sealed)[0]));  // another line's
  auto purged = open_description(*retained, 1, std::nullopt);
  ASSERT_TRUE(purged);
  EXPECT_EQ(*purged, std::nullopt);  // purged: absent, not an error

  // Not under the transient key, nor under another session's retained key.
  auto transient = vault_.unlock(kSession, KeyClass::transient, a->transient_key);
  ASSERT_TRUE(transient);
  EXPECT_FALSE(open_description(*transient, 1, (*sealed)[0]));
  auto other = vault_.unlock(kOther, KeyClass::retained, b->retained_key);
  ASSERT_TRUE(other);
  EXPECT_FALSE(open_description(*other, 1, (*sealed)[0]));
}

TEST_F(LineDescriptions, AKeyThatDoesNotUnwrapIsAnErrorNotAnEmptyList) {
  auto a = vault_.seal(kSession, kari());
  ASSERT_TRUE(a);
  EXPECT_FALSE(seal_descriptions(vault_, kOther, a->retained_key, {{"Attest", 1, 0}}));
}

}  // namespace
}  // namespace visitpay::app
