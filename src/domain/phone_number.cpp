#include "domain/phone_number.hpp"

#include <cstddef>

namespace visitpay::domain {
namespace {

constexpr std::string_view kCountryPrefix = "+47";
constexpr std::size_t kSubscriberDigits = 8;

bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}

// Mirrors libphonenumber's NO mobile pattern [49]\d{7} (resources/PhoneNumberMetadata.xml,
// territory NO, from v9.0.32; checked against v9.0.35). Earlier metadata differed: an old version
// (quoted in the Norway reference) had (?:4[015-8]|5[89]|9\d)\d{6}, v8.13.0-v8.13.13 had
// (?:4[015-8]|59|9\d)\d{6}, v8.13.19-v9.0.31 had (?:4[015-8]|9\d)\d{6}. Hand-coded rather than a
// std::regex so the check cannot throw and stays cheap; re-check it when the metadata changes.
bool matches_mobile_range(char first) {
  return first == '4' || first == '9';
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
  if (!matches_mobile_range(subscriber[0])) {
    return {false, "not a Norwegian mobile number"};
  }
  return {true, ""};
}

}  // namespace visitpay::domain
