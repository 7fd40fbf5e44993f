#include "domain/dunning.hpp"

#include <algorithm>

namespace visitpay::domain {

namespace {

using std::chrono::days;

struct Counts {
  int purringer = 0;
  int purring_fees = 0;
  bool inkassovarsel = false;
  bool inkassovarsel_fee = false;
  bool collection = false;
};

Counts count_steps(std::span<const DunningStepTaken> taken) {
  Counts c;
  for (const auto& s : taken) {
    switch (s.kind) {
      case DunningKind::purring:
        ++c.purringer;
        if (s.fee > 0) ++c.purring_fees;
        break;
      case DunningKind::inkassovarsel:
        c.inkassovarsel = true;
        c.inkassovarsel_fee = s.fee > 0;
        break;
      case DunningKind::collection:
        c.collection = true;
        break;
    }
  }
  return c;
}

// § 1-3 second sentence: a second fee only if the debtor let a deadline of at least 14 days, set
// in the first purring, pass. `today` is after the last deadline by construction.
bool last_deadline_was_lawful(std::span<const DunningStepTaken> taken) {
  if (taken.empty()) return true;
  const auto& last = taken.back();
  return last.deadline && *last.deadline - last.sent_on >= days(kLegalMinimumDays);
}

Ore purring_fee(const DunningPolicy& p, const Counts& c, std::span<const DunningStepTaken> taken) {
  if (p.fee <= 0 || c.purring_fees >= p.fee_purringer) return 0;
  if (c.purring_fees >= kMaxFeeSteps) return 0;
  if (p.inkassovarsel && c.purring_fees >= 1) return 0;  // one purring + inkassovarsel
  if (c.purring_fees > 0 && !last_deadline_was_lawful(taken)) return 0;
  return p.fee;
}

Ore inkassovarsel_fee(const DunningPolicy& p, const Counts& c,
                      std::span<const DunningStepTaken> taken, Date due_date, Date today) {
  if (p.fee <= 0 || !p.inkassovarsel_fee) return 0;
  // § 1-2: only if sent at least 14 days after the due date; § 1-3: after at most one paid purring.
  if (today - due_date < days(kLegalMinimumDays)) return 0;
  if (c.purring_fees > 1) return 0;
  if (c.purring_fees > 0 && !last_deadline_was_lawful(taken)) return 0;
  return p.fee;
}

}  // namespace

std::string_view to_string(DunningKind kind) {
  switch (kind) {
    case DunningKind::purring:
      return "purring";
    case DunningKind::inkassovarsel:
      return "inkassovarsel";
    case DunningKind::collection:
      return "collection";
  }
  return "purring";
}

std::optional<DunningKind> parse_dunning_kind(std::string_view text) {
  for (auto k : kAllDunningKinds) {
    if (to_string(k) == text) return k;
  }
  return std::nullopt;
}

std::vector<std::string> dunning_policy_problems(const DunningPolicy& p) {
  std::vector<std::string> out;
  if (p.fee < 0) out.emplace_back("fee_ore: must not be negative");
  if (p.purringer < 1 || p.purringer > 2) out.emplace_back("purringer: must be 1 or 2");
  if (p.fee_purringer < 0 || p.fee_purringer > p.purringer) {
    out.emplace_back("fee_purringer: must be between 0 and purringer");
  }
  if (p.inkassovarsel && p.fee_purringer > 1) {
    out.emplace_back(
        "fee_purringer: at most 1 with an inkassovarsel (inkassoforskriften § 1-3: one purring "
        "and one inkassovarsel)");
  }
  if (p.first_after_days < kLegalMinimumDays) {
    out.emplace_back("first_after_days: at least 14 (inkassoforskriften § 1-2)");
  }
  if (p.deadline_days < kLegalMinimumDays) {
    out.emplace_back("deadline_days: at least 14 (inkassoforskriften § 1-2, inkassoloven § 9)");
  }
  return out;
}

DunningDecision next_dunning_step(const DunningPolicy& policy, Date due_date,
                                  std::span<const DunningStepTaken> taken, Date today) {
  DunningDecision d;
  const Counts c = count_steps(taken);
  if (!policy.enabled || c.collection) {
    d.finished = true;
    return d;
  }
  // The first letter no earlier than 14 days after the due date; each next one only once the
  // previous deadline has passed (paying on the deadline day is on time).
  const int first_after = std::max(policy.first_after_days, kLegalMinimumDays);
  Date earliest = due_date + days(first_after);
  if (!taken.empty()) {
    const auto& last = taken.back();
    earliest = std::max(earliest, last.deadline.value_or(last.sent_on) + days(1));
  }
  if (today < earliest) {
    d.not_before = earliest;
    return d;
  }
  const int deadline_days = std::max(policy.deadline_days, kLegalMinimumDays);
  if (c.purringer < std::clamp(policy.purringer, 1, 2) && !c.inkassovarsel) {
    d.step = DunningKind::purring;
    d.sequence = c.purringer + 1;
    d.fee = purring_fee(policy, c, taken);
  } else if (policy.inkassovarsel && !c.inkassovarsel) {
    d.step = DunningKind::inkassovarsel;
    d.sequence = 1;
    d.fee = inkassovarsel_fee(policy, c, taken, due_date, today);
  } else if (policy.collection) {
    d.step = DunningKind::collection;
    d.sequence = 1;
    return d;
  } else {
    d.finished = true;
    return d;
  }
  d.deadline = today + days(deadline_days);
  return d;
}

}  // namespace visitpay::domain
