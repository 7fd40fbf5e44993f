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

}  // namespace visitpay::domain
