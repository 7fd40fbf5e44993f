#include "domain/national_id.hpp"

#include <array>
#include <cstddef>
#include <optional>

namespace visitpay::domain {
namespace {

constexpr std::size_t kLength = 11;

constexpr std::array<int, 9> kK1Weights = {3, 7, 6, 1, 8, 9, 4, 5, 2};
constexpr std::array<int, 10> kK2Weights = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};

// From this day the register issues numbers whose individual number no longer encodes the century
// (Skatteetaten, "nytt fødselsnummer fra 2032").
constexpr std::chrono::year_month_day kNewNumbersFrom{std::chrono::year{2032}, std::chrono::January,
                                                      std::chrono::day{1}};

using Digits = std::array<int, kLength>;

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

// (S + k1) mod 11 for the first check digit: 0 under the legacy rule; the 2032 rule allows 0..3.
int k1_remainder(const Digits& d) {
  int s1 = 0;
  for (std::size_t i = 0; i < kK1Weights.size(); ++i) {
    s1 += kK1Weights[i] * d[i];
  }
  return (s1 + d[9]) % 11;
}

bool check_digits_match(const Digits& d) {
  // k1 is a single digit, so the "k1 == 10 is invalid" rule holds by construction.
  if (k1_remainder(d) > 3) {
    return false;
  }
  // k2 is unchanged by the 2032 reform: exactly one remainder is allowed. A required k2 of 10 can
  // never be matched by a single digit, which is exactly the "10 -> invalid" rule.
  int s2 = 0;
  for (std::size_t i = 0; i < kK2Weights.size(); ++i) {
    s2 += kK2Weights[i] * d[i];
  }
  return (s2 + d[10]) % 11 == 0;
}

// The century the legacy individual-number table gives, or none when no row fits.
std::optional<int> legacy_century(int individual, int two_digit_year) {
  if (individual < 500) return 1900;
  if (individual < 750 && two_digit_year >= 54) return 1800;
  if (two_digit_year < 40) return 2000;
  if (individual >= 900) return 1900;
  return std::nullopt;
}

enum class DateCheck { ok, not_a_date, in_the_future };

// At least one possible birth year makes day.month a real date on or before `today`.
DateCheck check_birth_date(int day, int month, int two_digit_year, int individual, bool legacy_rule,
                           std::chrono::year_month_day today) {
  std::array<int, 3> centuries{};
  std::size_t count = 0;
  const auto table = legacy_century(individual, two_digit_year);
  if (table) centuries[count++] = *table;
  if (!table || !legacy_rule || today >= kNewNumbersFrom) {
    for (int century : {1900, 2000}) {
      if (century != table) centuries[count++] = century;
    }
  }
  bool real_date = false;
  for (std::size_t i = 0; i < count; ++i) {
    const std::chrono::year_month_day date{std::chrono::year{centuries[i] + two_digit_year},
                                           std::chrono::month{static_cast<unsigned>(month)},
                                           std::chrono::day{static_cast<unsigned>(day)}};
    if (!date.ok()) continue;
    real_date = true;
    if (date <= today) return DateCheck::ok;
  }
  return real_date ? DateCheck::in_the_future : DateCheck::not_a_date;
}

}  // namespace

NationalIdVerdict check_national_id(std::string_view id, bool allow_synthetic,
                                    std::chrono::year_month_day today) {
  if (id.size() != kLength) {
    return {false, NationalIdKind::fodselsnummer, NationalIdProblem::format, "must be 11 digits"};
  }
  Digits d{};
  for (std::size_t i = 0; i < kLength; ++i) {
    if (!is_ascii_digit(id[i])) {
      return {false, NationalIdKind::fodselsnummer, NationalIdProblem::format, "must be 11 digits"};
    }
    d[i] = id[i] - '0';
  }

  // FH-numbers are random (no date), so they are recognised from the first digit alone.
  if (d[0] >= 8) {
    if (!check_digits_match(d)) {
      return {false, NationalIdKind::fh_number, NationalIdProblem::check_digits,
              "check digits do not match"};
    }
    return {true, NationalIdKind::fh_number, NationalIdProblem::none, ""};
  }

  int day = d[0] * 10 + d[1];
  int month = d[2] * 10 + d[3];
  const bool d_number = day > 40;
  if (d_number) day -= 40;
  bool tenor = false;
  bool month_plus_40 = false;
  if (month > 80) {
    tenor = true;
    month -= 80;
  } else if (month > 40) {
    month_plus_40 = true;
    month -= 40;
  }
  const bool synthetic = tenor || (month_plus_40 && d_number);
  const NationalIdKind kind = synthetic       ? NationalIdKind::synthetic
                              : month_plus_40 ? NationalIdKind::h_number
                              : d_number      ? NationalIdKind::d_number
                                              : NationalIdKind::fodselsnummer;

  if (!check_digits_match(d)) {
    return {false, kind, NationalIdProblem::check_digits, "check digits do not match"};
  }
  const int two_digit_year = d[4] * 10 + d[5];
  const int individual = d[6] * 100 + d[7] * 10 + d[8];
  switch (check_birth_date(day, month, two_digit_year, individual, k1_remainder(d) == 0, today)) {
    case DateCheck::not_a_date:
      return {false, kind, NationalIdProblem::date, "not a valid date"};
    case DateCheck::in_the_future:
      return {false, kind, NationalIdProblem::future_date, "the birth date is in the future"};
    case DateCheck::ok:
      break;
  }
  if (synthetic && !allow_synthetic) {
    return {false, kind, NationalIdProblem::synthetic, "synthetic test numbers are not accepted"};
  }
  return {true, kind, NationalIdProblem::none, ""};
}

std::chrono::year_month_day oslo_date(common::Timestamp now) {
  const auto local = common::to_oslo(now);
  return std::chrono::year_month_day{std::chrono::year{local.year}, std::chrono::month{local.month},
                                     std::chrono::day{local.day}};
}

}  // namespace visitpay::domain
