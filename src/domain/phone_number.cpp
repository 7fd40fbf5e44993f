#include "domain/phone_number.hpp"

#include <cstddef>

namespace visitpay::domain {
namespace {

constexpr std::string_view kCountryPrefix = "+47";
constexpr std::size_t kSubscriberDigits = 8;

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

// Mirrors libphonenumber's NO mobile pattern (?:4[015-8]|5[89]|9\d)\d{6}. Hand-coded rather than a
// std::regex so the check cannot throw and stays cheap; the pattern is pinned to the metadata
// version quoted in the Norway reference, since older versions lacked the 58/59 ranges.
bool matches_mobile_range(char first, char second) {
  switch (first) {
    case '4':
      return second == '0' || second == '1' || (second >= '5' && second <= '8');
    case '5':
      return second == '8' || second == '9';
    case '9':
      return true;
    default:
      return false;
  }
}

}  // namespace

PhoneVerdict check_norwegian_mobile(std::string_view e164) {
  if (e164.substr(0, kCountryPrefix.size()) != kCountryPrefix) {
    return {false, "must start with +47"};
  }
  const std::string_view subscriber = e164.substr(kCountryPrefix.size());
  if (subscriber.size() != kSubscriberDigits) {
    return {false, "must be +47 followed by 8 digits"};
  }
  for (char c : subscriber) {
    if (!is_ascii_digit(c)) {
      return {false, "must be +47 followed by 8 digits"};
    }
  }
  if (!matches_mobile_range(subscriber[0], subscriber[1])) {
    return {false, "not a Norwegian mobile number"};
  }
  return {true, ""};
}

}  // namespace visitpay::domain
