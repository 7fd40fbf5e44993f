#include "common/time_format.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;
using visitpay::common::format_oslo_date;
using visitpay::common::format_oslo_hhmm;
using visitpay::common::format_rfc3339_oslo;
using visitpay::common::format_rfc3339_utc;
using visitpay::common::from_oslo_local;
using visitpay::common::oslo_utc_offset;
using visitpay::common::parse_pg_timestamptz;
using visitpay::common::parse_rfc3339;
using visitpay::common::Timestamp;
using visitpay::common::to_oslo;

Timestamp utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0, long us = 0) {
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{mo},
                                        std::chrono::day{d}};
  return Timestamp{std::chrono::sys_days{ymd}} + hours{h} + minutes{mi} + std::chrono::seconds{s} +
         microseconds{us};
}

TEST(TimeFormat, ParsesRfc3339WithOffsets) {
  EXPECT_EQ(parse_rfc3339("2026-11-22T14:05:00+01:00"), utc(2026, 11, 22, 13, 5));
  EXPECT_EQ(parse_rfc3339("2026-11-22T13:05:00Z"), utc(2026, 11, 22, 13, 5));
  EXPECT_EQ(parse_rfc3339("2026-11-22t13:05:00z"), utc(2026, 11, 22, 13, 5));
  EXPECT_EQ(parse_rfc3339("2026-11-22T13:05:00+00:00"), utc(2026, 11, 22, 13, 5));
  EXPECT_EQ(parse_rfc3339("2026-11-22T13:05:00-00:00"), utc(2026, 11, 22, 13, 5));
  EXPECT_EQ(parse_rfc3339("2026-11-22T09:35:00-03:30"), utc(2026, 11, 22, 13, 5));
  EXPECT_EQ(parse_rfc3339("2026-01-01T00:30:00+02:00"), utc(2025, 12, 31, 22, 30));
  EXPECT_EQ(parse_rfc3339("1969-12-31T23:59:59Z"), utc(1969, 12, 31, 23, 59, 59));
}

TEST(TimeFormat, ParsesRfc3339FractionTruncatedToMicros) {
  EXPECT_EQ(parse_rfc3339("2026-11-22T13:05:00.5Z"), utc(2026, 11, 22, 13, 5, 0, 500000));
  EXPECT_EQ(parse_rfc3339("2026-11-22T13:05:00.000001Z"), utc(2026, 11, 22, 13, 5, 0, 1));
  EXPECT_EQ(parse_rfc3339("2026-11-22T13:05:00.1234569Z"), utc(2026, 11, 22, 13, 5, 0, 123456));
  EXPECT_EQ(parse_rfc3339("2026-11-22T13:05:00.999999999+01:00"),
            utc(2026, 11, 22, 12, 5, 0, 999999));
  EXPECT_EQ(parse_rfc3339("2026-11-22T13:05:00.1234567891Z"), std::nullopt);  // 10 digits
  EXPECT_EQ(parse_rfc3339("2026-11-22T13:05:00.Z"), std::nullopt);
}

TEST(TimeFormat, Rfc3339RejectsInvalidInput) {
  for (const char* s : {
           "",
           "2026-11-22T14:05:00",         // offset required
           "2026-11-22 14:05:00Z",        // space separator is not RFC 3339 here
           "2026-13-01T00:00:00Z",        // month 13
           "2026-00-01T00:00:00Z",        // month 0
           "2026-11-00T00:00:00Z",        // day 0
           "2026-02-30T00:00:00Z",        // Feb 30
           "2025-02-29T00:00:00Z",        // not a leap year
           "1900-02-29T00:00:00Z",        // century rule
           "2026-04-31T00:00:00Z",        // April has 30 days
           "2026-11-22T24:00:00Z",        // hour 24
           "2026-11-22T12:60:00Z",        // minute 60
           "2026-11-22T12:00:60Z",        // leap second rejected
           "2026-11-22T12:00:00+24:00",   // offset hour
           "2026-11-22T12:00:00+01:60",   // offset minute
           "2026-11-22T12:00:00+0100",    // offset without colon
           "2026-11-22T12:00:00+01",      // offset minutes required
           "2026-11-22T12:00:00Z ",       // trailing garbage
           "2026-11-22T12:00:00+01:00x",  // trailing garbage
           "2026-11-22T12:00:00ZZ",       // trailing garbage
           " 2026-11-22T12:00:00Z",       // leading space
           "26-11-22T12:00:00Z",          // short year
           "2026-1-22T12:00:00Z",         // short month
           "2026-11-22T1:00:00Z",         // short hour
           "2026-11-22T12:00Z",           // seconds required
           "2026/11/22T12:00:00Z",        // wrong date separator
           "+026-11-22T12:00:00Z",        // sign in a digit field
       }) {
    EXPECT_EQ(parse_rfc3339(s), std::nullopt) << s;
  }
}

// Found by tests/fuzz/checkout_json_fuzz (parse -> serialise -> parse): a check-out at
// "0000-01-01T00:30:00+01:00" was accepted as -0001-12-31T23:30:00Z, which format_rfc3339_utc
// writes as "-0001-12-31T23:30:00Z": PostgreSQL refused the insert (a 5xx for a client's input) and
// the API could not read it back.
TEST(TimeFormat, Rfc3339RejectsInstantsOutsideYears1To9999) {
  for (const char* text : {"0000-01-01T00:30:00+01:00", "0000-12-31T23:59:59Z",
                           "0000-12-31T23:30:00+01:00", "9999-12-31T23:30:00-01:00"}) {
    EXPECT_EQ(parse_rfc3339(text), std::nullopt) << text;
  }
  EXPECT_EQ(parse_rfc3339("0001-01-01T00:00:00Z"), utc(1, 1, 1, 0));
  EXPECT_EQ(parse_rfc3339("0001-01-01T01:00:00+01:00"), utc(1, 1, 1, 0));
  EXPECT_EQ(parse_rfc3339("9999-12-31T23:59:59.999999Z"), utc(9999, 12, 31, 23, 59, 59, 999999));
  EXPECT_EQ(parse_rfc3339("9999-12-31T23:30:00+01:00"), utc(9999, 12, 31, 22, 30));
  for (const char* text : {"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"}) {
    const auto ts = parse_rfc3339(text);
    ASSERT_TRUE(ts) << text;
    EXPECT_EQ(parse_rfc3339(format_rfc3339_utc(*ts)), ts) << text;
  }
}

TEST(TimeFormat, LeapDays) {
  EXPECT_EQ(parse_rfc3339("2024-02-29T12:00:00Z"), utc(2024, 2, 29, 12));
  EXPECT_EQ(parse_rfc3339("2000-02-29T12:00:00Z"), utc(2000, 2, 29, 12));
  EXPECT_EQ(parse_rfc3339("2025-02-29T12:00:00Z"), std::nullopt);
}

TEST(TimeFormat, FormatsUtc) {
  EXPECT_EQ(format_rfc3339_utc(utc(2026, 11, 22, 13, 5)), "2026-11-22T13:05:00Z");
  EXPECT_EQ(format_rfc3339_utc(utc(2026, 11, 22, 13, 5, 0, 1)), "2026-11-22T13:05:00.000001Z");
  EXPECT_EQ(format_rfc3339_utc(utc(2026, 11, 22, 13, 5, 7, 123456)), "2026-11-22T13:05:07.123456Z");
  EXPECT_EQ(format_rfc3339_utc(utc(1969, 12, 31, 23, 59, 59, 500000)),
            "1969-12-31T23:59:59.500000Z");
  EXPECT_EQ(format_rfc3339_utc(Timestamp{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339_utc(utc(999, 1, 2, 3, 4, 5)), "0999-01-02T03:04:05Z");
}

TEST(TimeFormat, Rfc3339RoundTrips) {
  for (const Timestamp ts : {utc(2026, 11, 22, 13, 5), utc(2026, 3, 29, 1, 0, 0, 1),
                             utc(2024, 2, 29, 23, 59, 59, 999999), utc(1960, 6, 15, 6, 7, 8, 9),
                             utc(9999, 12, 31, 22, 59, 59, 999999), utc(1, 1, 1)}) {
    const std::string text = format_rfc3339_utc(ts);
    EXPECT_EQ(parse_rfc3339(text), ts) << text;
    EXPECT_EQ(parse_rfc3339(format_rfc3339_oslo(ts)), std::chrono::floor<std::chrono::seconds>(ts))
        << text;
  }
  for (const char* text : {"2026-11-22T13:05:00Z", "2026-11-22T13:05:00.100000Z"}) {
    const auto ts = parse_rfc3339(text);
    ASSERT_TRUE(ts.has_value()) << text;
    EXPECT_EQ(format_rfc3339_utc(*ts), text);
  }
}

TEST(TimeFormat, ParsesPostgresTimestamptz) {
  EXPECT_EQ(parse_pg_timestamptz("2026-11-22 13:05:00+00"), utc(2026, 11, 22, 13, 5));
  EXPECT_EQ(parse_pg_timestamptz("2026-11-22 13:05:00.123456+00"),
            utc(2026, 11, 22, 13, 5, 0, 123456));
  EXPECT_EQ(parse_pg_timestamptz("2026-11-22 13:05:00.5+00"), utc(2026, 11, 22, 13, 5, 0, 500000));
  EXPECT_EQ(parse_pg_timestamptz("2026-11-22 14:05:00+01"), utc(2026, 11, 22, 13, 5));
  EXPECT_EQ(parse_pg_timestamptz("2026-11-22 18:35:00+05:30"), utc(2026, 11, 22, 13, 5));
  EXPECT_EQ(parse_pg_timestamptz("2026-11-22 10:05:00-03"), utc(2026, 11, 22, 13, 5));
  EXPECT_EQ(parse_pg_timestamptz("1890-01-01 00:53:28+00:53:28"), utc(1890, 1, 1));
  const auto ts = utc(2026, 7, 1, 8, 9, 10, 42);
  EXPECT_EQ(parse_pg_timestamptz("2026-07-01 08:09:10.000042+00"), ts);
}

TEST(TimeFormat, PostgresRejectsOtherShapes) {
  for (const char* s : {
           "",
           "2026-11-22T13:05:00+00",  // ISO 'T' is not PostgreSQL output
           "2026-11-22 13:05:00",     // offset required
           "2026-11-22 13:05:00Z",
           "2026-11-22 13:05:00+0",
           "2026-11-22 13:05:00+00:",
           "2026-11-22 13:05:00+00:0",
           "2026-11-22 13:05:00+00:60",
           "2026-11-22 13:05:00+24",
           "2026-11-22 13:05:00.1234567+00",  // more than microseconds
           "2026-11-22 13:05:00+00 BC",
           "12026-11-22 13:05:00+00",
           "infinity",
           "-infinity",
           "2026-02-30 13:05:00+00",
           "2026-11-22 13:05:00+00\n",
       }) {
    EXPECT_EQ(parse_pg_timestamptz(s), std::nullopt) << s;
  }
}

TEST(TimeFormat, OsloOffsetSwitchesAtOneUtcInMarch2026) {
  // Last Sunday of March 2026 is 29 March.
  EXPECT_EQ(oslo_utc_offset(utc(2026, 3, 29, 0, 59, 59)), minutes{60});
  EXPECT_EQ(oslo_utc_offset(utc(2026, 3, 29, 0, 59, 59, 999999)), minutes{60});
  EXPECT_EQ(oslo_utc_offset(utc(2026, 3, 29, 1, 0, 0)), minutes{120});
  EXPECT_EQ(oslo_utc_offset(utc(2026, 3, 22, 12)), minutes{60});  // previous Sunday
}

TEST(TimeFormat, OsloOffsetSwitchesAtOneUtcInOctober2026) {
  // Last Sunday of October 2026 is 25 October.
  EXPECT_EQ(oslo_utc_offset(utc(2026, 10, 25, 0, 59, 59)), minutes{120});
  EXPECT_EQ(oslo_utc_offset(utc(2026, 10, 25, 0, 59, 59, 999999)), minutes{120});
  EXPECT_EQ(oslo_utc_offset(utc(2026, 10, 25, 1, 0, 0)), minutes{60});
  EXPECT_EQ(oslo_utc_offset(utc(2026, 7, 1)), minutes{120});
  EXPECT_EQ(oslo_utc_offset(utc(2026, 1, 15)), minutes{60});
  EXPECT_EQ(oslo_utc_offset(utc(2026, 12, 31, 23, 30)), minutes{60});
}

TEST(TimeFormat, OsloOffsetUsesEachYearsLastSunday) {
  // 2027: 28 March and 31 October, so the rule is computed, not hard-coded for 2026.
  EXPECT_EQ(oslo_utc_offset(utc(2027, 3, 28, 0, 59, 59)), minutes{60});
  EXPECT_EQ(oslo_utc_offset(utc(2027, 3, 28, 1)), minutes{120});
  EXPECT_EQ(oslo_utc_offset(utc(2027, 10, 31, 0, 59, 59)), minutes{120});
  EXPECT_EQ(oslo_utc_offset(utc(2027, 10, 31, 1)), minutes{60});
}

TEST(TimeFormat, ToOsloAcrossSpringForward) {
  const auto before = to_oslo(utc(2026, 3, 29, 0, 59, 59));
  EXPECT_EQ(before.year, 2026);
  EXPECT_EQ(before.month, 3u);
  EXPECT_EQ(before.day, 29u);
  EXPECT_EQ(before.hour, 1u);
  EXPECT_EQ(before.minute, 59u);
  EXPECT_EQ(before.second, 59u);
  EXPECT_EQ(before.offset, minutes{60});
  const auto after = to_oslo(utc(2026, 3, 29, 1, 0, 0));
  EXPECT_EQ(after.hour, 3u);
  EXPECT_EQ(after.minute, 0u);
  EXPECT_EQ(after.second, 0u);
  EXPECT_EQ(after.offset, minutes{120});
  EXPECT_EQ(format_rfc3339_oslo(utc(2026, 3, 29, 0, 59, 59)), "2026-03-29T01:59:59+01:00");
  EXPECT_EQ(format_rfc3339_oslo(utc(2026, 3, 29, 1)), "2026-03-29T03:00:00+02:00");
}

TEST(TimeFormat, ToOsloAcrossFallBack) {
  const auto before = to_oslo(utc(2026, 10, 25, 0, 59, 59));
  EXPECT_EQ(before.hour, 2u);
  EXPECT_EQ(before.minute, 59u);
  EXPECT_EQ(before.second, 59u);
  EXPECT_EQ(before.offset, minutes{120});
  const auto after = to_oslo(utc(2026, 10, 25, 1, 0, 0));
  EXPECT_EQ(after.day, 25u);
  EXPECT_EQ(after.hour, 2u);
  EXPECT_EQ(after.minute, 0u);
  EXPECT_EQ(after.offset, minutes{60});
  EXPECT_EQ(format_rfc3339_oslo(utc(2026, 10, 25, 0, 59, 59)), "2026-10-25T02:59:59+02:00");
  EXPECT_EQ(format_rfc3339_oslo(utc(2026, 10, 25, 1)), "2026-10-25T02:00:00+01:00");
}

TEST(TimeFormat, FormatsOsloWallClock) {
  const auto ts = utc(2026, 11, 22, 13, 5, 42, 999999);
  EXPECT_EQ(format_rfc3339_oslo(ts), "2026-11-22T14:05:42+01:00");  // fraction dropped
  EXPECT_EQ(format_oslo_date(ts), "22.11.2026");
  EXPECT_EQ(format_oslo_hhmm(ts), "14:05");
  EXPECT_EQ(format_rfc3339_oslo(utc(2026, 7, 1, 12)), "2026-07-01T14:00:00+02:00");
  EXPECT_EQ(format_oslo_hhmm(utc(2026, 7, 1, 12)), "14:00");
  // The Oslo calendar day can differ from the UTC one.
  EXPECT_EQ(format_oslo_date(utc(2026, 11, 22, 23, 30)), "23.11.2026");
  EXPECT_EQ(format_oslo_hhmm(utc(2026, 11, 22, 23, 30)), "00:30");
  EXPECT_EQ(format_oslo_date(utc(2026, 12, 31, 23, 0)), "01.01.2027");
  EXPECT_EQ(format_oslo_date(utc(2026, 6, 30, 22, 0)), "01.07.2026");
  EXPECT_EQ(format_oslo_date(utc(2026, 6, 30, 21, 59)), "30.06.2026");
}

TEST(TimeFormat, FromOsloLocalOrdinaryTimes) {
  EXPECT_EQ(from_oslo_local(2026, 11, 22, 14, 5), utc(2026, 11, 22, 13, 5));
  EXPECT_EQ(from_oslo_local(2026, 7, 1, 14, 0), utc(2026, 7, 1, 12, 0));
  EXPECT_EQ(from_oslo_local(2027, 1, 1, 0, 30), utc(2026, 12, 31, 23, 30));
}

TEST(TimeFormat, FromOsloLocalSpringGapJumpsForward) {
  EXPECT_EQ(from_oslo_local(2026, 3, 29, 1, 59), utc(2026, 3, 29, 0, 59));  // last CET minute
  EXPECT_EQ(from_oslo_local(2026, 3, 29, 2, 0), utc(2026, 3, 29, 1, 0));    // == 03:00 CEST
  EXPECT_EQ(from_oslo_local(2026, 3, 29, 2, 30), utc(2026, 3, 29, 1, 30));  // == 03:30 CEST
  EXPECT_EQ(format_rfc3339_oslo(from_oslo_local(2026, 3, 29, 2, 30)), "2026-03-29T03:30:00+02:00");
  EXPECT_EQ(from_oslo_local(2026, 3, 29, 3, 0), utc(2026, 3, 29, 1, 0));
  EXPECT_EQ(from_oslo_local(2026, 3, 29, 3, 30), utc(2026, 3, 29, 1, 30));
}

TEST(TimeFormat, FromOsloLocalAutumnOverlapPicksEarlier) {
  EXPECT_EQ(from_oslo_local(2026, 10, 25, 1, 59), utc(2026, 10, 24, 23, 59));
  EXPECT_EQ(from_oslo_local(2026, 10, 25, 2, 0), utc(2026, 10, 25, 0, 0));    // CEST, not 01:00Z
  EXPECT_EQ(from_oslo_local(2026, 10, 25, 2, 30), utc(2026, 10, 25, 0, 30));  // CEST, not 01:30Z
  EXPECT_EQ(from_oslo_local(2026, 10, 25, 2, 59), utc(2026, 10, 25, 0, 59));
  EXPECT_EQ(from_oslo_local(2026, 10, 25, 3, 0), utc(2026, 10, 25, 2, 0));  // CET
}

TEST(TimeFormat, FromOsloLocalInvertsToOsloOutsideTheGap) {
  // Every hour of 2026: converting the wall clock back to Oslo must reproduce it, except inside the
  // spring gap (where the wall time does not exist).
  for (auto day = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};
       day < std::chrono::sys_days{std::chrono::year{2027} / 1 / 1}; day += std::chrono::days{1}) {
    const std::chrono::year_month_day ymd{day};
    for (unsigned h = 0; h < 24; ++h) {
      const int y = static_cast<int>(ymd.year());
      const auto m = static_cast<unsigned>(ymd.month());
      const auto d = static_cast<unsigned>(ymd.day());
      const auto local = to_oslo(from_oslo_local(y, m, d, h, 17));
      if (m == 3 && d == 29 && h == 2) {
        EXPECT_EQ(local.hour, 3u);
        continue;
      }
      ASSERT_EQ(local.year, y);
      ASSERT_EQ(local.month, m);
      ASSERT_EQ(local.day, d) << y << "-" << m;
      ASSERT_EQ(local.hour, h) << y << "-" << m << "-" << d;
      ASSERT_EQ(local.minute, 17u);
    }
  }
}

}  // namespace
