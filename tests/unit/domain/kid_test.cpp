#include "domain/kid.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>

namespace {

using visitpay::domain::is_valid_kid;
using visitpay::domain::kid_checksum_ok;
using visitpay::domain::kid_for_invoice;
using visitpay::domain::kid_mod10_check;
using visitpay::domain::kid_mod11_check;
using visitpay::domain::KidAlgorithm;
using visitpay::domain::KidLength;
using visitpay::domain::make_kid;

struct Row {
  const char* kid;
  bool mod10;
  bool mod11;
};

// norway.md §1 test-vector table (rows within 4..25 characters).
constexpr Row kRows[] = {
    {"12344", true, false},
    {"12343", false, true},
    {"100001928231", true, false},
    {"100001928232", false, false},
    {"602243", true, false},
    {"1000005-", false, true},
    {"01290865", true, false},
    {"2707841373001170014", false, true},
    {"2707841373001170015", false, false},
    {"2345674", false, false},
    {"2345676", true, true},
    {"12345678903", true, true},
    {"1234567890123456789012340", true, false},
    {"1234567890123456789012341", false, true},
};

TEST(Kid, ReferenceTableDefaultLength) {
  for (const Row& r : kRows) {
    EXPECT_EQ(is_valid_kid(r.kid, KidAlgorithm::mod10), r.mod10) << r.kid;
    EXPECT_EQ(is_valid_kid(r.kid, KidAlgorithm::mod11), r.mod11) << r.kid;
    EXPECT_EQ(kid_checksum_ok(r.kid, KidAlgorithm::mod10), r.mod10) << r.kid;
    EXPECT_EQ(kid_checksum_ok(r.kid, KidAlgorithm::mod11), r.mod11) << r.kid;
    EXPECT_EQ(is_valid_kid(r.kid, KidAlgorithm::mod10, KidLength{2, 25}), r.mod10) << r.kid;
    EXPECT_EQ(is_valid_kid(r.kid, KidAlgorithm::mod11, KidLength{2, 25}), r.mod11) << r.kid;
  }
}

TEST(Kid, ReferenceTableChecksComputeTheLastCharacter) {
  // Every row that is valid under an algorithm must be reproduced by make_kid from its base.
  for (const Row& r : kRows) {
    const std::string kid = r.kid;
    const std::string base = kid.substr(0, kid.size() - 1);
    if (r.mod10) {
      EXPECT_EQ(kid_mod10_check(base), kid.back()) << kid;
      EXPECT_EQ(make_kid(base, KidAlgorithm::mod10, false), kid) << kid;
    }
    if (r.mod11) {
      EXPECT_EQ(kid_mod11_check(base), kid.back()) << kid;
      EXPECT_EQ(make_kid(base, KidAlgorithm::mod11, true), kid) << kid;
    }
  }
}

TEST(Kid, ThreeCharacterRowsNeedShorterMinimumLength) {
  // "310" (MOD11 r = 0 -> '0') and "40-" (MOD11 r = 1 -> '-') have valid check characters but are
  // shorter than the default minimum of 4.
  for (const char* kid : {"310", "40-"}) {
    EXPECT_TRUE(kid_checksum_ok(kid, KidAlgorithm::mod11)) << kid;
    EXPECT_FALSE(kid_checksum_ok(kid, KidAlgorithm::mod10)) << kid;
    EXPECT_FALSE(is_valid_kid(kid, KidAlgorithm::mod11)) << kid;
    EXPECT_TRUE(is_valid_kid(kid, KidAlgorithm::mod11, KidLength{2, 25})) << kid;
    EXPECT_FALSE(is_valid_kid(kid, KidAlgorithm::mod10, KidLength{2, 25})) << kid;
  }
  EXPECT_EQ(kid_mod11_check("31"), '0');
  EXPECT_EQ(kid_mod11_check("40"), '-');
}

TEST(Kid, RejectsTooShortAndTooLong) {
  for (auto alg : {KidAlgorithm::mod10, KidAlgorithm::mod11}) {
    EXPECT_FALSE(is_valid_kid("122", alg));
    EXPECT_FALSE(is_valid_kid("122", alg, KidLength{2, 25}));  // also a wrong check digit
    EXPECT_FALSE(is_valid_kid("12345678901234567890123456", alg));
  }
  // A 26-character KID with a correct check digit is rejected by length alone.
  const std::string base25 = "1234567890123456789012345";
  const std::string kid26 = base25 + kid_mod10_check(base25);
  ASSERT_EQ(kid26.size(), 26u);
  EXPECT_TRUE(kid_checksum_ok(kid26, KidAlgorithm::mod10));
  EXPECT_FALSE(is_valid_kid(kid26, KidAlgorithm::mod10));
  EXPECT_TRUE(is_valid_kid(kid26, KidAlgorithm::mod10, KidLength{4, 26}));
  // Bank agreements pin an exact length.
  EXPECT_TRUE(is_valid_kid("602243", KidAlgorithm::mod10, KidLength{6, 6}));
  EXPECT_FALSE(is_valid_kid("602243", KidAlgorithm::mod10, KidLength{7, 7}));
}

TEST(Kid, Mod10SumEndingInZeroGivesZero) {
  EXPECT_EQ(kid_mod10_check("123456789012345678901234"), '0');
  EXPECT_EQ(kid_mod10_check("0000"), '0');
  EXPECT_EQ(kid_mod10_check("1234"), '4');
  EXPECT_EQ(kid_mod10_check("60224"), '3');
}

TEST(Kid, Mod11KnownChecks) {
  EXPECT_EQ(kid_mod11_check("1234"), '3');
  EXPECT_EQ(kid_mod11_check("1000005"), '-');
  EXPECT_EQ(kid_mod11_check("123456789012345678901234"), '1');
  EXPECT_EQ(kid_mod11_check("0129086"), '-');
}

TEST(Kid, ChecksRejectEmptyOrNonDigitBase) {
  EXPECT_EQ(kid_mod10_check(""), '\0');
  EXPECT_EQ(kid_mod11_check(""), '\0');
  EXPECT_EQ(kid_mod10_check("12a4"), '\0');
  EXPECT_EQ(kid_mod11_check("12 4"), '\0');
}

TEST(Kid, ChecksumRejectsMalformedInput) {
  EXPECT_FALSE(kid_checksum_ok("", KidAlgorithm::mod10));
  EXPECT_FALSE(kid_checksum_ok("0", KidAlgorithm::mod10));         // no base digit
  EXPECT_FALSE(kid_checksum_ok("1000005-", KidAlgorithm::mod10));  // dash is MOD11-only
  EXPECT_FALSE(kid_checksum_ok("10-0005-", KidAlgorithm::mod11));  // dash only at the end
  EXPECT_FALSE(kid_checksum_ok(" 12343", KidAlgorithm::mod11));
  EXPECT_FALSE(kid_checksum_ok("12343 ", KidAlgorithm::mod11));
  EXPECT_FALSE(kid_checksum_ok("1234-", KidAlgorithm::mod11));  // real check is '3'
}

TEST(Kid, MakeKidMod11DashNeedsOptIn) {
  EXPECT_EQ(make_kid("0129086", KidAlgorithm::mod11, false), std::nullopt);
  EXPECT_EQ(make_kid("0129086", KidAlgorithm::mod11, true), "0129086-");
  EXPECT_EQ(make_kid("0129086", KidAlgorithm::mod10, false), "01290865");
  EXPECT_EQ(make_kid("1000005", KidAlgorithm::mod11, false), std::nullopt);
  EXPECT_EQ(make_kid("1000005", KidAlgorithm::mod11, true), "1000005-");
  EXPECT_EQ(make_kid("1234", KidAlgorithm::mod11, false), "12343");
  EXPECT_EQ(make_kid("1234", KidAlgorithm::mod10, false), "12344");
}

TEST(Kid, MakeKidRejectsBadBase) {
  EXPECT_EQ(make_kid("", KidAlgorithm::mod10, true), std::nullopt);
  EXPECT_EQ(make_kid("12a", KidAlgorithm::mod10, true), std::nullopt);
  EXPECT_EQ(make_kid("123456789012345678901234", KidAlgorithm::mod10, false),
            "1234567890123456789012340");
  EXPECT_EQ(make_kid("1234567890123456789012345", KidAlgorithm::mod10, false), std::nullopt);
}

TEST(Kid, KidForInvoicePadsAndAppendsCheck) {
  EXPECT_EQ(kid_for_invoice(60224, 5, KidAlgorithm::mod10, false), "602243");
  EXPECT_EQ(kid_for_invoice(60224, 5, KidAlgorithm::mod11, false), "602248");
  EXPECT_EQ(kid_for_invoice(1234, 4, KidAlgorithm::mod11, false), "12343");
  EXPECT_EQ(kid_for_invoice(42, 8, KidAlgorithm::mod10, false),
            make_kid("00000042", KidAlgorithm::mod10, false));
  EXPECT_EQ(kid_for_invoice(0, 4, KidAlgorithm::mod10, false), "00000");
  const auto padded = kid_for_invoice(7, 10, KidAlgorithm::mod10, false);
  ASSERT_TRUE(padded.has_value());
  EXPECT_EQ(padded->size(), 11u);
  EXPECT_EQ(padded->substr(0, 10), "0000000007");
  EXPECT_TRUE(is_valid_kid(*padded, KidAlgorithm::mod10));
}

TEST(Kid, KidForInvoiceMod11DashHandling) {
  // Invoice 60223 yields a MOD11 remainder of 1.
  EXPECT_EQ(kid_for_invoice(60223, 5, KidAlgorithm::mod11, false), std::nullopt);
  EXPECT_EQ(kid_for_invoice(60223, 5, KidAlgorithm::mod11, true), "60223-");
  EXPECT_EQ(kid_for_invoice(129086, 7, KidAlgorithm::mod11, false), std::nullopt);
}

TEST(Kid, KidForInvoiceRejectsImpossibleWidths) {
  EXPECT_EQ(kid_for_invoice(123456, 5, KidAlgorithm::mod10, false), std::nullopt);  // no truncation
  EXPECT_EQ(kid_for_invoice(1, 0, KidAlgorithm::mod10, false), std::nullopt);
  EXPECT_EQ(kid_for_invoice(1, 25, KidAlgorithm::mod10, false), std::nullopt);  // 26 chars
  EXPECT_EQ(kid_for_invoice(1, SIZE_MAX, KidAlgorithm::mod10, false), std::nullopt);
  const auto max = kid_for_invoice(UINT64_MAX, 24, KidAlgorithm::mod10, false);
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->substr(0, 24), "000018446744073709551615");
  EXPECT_EQ(kid_for_invoice(UINT64_MAX, 19, KidAlgorithm::mod10, false), std::nullopt);
}

TEST(Kid, InvoiceKidHasTheConfiguredLength) {
  EXPECT_EQ(invoice_kid(60224, KidAlgorithm::mod10, 6, false), "602243");  // Monitor ERP example
  EXPECT_EQ(invoice_kid(42, KidAlgorithm::mod10, 10, false), "0000000422");
  for (std::uint64_t n = 1; n <= 2000; ++n) {
    for (const auto alg : {KidAlgorithm::mod10, KidAlgorithm::mod11}) {
      const auto kid = invoice_kid(n, alg, 10, false);
      ASSERT_TRUE(kid.has_value()) << n;
      EXPECT_EQ(kid->size(), 10u);
      EXPECT_TRUE(is_valid_kid(*kid, alg)) << *kid;
      EXPECT_NE(kid->back(), '-');
    }
  }
  EXPECT_EQ(invoice_kid(1, KidAlgorithm::mod10, 3, false), std::nullopt);
  EXPECT_EQ(invoice_kid(1, KidAlgorithm::mod10, 26, false), std::nullopt);
  EXPECT_EQ(invoice_kid(100000, KidAlgorithm::mod10, 6, false), std::nullopt);  // does not fit
}

TEST(Kid, InvoiceKidMod11WithoutDashUsesTheVariantDigit) {
  // 60223 gives '-' under MOD11 (the vector above): variant digit 1 instead of 0.
  EXPECT_EQ(invoice_kid(60223, KidAlgorithm::mod11, 7, true), "060223-");
  const auto kid = invoice_kid(60223, KidAlgorithm::mod11, 7, false);
  ASSERT_TRUE(kid.has_value());
  EXPECT_EQ(kid->substr(0, 6), "160223");
  EXPECT_TRUE(is_valid_kid(*kid, KidAlgorithm::mod11));
  // Variant 0 whenever it works: 1234 -> "12343" (Ondkloss vector) behind "0".
  EXPECT_EQ(invoice_kid(1234, KidAlgorithm::mod11, 6, false), "012343");
  // Numbers never collide: distinct invoice numbers give distinct KIDs.
  std::set<std::string> seen;
  for (std::uint64_t n = 1; n <= 5000; ++n) {
    seen.insert(invoice_kid(n, KidAlgorithm::mod11, 8, false).value());
  }
  EXPECT_EQ(seen.size(), 5000u);
}

}  // namespace
