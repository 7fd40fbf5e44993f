#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/checkout.hpp"

namespace visitpay::domain {

// Reminders and collection of an issued, unpaid invoice (inkassoloven § 9, inkassoforskriften
// §§ 1-1..1-3; see README "Reminders and collection"). Dates are Oslo calendar dates.
enum class DunningKind { purring, inkassovarsel, collection };

inline constexpr std::array kAllDunningKinds = {DunningKind::purring, DunningKind::inkassovarsel,
                                                DunningKind::collection};

std::string_view to_string(DunningKind kind);
std::optional<DunningKind> parse_dunning_kind(std::string_view text);

// inkassoforskriften § 1-1: "Inkassosatsen er kr 700" (2025); § 1-2: a purring or an inkassovarsel
// may cost 1/20 of it. The rate is set by regulation and changes: the clinic's config holds it.
inline constexpr Ore kInkassosats2025 = 70'000;
inline constexpr Ore kReminderFee2025 = kInkassosats2025 / 20;  // 35 kr
// § 1-2: a purring at the earliest 14 days after the due date, with a new deadline of at least
// 14 days; inkassoloven § 9: the inkassovarsel's deadline at least 14 days from sending.
inline constexpr int kLegalMinimumDays = 14;
// § 1-3: fees for at most two purringer, or one purring and one inkassovarsel, per claim.
inline constexpr int kMaxFeeSteps = 2;

// A clinic's choice, within the law (validated by dunning_policy_problems).
struct DunningPolicy {
  bool enabled = false;
  Ore fee = kReminderFee2025;  // per purring / inkassovarsel that may carry one
  int purringer = 1;           // written reminders before the inkassovarsel or hand-off (1..2)
  int fee_purringer = 1;       // how many of them carry the fee (0..purringer; ≤ 1 with varsel)
  bool inkassovarsel = true;   // send an inkassovarsel after the purringer
  bool inkassovarsel_fee = true;
  int first_after_days = kLegalMinimumDays;  // the first purring, days after the due date
  int deadline_days = kLegalMinimumDays;     // each letter's new deadline, days after sending
  bool collection = false;  // after the last deadline: hand the claim to the collection agency
};

// What config validation says about a policy ("" fields name the key).
std::vector<std::string> dunning_policy_problems(const DunningPolicy& policy);

using Date = std::chrono::sys_days;

// A step already taken on an invoice.
struct DunningStepTaken {
  DunningKind kind = DunningKind::purring;
  Date sent_on{};
  std::optional<Date> deadline;  // none for collection
  Ore fee = 0;
};

// The next step: nothing yet (look again on `not_before`), nothing ever again (`finished`), or
// a step to take today.
struct DunningDecision {
  std::optional<DunningKind> step;  // set: take it today
  Ore fee = 0;
  std::optional<Date> deadline;  // the letter's new deadline (purring, inkassovarsel)
  int sequence = 0;              // 1-based number of this kind on the invoice
  std::optional<Date> not_before;
  bool finished = false;
};

// Pure: the invoice's due date, the steps taken (in order), the policy and today's Oslo date ->
// the next step. Fees are charged only within § 1-2 and § 1-3 whatever the policy says.
DunningDecision next_dunning_step(const DunningPolicy& policy, Date due_date,
                                  std::span<const DunningStepTaken> taken, Date today);

}  // namespace visitpay::domain
