#pragma once

#include <string_view>

namespace visitpay::domain {

struct PhoneVerdict {
  bool valid;
  // Short English text for API error bodies when !valid, empty when valid. Always a string literal
  // and never contains the number itself.
  std::string_view reason;
};

// Accepts only E.164 Norwegian mobile numbers: "+47" followed by 8 digits matching libphonenumber's
// NO mobile pattern (?:4[015-8]|5[89]|9\d)\d{6}. No spaces or other separators are allowed, so the
// caller must normalise user input first; this keeps the stored form canonical.
PhoneVerdict check_norwegian_mobile(std::string_view e164);

}  // namespace visitpay::domain
