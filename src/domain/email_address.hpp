#pragma once

#include <string_view>

namespace visitpay::domain {

struct EmailVerdict {
  bool valid;
  // Short English text for API error bodies when !valid, empty when valid. Always a string literal
  // and never contains the address itself.
  std::string_view reason;
};

// Accepts the addresses an invoice can be mailed to without surprises: the "dot-atom" form of
// RFC 5322 § 3.4.1 in ASCII ("local@domain"), at most 254 characters (RFC 5321 § 4.5.3.1: a path
// of 256 octets including the angle brackets), a local part of at most 64, and a domain of DNS
// host names (RFC 1123 labels of letters, digits and inner hyphens, 63 octets each) with at least
// two labels. Quoted local parts, address literals ("[192.0.2.1]"), comments and internationalised
// addresses (SMTPUTF8) are refused: rare in practice and not something a clinic's check-out
// system should pass on. No white space or control character can pass, so the address is safe in
// a mail header and an SMTP command.
EmailVerdict check_email_address(std::string_view address);

}  // namespace visitpay::domain
