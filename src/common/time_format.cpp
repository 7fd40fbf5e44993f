#include "common/time_format.hpp"

#include <cstddef>
#include <cstdint>

namespace visitpay::common {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;

// Minimal forward-only reader; every accessor fails softly so the parsers can return nullopt
// without exceptions.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text) {}

  bool at_end() const { return pos_ == text_.size(); }

  std::optional<char> peek() const {
    if (at_end()) {
      return std::nullopt;
    }
    return text_[pos_];
  }

  bool consume(char c) {
    if (peek() != c) {
      return false;
    }
    ++pos_;
    return true;
  }

  // Reads exactly `count` ASCII digits.
  std::optional<int> fixed_digits(std::size_t count) {
    if (text_.size() - pos_ < count) {
      return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
      const char c = text_[pos_ + i];
      if (c < '0' || c > '9') {
        return std::nullopt;
      }
      value = value * 10 + (c - '0');
    }
    pos_ += count;
    return value;
  }

  // Reads a run of 1..max_count digits as a fraction of a second, truncated to microseconds.
  std::optional<microseconds> fraction(std::size_t max_count) {
    std::int64_t micros = 0;
    std::size_t count = 0;
    while (!at_end() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      if (count < 6) {
        micros = micros * 10 + (text_[pos_] - '0');
      }
      ++count;
      ++pos_;
    }
    if (count == 0 || count > max_count) {
      return std::nullopt;
    }
    for (std::size_t i = count; i < 6; ++i) {
      micros *= 10;
    }
    return microseconds{micros};
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

// Parses "YYYY-MM-DD<sep>HH:MM:SS[.fraction]" and returns it as if it were UTC; the caller then
// subtracts the offset.
std::optional<Timestamp> parse_date_time(Cursor& cur, bool (*is_separator)(char),
                                         std::size_t max_fraction_digits) {
  const auto y = cur.fixed_digits(4);
  if (!y || !cur.consume('-')) {
    return std::nullopt;
  }
  const auto mo = cur.fixed_digits(2);
  if (!mo || !cur.consume('-')) {
    return std::nullopt;
  }
  const auto d = cur.fixed_digits(2);
  if (!d) {
    return std::nullopt;
  }
  const auto sep = cur.peek();
  if (!sep || !is_separator(*sep)) {
    return std::nullopt;
  }
  cur.consume(*sep);
  const auto h = cur.fixed_digits(2);
  if (!h || !cur.consume(':')) {
    return std::nullopt;
  }
  const auto mi = cur.fixed_digits(2);
  if (!mi || !cur.consume(':')) {
    return std::nullopt;
  }
  const auto s = cur.fixed_digits(2);
  if (!s) {
    return std::nullopt;
  }
  microseconds frac{0};
  if (cur.consume('.')) {
    const auto f = cur.fraction(max_fraction_digits);
    if (!f) {
      return std::nullopt;
    }
    frac = *f;
  }

  const std::chrono::year_month_day ymd{std::chrono::year{*y},
                                        std::chrono::month{static_cast<unsigned>(*mo)},
                                        std::chrono::day{static_cast<unsigned>(*d)}};
  // ok() covers month 1..12 and the real length of the month, including leap years. Leap seconds
  // (60) are rejected because sys_time cannot represent them anyway.
  if (!ymd.ok() || *h > 23 || *mi > 59 || *s > 59) {
    return std::nullopt;
  }
  return Timestamp{sys_days{ymd}} + hours{*h} + minutes{*mi} + seconds{*s} + frac;
}

void append_padded(std::string& out, unsigned value, std::size_t width) {
  char buf[10];
  std::size_t n = 0;
  do {
    buf[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0 && n < sizeof buf);
  for (std::size_t i = n; i < width; ++i) {
    out.push_back('0');
  }
  while (n > 0) {
    out.push_back(buf[--n]);
  }
}

void append_year(std::string& out, int year) {
  if (year < 0) {
    out.push_back('-');
  }
  append_padded(out, static_cast<unsigned>(year < 0 ? -year : year), 4);
}

struct Fields {
  int year;
  unsigned month, day, hour, minute, second;
  std::int64_t micros;
};

// Breaks a (wall-clock shifted) instant into calendar fields; floor() keeps pre-1970 instants on
// the correct day.
Fields split(Timestamp ts) {
  const auto day_point = std::chrono::floor<days>(ts);
  const std::chrono::year_month_day ymd{day_point};
  const std::chrono::hh_mm_ss<microseconds> tod{ts - day_point};
  return Fields{static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()),
                static_cast<unsigned>(tod.hours().count()),
                static_cast<unsigned>(tod.minutes().count()),
                static_cast<unsigned>(tod.seconds().count()),
                tod.subseconds().count()};
}

void append_date_time(std::string& out, const Fields& f) {
  append_year(out, f.year);
  out.push_back('-');
  append_padded(out, f.month, 2);
  out.push_back('-');
  append_padded(out, f.day, 2);
  out.push_back('T');
  append_padded(out, f.hour, 2);
  out.push_back(':');
  append_padded(out, f.minute, 2);
  out.push_back(':');
  append_padded(out, f.second, 2);
}

bool is_rfc3339_separator(char c) {
  return c == 'T' || c == 't';
}
bool is_pg_separator(char c) {
  return c == ' ';
}

// Reads '+' or '-' and returns +1 / -1.
std::optional<int> sign(Cursor& cur) {
  if (cur.consume('+')) {
    return 1;
  }
  if (cur.consume('-')) {
    return -1;
  }
  return std::nullopt;
}

// The instants an RFC 3339 time written in UTC can name and PostgreSQL can read: years 0001-9999
// (PostgreSQL has no year 0000; format_rfc3339_utc would write years outside as "-0001" or
// "10000", which neither parse_rfc3339 nor parse_pg_timestamptz reads).
bool representable_in_utc(Timestamp t) {
  constexpr sys_days kFirst{std::chrono::year{1} / 1 / 1};
  constexpr sys_days kPastLast{std::chrono::year{10000} / 1 / 1};
  return t >= Timestamp{kFirst} && t < Timestamp{kPastLast};
}

}  // namespace

std::optional<Timestamp> parse_rfc3339(std::string_view text) {
  Cursor cur{text};
  const auto local = parse_date_time(cur, is_rfc3339_separator, 9);
  if (!local) {
    return std::nullopt;
  }
  if (cur.consume('Z') || cur.consume('z')) {
    return cur.at_end() && representable_in_utc(*local) ? local : std::nullopt;
  }
  const auto sgn = sign(cur);
  if (!sgn) {
    return std::nullopt;
  }
  const auto oh = cur.fixed_digits(2);
  if (!oh || !cur.consume(':')) {
    return std::nullopt;
  }
  const auto om = cur.fixed_digits(2);
  if (!om || *oh > 23 || *om > 59 || !cur.at_end()) {
    return std::nullopt;
  }
  const Timestamp utc = *local - *sgn * (hours{*oh} + minutes{*om});
  return representable_in_utc(utc) ? std::optional(utc) : std::nullopt;
}

std::string format_rfc3339_utc(Timestamp ts) {
  const Fields f = split(ts);
  std::string out;
  out.reserve(27);
  append_date_time(out, f);
  if (f.micros != 0) {
    out.push_back('.');
    append_padded(out, static_cast<unsigned>(f.micros), 6);
  }
  out.push_back('Z');
  return out;
}

std::optional<Timestamp> parse_pg_timestamptz(std::string_view text) {
  Cursor cur{text};
  const auto local = parse_date_time(cur, is_pg_separator, 6);
  if (!local) {
    return std::nullopt;
  }
  const auto sgn = sign(cur);
  if (!sgn) {
    return std::nullopt;
  }
  const auto oh = cur.fixed_digits(2);
  if (!oh || *oh > 23) {
    return std::nullopt;
  }
  seconds offset = hours{*oh};
  if (cur.consume(':')) {
    const auto om = cur.fixed_digits(2);
    if (!om || *om > 59) {
      return std::nullopt;
    }
    offset += minutes{*om};
    if (cur.consume(':')) {
      const auto os = cur.fixed_digits(2);
      if (!os || *os > 59) {
        return std::nullopt;
      }
      offset += seconds{*os};
    }
  }
  if (!cur.at_end()) {
    return std::nullopt;
  }
  return *local - *sgn * offset;
}

minutes oslo_utc_offset(Timestamp ts) {
  using namespace std::chrono;
  const year y = year_month_day{floor<days>(ts)}.year();
  // Both switches happen at 01:00 UTC, so comparing against the UTC instant is exact.
  const sys_time<hours> summer_start = sys_days{y / March / Sunday[last]} + hours{1};
  const sys_time<hours> summer_end = sys_days{y / October / Sunday[last]} + hours{1};
  return ts >= summer_start && ts < summer_end ? minutes{120} : minutes{60};
}

OsloLocal to_oslo(Timestamp ts) {
  const minutes offset = oslo_utc_offset(ts);
  const Fields f = split(ts + offset);
  return OsloLocal{f.year, f.month, f.day, f.hour, f.minute, f.second, offset};
}

std::string format_rfc3339_oslo(Timestamp ts) {
  const minutes offset = oslo_utc_offset(ts);
  const Fields f = split(ts + offset);
  std::string out;
  out.reserve(25);
  append_date_time(out, f);
  out.push_back('+');
  append_padded(out, static_cast<unsigned>(offset.count() / 60), 2);
  out.push_back(':');
  append_padded(out, static_cast<unsigned>(offset.count() % 60), 2);
  return out;
}

std::string format_oslo_date(Timestamp ts) {
  const OsloLocal l = to_oslo(ts);
  std::string out;
  out.reserve(10);
  append_padded(out, l.day, 2);
  out.push_back('.');
  append_padded(out, l.month, 2);
  out.push_back('.');
  append_year(out, l.year);
  return out;
}

std::string format_oslo_iso_date(Timestamp ts) {
  const OsloLocal l = to_oslo(ts);
  std::string out;
  out.reserve(10);
  append_year(out, l.year);
  out.push_back('-');
  append_padded(out, l.month, 2);
  out.push_back('-');
  append_padded(out, l.day, 2);
  return out;
}

std::string format_oslo_hhmm(Timestamp ts) {
  const OsloLocal l = to_oslo(ts);
  std::string out;
  out.reserve(5);
  append_padded(out, l.hour, 2);
  out.push_back(':');
  append_padded(out, l.minute, 2);
  return out;
}

Timestamp from_oslo_local(int year, unsigned month, unsigned day, unsigned hour, unsigned minute) {
  using namespace std::chrono;
  // year_month arithmetic normalises out-of-range months instead of producing an unspecified
  // sys_days value from a !ok() date.
  const year_month ym = std::chrono::year{year} / January + months{static_cast<int>(month) - 1};
  const Timestamp wall =
      Timestamp{sys_days{ym / 1}} + days{static_cast<int>(day) - 1} + hours{hour} + minutes{minute};
  // Try CEST first so the autumn overlap resolves to the earlier instant.
  const Timestamp as_cest = wall - hours{2};
  if (oslo_utc_offset(as_cest) == minutes{120}) {
    return as_cest;
  }
  // Either a normal CET time, or a wall time inside the spring gap: in both cases wall - 1h is the
  // answer (in the gap it equals the time shown after the jump, e.g. 02:30 -> 03:30 CEST).
  return wall - hours{1};
}

}  // namespace visitpay::common
