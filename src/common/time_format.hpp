#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace visitpay::common {

// All instants are UTC with microsecond resolution, matching PostgreSQL timestamptz.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// Parses RFC 3339 date-time, e.g. "2026-11-22T14:05:00+01:00" or "...Z". Accepts 'T'/'t' as the
// separator, 'Z'/'z' or +-HH:MM as the offset (required: a local time without an offset is
// ambiguous), and an optional fraction of 1..9 digits, truncated to microseconds. Every field is
// range-checked (real calendar dates incl. leap years, hour < 24, minute < 60, second < 60; leap
// second 60 is rejected); trailing characters are rejected. So is a time whose UTC instant falls
// outside the years 0001-9999 ("0000-01-01T00:30:00+01:00"): format_rfc3339_utc could not write
// it back in this form, and PostgreSQL refuses it.
std::optional<Timestamp> parse_rfc3339(std::string_view text);

// "2026-11-22T13:05:00Z"; ".ffffff" (always 6 digits) is appended only when the microseconds are
// non-zero, so whole-second values stay short and stable.
std::string format_rfc3339_utc(Timestamp ts);

// Parses PostgreSQL timestamptz text output (DateStyle ISO, TimeZone UTC), e.g.
// "2026-11-22 13:05:00+00" or "2026-11-22 13:05:00.123456+00". The offset may be +-HH, +-HH:MM or
// +-HH:MM:SS (what PostgreSQL prints for other session time zones); the fraction may have 1..6
// digits. BC dates, years beyond 9999 and 'infinity' are rejected.
std::optional<Timestamp> parse_pg_timestamptz(std::string_view text);

// Europe/Oslo offset at `ts`: 120 min between the last Sunday of March 01:00 UTC (inclusive) and
// the last Sunday of October 01:00 UTC (exclusive), otherwise 60 min. This EU rule is exact for
// Oslo since 1996 and avoids depending on the system tz database; instants before 1996 get the same
// rule, which is historically wrong but irrelevant for invoices.
std::chrono::minutes oslo_utc_offset(Timestamp ts);

// Wall-clock time in Oslo at `ts`, truncated to whole seconds.
struct OsloLocal {
  int year;
  unsigned month, day, hour, minute, second;
  std::chrono::minutes offset;
};
OsloLocal to_oslo(Timestamp ts);

// "2026-11-22T14:05:00+01:00" (Oslo wall clock with its offset; fraction dropped).
std::string format_rfc3339_oslo(Timestamp ts);

// "22.11.2026" (Norwegian date notation, Oslo calendar day).
std::string format_oslo_date(Timestamp ts);

// "2026-11-22" (ISO 8601 calendar date of the Oslo day), e.g. an invoice's issue date.
std::string format_oslo_iso_date(Timestamp ts);

// "14:05" (Oslo wall clock).
std::string format_oslo_hhmm(Timestamp ts);

// Local wall-clock time in Oslo -> instant. In the spring-forward gap (02:00-03:00 on the last
// Sunday of March) the result is the instant as if the clock had already jumped (02:30 -> 03:30
// CEST); in the autumn overlap (02:00-03:00 occurs twice) the earlier, CEST instant is returned.
// Precondition: a valid calendar date and hour < 24, minute < 60. Out-of-range fields are not
// rejected but normalised arithmetically (e.g. month 13 -> January of the next year).
Timestamp from_oslo_local(int year, unsigned month, unsigned day, unsigned hour, unsigned minute);

}  // namespace visitpay::common
