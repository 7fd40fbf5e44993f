#include "domain/national_id.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace {

using visitpay::domain::check_national_id;
using visitpay::domain::NationalIdKind;

// Remainder of (S + k1) mod 11 for the first check digit; 0 means the legacy rule accepts k1.
int k1_remainder(std::string_view id) {
  constexpr int kWeights[] = {3, 7, 6, 1, 8, 9, 4, 5, 2};
  int s = 0;
  for (int i = 0; i < 9; ++i) {
    s += kWeights[i] * (id[static_cast<std::size_t>(i)] - '0');
  }
  return (s + (id[9] - '0')) % 11;
}

void expect_valid(std::string_view id, NationalIdKind kind, bool allow_synthetic = false) {
  const auto v = check_national_id(id, allow_synthetic);
  EXPECT_TRUE(v.valid) << id << ": " << v.reason;
  EXPECT_EQ(v.kind, kind) << id;
  EXPECT_TRUE(v.reason.empty()) << id;
}

void expect_invalid(std::string_view id, std::string_view reason, bool allow_synthetic = true) {
  const auto v = check_national_id(id, allow_synthetic);
  EXPECT_FALSE(v.valid) << id;
  EXPECT_EQ(v.reason, reason) << id;
}

TEST(NationalId, AcceptsPlainFodselsnummerVectors) {
  for (const char* id : {"13097248022", "31129956715", "15108695088", "29020075838", "15021951940",
                         "01032300371", "02013299997", "30108299920"}) {
    expect_valid(id, NationalIdKind::fodselsnummer);
  }
}

TEST(NationalId, AcceptsDNumber) {
  expect_valid("53097248016", NationalIdKind::d_number);
}

TEST(NationalId, AcceptsTwoThousandThirtyTwoRuleOnly) {
  // Guard the vector itself: it must really fail the legacy k1 rule, otherwise this test would not
  // prove that the 2032 rule is implemented.
  ASSERT_NE(k1_remainder("30108299939"), 0);
  expect_valid("30108299939", NationalIdKind::fodselsnummer);
  // Remainder 3 is the largest the 2032 rule allows.
  ASSERT_EQ(k1_remainder("01020300007"), 3);
  expect_valid("01020300007", NationalIdKind::fodselsnummer);
}

TEST(NationalId, RejectsFirstCheckDigitOutsideTwoThousandThirtyTwoRange) {
  ASSERT_EQ(k1_remainder("01020300015"), 4);
  expect_invalid("01020300015", "check digits do not match");
  expect_invalid("15108695077", "check digits do not match");
}

TEST(NationalId, RejectsWrongCheckDigits) {
  expect_invalid("13097248032", "check digits do not match");  // k1 changed
  expect_invalid("13097248023", "check digits do not match");  // k2 changed
  expect_invalid("02013299996", "check digits do not match");  // k2 wrong under the 2032 rule
}

TEST(NationalId, RejectsEveryNumberWhoseSecondCheckDigitWouldBeTen) {
  // For this k1-valid prefix the k2 computation yields 10, so no final digit can be valid.
  for (char last = '0'; last <= '9'; ++last) {
    const std::string id = std::string("1309720176") + last;
    expect_invalid(id, "check digits do not match");
  }
}

TEST(NationalId, SyntheticNumbersNeedOptIn) {
  for (const char* id : {"10915596784",     // Test-Norge, month + 80
                         "50846202355",     // D-number + Test-Norge
                         "15507600333",     // Dolly, month + 40
                         "29422059278",     // Dolly, 29.02.2020
                         "13527248013"}) {  // H-number (month + 40, same as Dolly)
    expect_valid(id, NationalIdKind::synthetic, /*allow_synthetic=*/true);
    const auto v = check_national_id(id, /*allow_synthetic=*/false);
    EXPECT_FALSE(v.valid) << id;
    EXPECT_EQ(v.kind, NationalIdKind::synthetic) << id;
    EXPECT_EQ(v.reason, "synthetic test numbers are not accepted") << id;
  }
}

TEST(NationalId, RejectsWrongLengthOrNonDigits) {
  for (const char* id : {"", "1309724802", "130972480222", "1309724802a", " 13097248022",
                         "13097248022 ", "130972-8022", "+3097248022"}) {
    expect_invalid(id, "must be 11 digits");
  }
  // Non-ASCII digits (Arabic-Indic zero, 2 bytes) must not be taken for digits.
  expect_invalid("130972480\xD9\xA0", "must be 11 digits");
}

TEST(NationalId, RejectsImplausibleDates) {
  // All of these carry correct check digits, so only the date check can reject them.
  for (const char* id : {"32019000035",     // 32 January
                         "30029000057",     // 30 February
                         "31049000076",     // 31 April
                         "31119000044",     // 31 November
                         "01139000001",     // month 13
                         "01009000093",     // month 0
                         "00019000044",     // day 0
                         "72019000029",     // D-number, day 32
                         "01939000077"}) {  // synthetic, month 13
    expect_invalid(id, "not a valid date");
  }
}

TEST(NationalId, AcceptsDateEdges) {
  expect_valid("29029000008", NationalIdKind::fodselsnummer);  // 29 Feb in any year
  expect_valid("31129000034", NationalIdKind::fodselsnummer);
  expect_valid("01129000011", NationalIdKind::fodselsnummer);
  expect_valid("41019000077", NationalIdKind::d_number);
  expect_valid("71529000000", NationalIdKind::synthetic, true);  // D-number + Dolly, 31 December
  expect_valid("01819000049", NationalIdKind::synthetic, true);  // Test-Norge, 1 January
}

TEST(NationalId, FhNumberIsCheckedByChecksumOnly) {
  // "00" in the month position would be an invalid date for any other kind.
  expect_valid("81234500090", NationalIdKind::fh_number);
  expect_valid("98765400023", NationalIdKind::fh_number);
  const auto v = check_national_id("81234500091", true);
  EXPECT_FALSE(v.valid);
  EXPECT_EQ(v.kind, NationalIdKind::fh_number);
  EXPECT_EQ(v.reason, "check digits do not match");
}

TEST(NationalId, ReasonNeverContainsTheNumber) {
  for (const char* id : {"13097248023", "32019000035", "10915596784", "1309724802"}) {
    const auto v = check_national_id(id, false);
    ASSERT_FALSE(v.valid) << id;
    EXPECT_FALSE(v.reason.empty()) << id;
    EXPECT_EQ(v.reason.find(id), std::string_view::npos) << id;
    // Not even a fragment of the number (e.g. the birth date) may leak.
    EXPECT_EQ(v.reason.find(std::string_view(id).substr(0, 4)), std::string_view::npos) << id;
  }
}

}  // namespace
