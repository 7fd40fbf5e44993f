#pragma once

#include <chrono>
#include <string_view>

#include "common/time_format.hpp"

namespace visitpay::domain {

// Which family of Norwegian person identifier an 11-digit number belongs to.
// - fodselsnummer, d_number (day + 40): the national register's numbers.
// - h_number (month + 40): the health sector's help number, given by a health institution to a
//   patient whose fødselsnummer/D-number is not known. NAV Dolly's synthetic test numbers use the
//   same month + 40 and cannot be told apart from it, so they are accepted as H-numbers.
// - fh_number (first digit 8 or 9): Norsk helsenett's common help number; random, no date.
// - synthetic: Skatteetaten's Test-Norge/Tenor population (month + 80, also on D-numbers), and
//   month + 40 on a D-number (Dolly; H-numbers are never D-numbers). Accepted only where
//   configured (CheckoutRules::allow_synthetic_national_ids).
enum class NationalIdKind { fodselsnummer, d_number, h_number, fh_number, synthetic };

// What is wrong with a number (none when valid).
enum class NationalIdProblem { none, format, check_digits, date, future_date, synthetic };

struct NationalIdVerdict {
  bool valid;
  NationalIdKind kind;
  NationalIdProblem problem;
  // Short English text for API error bodies when !valid, empty when valid. Always a string literal
  // with static storage and never contains the number itself, so it is safe to log or return.
  std::string_view reason;
};

// Validates a fødselsnummer, D-number, H-number, FH-number or synthetic test number. Accepts both
// the legacy check-digit rule and the rule for numbers issued from 2032 (Skatteetaten requires
// systems to read both in parallel).
//
// The birth date must be a real calendar date that is not after `today` (the Oslo calendar day;
// callers take it from their Clock, the domain never reads the system clock). The century comes
// from the individual number (000-499: 1900s; 500-749 with year >= 54: 1800s; 500-999 with year
// < 40: 2000s; 900-999 with year >= 40: 1900s), which decides e.g. whether 29 February "00" is
// 1900 (no leap day) or 2000 (a leap day). That table is decisive only for numbers issued before
// 2032: a number that passes only the 2032 check-digit rule, one whose individual number fits no
// row, and from 2032 on every number, may be from either century (1900s or 2000s), and is valid
// when one of them gives a real date that is not in the future. FH-numbers carry no date and are
// checked by checksum only. When !valid, `kind` is a best-effort classification (fodselsnummer if
// the input is not even 11 digits).
NationalIdVerdict check_national_id(std::string_view id, bool allow_synthetic,
                                    std::chrono::year_month_day today);

// The Oslo calendar day at `now`: the "today" birth dates are compared with (a child born just
// after midnight in Oslo is born "today" although it is still yesterday in UTC).
std::chrono::year_month_day oslo_date(common::Timestamp now);

}  // namespace visitpay::domain
