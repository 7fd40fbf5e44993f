#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "store/pg_pool.hpp"
#include "store/pg_sync.hpp"

namespace visitpay::store {

// The retention policy (config `retention`), as durations from the event that ends a purpose.
struct RetentionPolicy {
  std::chrono::seconds paid{std::chrono::days(7)};  // refund/dispute margin after payment
  std::chrono::seconds cancelled{0};                // at once
  int bookkeeping_years = 5;                        // after the end of the fiscal year
  std::chrono::seconds safety_net{std::chrono::days(7 * 365)};  // anything older, regardless
};

// Purging destroys a class's wrapped data key and its ciphertexts in one statement (crypto-
// shredding) and writes a purge_events row (session, classes, rule, actor, time; no personal
// data). Rows are claimed with SKIP LOCKED, so several instances share the work.
// Rows of one rule still holding personal data past the policy (expected: none).
struct OverdueCount {
  std::string rule;
  std::int64_t sessions = 0;
};

class PrivacyStore {
 public:
  explicit PrivacyStore(PgPool& pool) : pool_(pool) {}

  // One pass of every rule, at most `limit` sessions per rule. Returns the sessions purged.
  asio::awaitable<common::Result<std::int64_t>> purge_due(const RetentionPolicy& policy,
                                                          domain::Timestamp now, int limit);

  // For `visitpay privacy check`: per rule, how many sessions hold data past the policy, plus
  // any plaintext left ("plaintext").
  static common::Result<std::vector<OverdueCount>> overdue(PgSyncConnection& db,
                                                           const RetentionPolicy& policy,
                                                           domain::Timestamp now);

 private:
  PgPool& pool_;
};

}  // namespace visitpay::store
