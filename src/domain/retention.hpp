#pragma once

#include <chrono>

namespace visitpay::domain {

// How long the payer's personal data is kept after the event that ends its purpose (config
// `retention`). The defaults are the clinic's privacy notice; norway.md sections 5 and 6.
struct RetentionPolicy {
  std::chrono::seconds paid{std::chrono::days(7)};  // refund/dispute margin after payment
  std::chrono::seconds cancelled{0};                // at once
  // Name and address on an invoice: until the end of the bookkeeping period, this many years
  // after the end of the fiscal year (bokføringsloven § 13).
  int bookkeeping_years = 5;
  // Anything older than this goes regardless, the look-up hash included (a safety net longer
  // than every other period).
  std::chrono::seconds safety_net{std::chrono::days(7 * 365)};
};

}  // namespace visitpay::domain
