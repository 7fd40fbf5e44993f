#pragma once

#include <string>
#include <string_view>

namespace visitpay::domain {

// A payment provider's `payeeReference` for one operation on a session: unique per operation,
// the same on every retry of that operation (so a retried create finds the first order), and
// free of personal data. Swedbank Pay allows [A-Za-z0-9] up to 30 characters: two letters for the
// operation ("PO" order, "CP" capture) and the session's 128-bit UUID in base 36 (25 characters).
// An empty string if `session_id` is not a UUID.
std::string payee_reference(std::string_view operation, std::string_view session_id);

// The payeeReference of a session's `attempt`-th payment order create (1..kMaxOrderAttempts):
// "PO", the session's UUID in base 36 and the attempt in three decimal digits: exactly 30
// characters of [A-Za-z0-9]. Every create gets its own, so a create whose answer was lost is
// never repeated under the same reference (what Swedbank Pay answers to a used one is not
// documented, and its answer does not name the existing order). Empty if `session_id` is not a
// UUID or `attempt` is out of range.
inline constexpr int kMaxOrderAttempts = 999;
std::string order_payee_reference(std::string_view session_id, int attempt);

}  // namespace visitpay::domain
