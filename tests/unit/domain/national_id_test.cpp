#include "domain/national_id.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <string_view>

#include "common/time_format.hpp"

namespace {

using visitpay::domain::NationalIdKind;
using visitpay::domain::NationalIdProblem;
using namespace std::chrono;  // NOLINT(google-build-using-namespace)

// The day the examples are checked on, unless a test says otherwise.
constexpr year_month_day kToday{year{2026}, November, day{22}};

visitpay::domain::NationalIdVerdict check_national_id(std::string_view id, bool allow_synthetic,
                                                      year_month_day today = kToday) {
  return visitpay::domain::check_national_id(id, allow_synthetic, today);
}

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
                         "01032300371", "30108299920"}) {
    expect_valid(id, NationalIdKind::fodselsnummer);
  }
  // Skatteetaten's example of a number valid under both rules is born on 2 January 2032.
  const year_month_day born{year{2032}, January, day{2}};
  EXPECT_TRUE(check_national_id("02013299997", false, born).valid);
  EXPECT_EQ(check_national_id("02013299997", false).reason, "the birth date is in the future");
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
                         "71529000000"}) {  // D-number + Dolly (month + 40; no H-number is a D)
    expect_valid(id, NationalIdKind::synthetic, /*allow_synthetic=*/true);
    const auto v = check_national_id(id, /*allow_synthetic=*/false);
    EXPECT_FALSE(v.valid) << id;
    EXPECT_EQ(v.kind, NationalIdKind::synthetic) << id;
    EXPECT_EQ(v.problem, NationalIdProblem::synthetic) << id;
    EXPECT_EQ(v.reason, "synthetic test numbers are not accepted") << id;
  }
}

TEST(NationalId, HNumbersAreHealthSectorIdentifiersWithoutOptIn) {
  // Month + 40: given by health institutions; accepted in production. Dolly's synthetic numbers
  // (also month + 40) cannot be told apart and are accepted with them.
  for (const char* id : {"13527248013",     // fnrvalidator's H-number, 13.12.1972
                         "15507600333",     // Dolly, 15.10.1976
                         "15507600090",     // 15.10.1976, another individual number
                         "29422059278",     // 29.02.2020 (a leap year)
                         "29420050060"}) {  // 29.02.2000: individual number >= 500, a leap year
    expect_valid(id, NationalIdKind::h_number, /*allow_synthetic=*/false);
  }
}

TEST(NationalId, HNumbersWithWrongCheckDigitsOrDatesAreRefused) {
  for (const char* id : {"13527248014",     // k2 changed
                         "13527248003",     // k1 changed
                         "15507600091"}) {  // k2 changed
    const auto v = check_national_id(id, false);
    EXPECT_FALSE(v.valid) << id;
    EXPECT_EQ(v.kind, NationalIdKind::h_number) << id;
    EXPECT_EQ(v.reason, "check digits do not match") << id;
  }
  // Correct check digits, impossible dates: 31 April, and 29 February 1900.
  for (const char* id : {"31448500015", "29420000047"}) {
    const auto v = check_national_id(id, false);
    EXPECT_FALSE(v.valid) << id;
    EXPECT_EQ(v.kind, NationalIdKind::h_number) << id;
    EXPECT_EQ(v.reason, "not a valid date") << id;
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
  expect_valid("31129000034", NationalIdKind::fodselsnummer);
  expect_valid("01129000011", NationalIdKind::fodselsnummer);
  expect_valid("41019000077", NationalIdKind::d_number);
  expect_valid("71529000000", NationalIdKind::synthetic, true);  // D-number + Dolly, 31 December
  expect_valid("01819000049", NationalIdKind::synthetic, true);  // Test-Norge, 1 January
}

// 29 February exists only in leap years, and the century comes from the individual number.
TEST(NationalId, LeapDayNeedsALeapYear) {
  expect_valid("29020075838", NationalIdKind::fodselsnummer);    // 2000 (individual 758)
  expect_valid("29020050088", NationalIdKind::fodselsnummer);    // 2000 (individual 500)
  expect_valid("29022450008", NationalIdKind::fodselsnummer);    // 2024
  expect_valid("29022400094", NationalIdKind::fodselsnummer);    // 1924
  expect_valid("29026050047", NationalIdKind::fodselsnummer);    // 1860 (individual 500-749)
  expect_valid("69020050071", NationalIdKind::d_number);         // D-number, 2000
  expect_valid("29822450073", NationalIdKind::synthetic, true);  // Test-Norge, 2024
  for (const char* id : {"29020000064",     // 1900 (individual 000): not a leap year
                         "69020000058",     // D-number, 1900
                         "29022350097",     // 2023
                         "29022300073",     // 1923
                         "29029000008",     // 1990
                         "29822350052"}) {  // Test-Norge, 2023
    expect_invalid(id, "not a valid date");
  }
}

TEST(NationalId, CenturyIsOpenForNumbersOfTheTwoThousandThirtyTwoRule) {
  // Passes only the 2032 rule (k1 remainder 1): the individual number no longer tells the
  // century, and 2000 is a leap year.
  ASSERT_EQ(k1_remainder("29020000072"), 1);
  expect_valid("29020000072", NationalIdKind::fodselsnummer);
  // ... but no century has a 29 February in a year "23".
  ASSERT_EQ(k1_remainder("29022300170"), 2);
  expect_invalid("29022300170", "not a valid date");
  // From 2032 on, numbers of the legacy rule may be new ones too: the table no longer decides.
  const year_month_day in_2032{year{2032}, January, day{1}};
  EXPECT_FALSE(check_national_id("29020000064", false, year{2031} / December / day{31}).valid);
  EXPECT_TRUE(check_national_id("29020000064", false, in_2032).valid);
}

TEST(NationalId, IndividualNumberOutsideTheTableLeavesTheCenturyOpen) {
  // Individual 750 with year 72 fits no row of the legacy table (numbers issued from 2032 need
  // not follow it): 1972 is a possible birth year.
  expect_valid("13097275054", NationalIdKind::fodselsnummer);
}

TEST(NationalId, RejectsBirthDatesInTheFuture) {
  // 1 January 2030 (individual >= 500, year < 40).
  expect_invalid("01013050038", "the birth date is in the future");
  EXPECT_EQ(check_national_id("01013050038", false).problem, NationalIdProblem::future_date);
  EXPECT_TRUE(check_national_id("01013050038", false, year{2030} / January / day{1}).valid);
  EXPECT_FALSE(check_national_id("01013050038", false, year{2029} / December / day{31}).valid);
  // The same date with individual < 500 is 1930.
  expect_valid("01013000014", NationalIdKind::fodselsnummer);
  // Born today is fine, tomorrow is not.
  expect_valid("22112650044", NationalIdKind::fodselsnummer);
  expect_invalid("23112650083", "the birth date is in the future");
  expect_valid("23112600140", NationalIdKind::fodselsnummer);  // 23.11.1926
  // A number of the 2032 rule may be from 1930.
  ASSERT_EQ(k1_remainder("01013050046"), 1);
  expect_valid("01013050046", NationalIdKind::fodselsnummer);
}

TEST(NationalId, TodayIsTheOsloCalendarDay) {
  using visitpay::domain::oslo_date;
  // 23:30 UTC on 22 November is 00:30 on 23 November in Oslo (UTC+1).
  const auto late = *visitpay::common::parse_rfc3339("2026-11-22T23:30:00Z");
  EXPECT_EQ(oslo_date(late), year{2026} / November / day{23});
  EXPECT_TRUE(check_national_id("23112650083", false, oslo_date(late)).valid);
  const auto earlier = *visitpay::common::parse_rfc3339("2026-11-22T22:59:59Z");
  EXPECT_FALSE(check_national_id("23112650083", false, oslo_date(earlier)).valid);
}

TEST(NationalId, FhNumberIsCheckedByChecksumOnly) {
  // "00" in the month position would be an invalid date for any other kind.
  expect_valid("81234500090", NationalIdKind::fh_number);
  expect_valid("98765400023", NationalIdKind::fh_number);
  expect_valid("91234500061", NationalIdKind::fh_number);
  EXPECT_FALSE(check_national_id("91234500062", true).valid);
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
