#pragma once

#include <string_view>

namespace visitpay::domain {

// Which family of Norwegian person identifier an 11-digit number belongs to. Month+40 is
// ambiguous between the health-sector H-number and NAV Dolly's synthetic numbers, and month+80 is
// Skatteetaten's Test-Norge/Tenor population; none of them identify a real person in the
// national register, so they are all reported as `synthetic` (also when combined with the
// D-number day offset).
enum class NationalIdKind { fodselsnummer, d_number, fh_number, synthetic };

struct NationalIdVerdict {
  bool valid;
  NationalIdKind kind;
  // Short English text for API error bodies when !valid, empty when valid. Always a string literal
  // with static storage and never contains the number itself, so it is safe to log or return.
  std::string_view reason;
};

// Validates a fødselsnummer, D-number, FH-number or synthetic test number. Accepts both the legacy
// check-digit rule and the rule for numbers issued from 2032 (Skatteetaten requires systems to read
// both in parallel). The birth date is checked only for plausibility (day/month); the century is
// not derivable for post-2032 numbers, so 29 February is accepted in any year. FH-numbers carry no
// date and are checked by checksum only. Synthetic numbers are valid only when `allow_synthetic`.
// When !valid, `kind` is a best-effort classification (fodselsnummer if the input is not even 11
// digits).
NationalIdVerdict check_national_id(std::string_view id, bool allow_synthetic);

}  // namespace visitpay::domain
