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
// NO mobile pattern [49]\d{7} (metadata v9.0.32 onwards; checked against v9.0.35 of 2026-07-16).
// The 58/59 series are not mobile: 58 is Nkom's 12-digit machine-to-machine series, and
// libphonenumber dropped 59 in v8.13.19. 42/43/44/49 are mobile since v9.0.32. No spaces or other
// separators are allowed, so the caller must normalise user input first; this keeps the stored form
// canonical.
PhoneVerdict check_norwegian_mobile(std::string_view e164);

}  // namespace visitpay::domain
