#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "store/pg_pool.hpp"

namespace visitpay::store {

struct OutboxItem {
  std::int64_t id = 0;
  std::string session_id;
  std::string kind;
  int attempts = 0;  // including the current one
  // Since when this item has been failing (nullopt: it has not failed since its last success
  // or deliberate wait).
  std::optional<domain::Timestamp> failing_since;
  // The retry budget is spent if this attempt fails: a handler may take its exit (e.g. invoice
  // without the SMS) instead of failing once more into the dead letters.
  bool last_chance = false;
};

struct DeadOutboxItem {
  std::int64_t id = 0;
  std::string session_id;
  std::string kind;
  int attempts = 0;
  std::string last_error;
  domain::Timestamp updated_at{};
};

// How long each kind of work may go on failing before it is a dead letter (a time horizon,
// not a number of attempts: a provider that is down for ten minutes costs every item the
// same, however often it was tried).
struct RetryBudgets {
  std::map<std::string, std::chrono::seconds, std::less<>> by_kind;
  std::chrono::seconds fallback{std::chrono::hours(1)};

  std::chrono::seconds of(std::string_view kind) const {
    auto found = by_kind.find(kind);
    return found == by_kind.end() ? fallback : found->second;
  }
};

// What a failed attempt led to.
enum class FailRecord { lost_lease, retry, dead };

// The outbox table: durable, leased work items.
//
// Two clocks, on purpose. Due times and retry budgets are business time and come from the
// caller (the Clock port; tests move a manual clock). Leases are a mutual-exclusion device
// between instances, so they are computed and compared with the database's clock
// (clock_timestamp()) only: instances with skewed clocks still exclude each other, and a test
// that moves its manual clock does not expire a lease.
// Outbox items that failed at least once since a time, by kind: the operators' view of provider
// trouble (last_error holds the provider status or problem type, never personal data).
struct KindErrors {
  std::string kind;
  std::int64_t failing = 0;  // live items whose last attempt failed
  std::int64_t dead = 0;     // dead letters
  std::int64_t attempts = 0;
  std::optional<std::string> last_error;
};

class OutboxStore {
 public:
  explicit OutboxStore(PgPool& pool) : pool_(pool) {}

  asio::awaitable<common::Result<std::vector<KindErrors>>> errors_since(domain::Timestamp since);

  // Adds an item unless a live one of the same kind exists for the session (a claimed one is
  // marked to run again: store/outbox_queue.hpp). True if added.
  asio::awaitable<common::Result<bool>> enqueue(std::string_view session_id, std::string_view kind,
                                                domain::Timestamp due, domain::Timestamp now);

  // Claims up to `limit` due items for `owner` for `lease` (database time). An item whose
  // previous lease ran out without a record (its worker crashed or hung) counts as failing from
  // then; one whose budget has been spent for more than a lease is not handed out again but
  // moved to the dead letters (`poisoned`).
  struct Claimed {
    std::vector<OutboxItem> items;
    std::vector<OutboxItem> poisoned;
  };
  asio::awaitable<common::Result<Claimed>> claim(std::string_view owner, int limit,
                                                 domain::Timestamp now,
                                                 std::chrono::milliseconds lease,
                                                 const RetryBudgets& budgets);
  // Each returns false when the lease was lost (another instance owns the item now). A completed
  // item marked to run again is pending once more, due at `now`.
  asio::awaitable<common::Result<bool>> renew(std::int64_t id, std::string_view owner,
                                              std::chrono::milliseconds lease);
  // Marks the items of `ids` that `owner` still holds done and returns their ids (the others
  // were taken over: their leases ran out).
  asio::awaitable<common::Result<std::vector<std::int64_t>>> complete(
      const std::vector<std::int64_t>& ids, std::string_view owner, domain::Timestamp now);
  asio::awaitable<common::Result<bool>> complete(std::int64_t id, std::string_view owner,
                                                 domain::Timestamp now);
  // A failed attempt: another at `next`, or the dead letters when `permanent` or when the item
  // has been failing for `budget` by `now`.
  asio::awaitable<common::Result<FailRecord>> fail(std::int64_t id, std::string_view owner,
                                                   std::string_view error, domain::Timestamp next,
                                                   std::chrono::seconds budget, bool permanent,
                                                   domain::Timestamp now);
  // A deliberate wait (quiet hours, a delivery report, a provider that says "not now"): look
  // again at `next`. Not a failure: the budget starts afresh.
  asio::awaitable<common::Result<bool>> wait(std::int64_t id, std::string_view owner,
                                             std::string_view why, domain::Timestamp next,
                                             domain::Timestamp now);

  // Deletes up to `limit` done and cancelled rows last touched before `before`. Dead rows are
  // kept for ops.
  asio::awaitable<common::Result<std::int64_t>> delete_finished(domain::Timestamp before,
                                                                int limit);

  asio::awaitable<common::Result<std::vector<DeadOutboxItem>>> dead(int limit);
  // Puts a dead item back in the queue, due now, with a fresh budget. False if it is not dead.
  asio::awaitable<common::Result<bool>> retry(std::int64_t id, domain::Timestamp now);
  asio::awaitable<common::Result<std::int64_t>> count_dead();
  // Seconds the longest-waiting due item has been due at `now`; 0 when nothing is due.
  asio::awaitable<common::Result<std::int64_t>> oldest_due_seconds(domain::Timestamp now);

  // The claim and the completion as the dispatcher sends them (for the benchmark's pgbench twin).
  static const Statement& claim_statement();
  static PgParams claim_params(std::string_view owner, int limit, domain::Timestamp now,
                               std::chrono::milliseconds lease, const RetryBudgets& budgets);
  static const Statement& complete_statement();
  static PgParams complete_params(const std::vector<std::int64_t>& ids, std::string_view owner,
                                  domain::Timestamp now);

 private:
  PgPool& pool_;
};

}  // namespace visitpay::store
