#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "domain/checkout.hpp"

namespace visitpay::ports {

// A step of the reminder schedule, as the agency needs it to prove the claim was warned
// (inkassoloven § 9) and which fees were charged (inkassoforskriften § 1-2).
struct CollectionLetter {
  std::string kind;  // purring | inkassovarsel
  int sequence = 1;
  std::string sent_on;  // ISO dates (Oslo)
  std::string deadline;
  domain::Ore fee = 0;
};

// One unpaid claim handed to the clinic's collection agency. Personal data only as the agency
// needs it to collect: the debtor's name and postal address (no national id, no phone, nothing
// about the visit beyond its date and place).
struct CollectionCase {
  std::string name;  // stable and unique: "<org>-collection-<number>"; no personal data
  std::string clinic_id;
  std::string agency;
  std::string creditor_name, creditor_org_number, creditor_bank_account;
  std::int64_t invoice_number = 0;
  std::string kid, issue_date, due_date, service_date, service_place;
  domain::Ore principal = 0;      // the invoice's total
  domain::Ore reminder_fees = 0;  // the fees charged by the letters
  domain::Ore paid = 0;
  domain::Ore open = 0;
  std::string handed_over_on;
  bool inkassovarsel_sent = false;  // false: the agency must send one before collecting (§ 9)
  std::vector<CollectionLetter> letters;
  std::string debtor_name, debtor_street, debtor_postal_code, debtor_city, debtor_country;
};

// Hands a claim to the clinic's collection agency (a file drop, an agency's API ...). Handing
// over the same `name` again must not open a second case (at-least-once callers).
// Failures: provider_unavailable (retry later), provider_rejected (permanent).
class CollectionAgency {
 public:
  virtual ~CollectionAgency() = default;
  // The reference of the hand-off (a file name, the agency's case id); no personal data.
  virtual boost::asio::awaitable<common::Result<std::string>> hand_over(
      const CollectionCase& claim) = 0;
};

}  // namespace visitpay::ports
