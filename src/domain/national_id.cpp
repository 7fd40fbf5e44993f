#include "domain/national_id.hpp"

#include <array>
#include <cstddef>

namespace visitpay::domain {
namespace {

constexpr std::size_t kLength = 11;

constexpr std::array<int, 9> kK1Weights = {3, 7, 6, 1, 8, 9, 4, 5, 2};
constexpr std::array<int, 10> kK2Weights = {5, 4, 3, 2, 7, 6, 5, 4, 3, 2};

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

bool check_digits_match(const std::array<int, kLength>& d) {
  int s1 = 0;
  for (std::size_t i = 0; i < kK1Weights.size(); ++i) {
    s1 += kK1Weights[i] * d[i];
  }
  // Legacy numbers require (S + k1) mod 11 == 0; numbers issued from 2032 may use any of
  // {11,12,13,14} - (S mod 11), i.e. a remainder of 0..3. k1 is a single digit, so the "k1 == 10
  // is invalid" rule holds by construction.
  if ((s1 + d[9]) % 11 > 3) {
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

bool plausible_day_month(int day, int month) {
  if (month < 1 || month > 12 || day < 1) {
    return false;
  }
  // February allows 29 because the century (and thus leap-yearness) cannot be derived from numbers
  // issued after 2032.
  constexpr std::array<int, 12> kMaxDay = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return day <= kMaxDay[static_cast<std::size_t>(month - 1)];
}

}  // namespace

NationalIdVerdict check_national_id(std::string_view id, bool allow_synthetic) {
  if (id.size() != kLength) {
    return {false, NationalIdKind::fodselsnummer, "must be 11 digits"};
  }
  std::array<int, kLength> d{};
  for (std::size_t i = 0; i < kLength; ++i) {
    if (!is_ascii_digit(id[i])) {
      return {false, NationalIdKind::fodselsnummer, "must be 11 digits"};
    }
    d[i] = id[i] - '0';
  }

  // FH-numbers are random (no date), so they are recognised from the first digit alone.
  if (d[0] >= 8) {
    if (!check_digits_match(d)) {
      return {false, NationalIdKind::fh_number, "check digits do not match"};
    }
    return {true, NationalIdKind::fh_number, ""};
  }

  int day = d[0] * 10 + d[1];
  int month = d[2] * 10 + d[3];
  bool d_number = false;
  bool synthetic = false;
  if (day > 40) {
    d_number = true;
    day -= 40;
  }
  if (month > 80) {
    synthetic = true;
    month -= 80;
  } else if (month > 40) {
    synthetic = true;
    month -= 40;
  }
  const NationalIdKind kind = synthetic  ? NationalIdKind::synthetic
                              : d_number ? NationalIdKind::d_number
                                         : NationalIdKind::fodselsnummer;

  if (!check_digits_match(d)) {
    return {false, kind, "check digits do not match"};
  }
  if (!plausible_day_month(day, month)) {
    return {false, kind, "not a valid date"};
  }
  if (synthetic && !allow_synthetic) {
    return {false, kind, "synthetic test numbers are not accepted"};
  }
  return {true, kind, ""};
}

}  // namespace visitpay::domain
