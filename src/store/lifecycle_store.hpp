#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "domain/session_lifecycle.hpp"
#include "store/pg_pool.hpp"
#include "store/pg_sync.hpp"
#include "store/pg_transaction.hpp"

namespace visitpay::store {

// Facts an event carries onto the session with its step (each only where it applies).
struct TransitionFacts {
  std::optional<domain::Timestamp> deadline;  // link_sent/delivered: the deadline the SMS stated
  // link_delivered: the invoice fee the SMS stated, disclosed only now that it arrived
  std::optional<domain::Ore> fee_disclosed;
  std::optional<std::string> link_error;  // link_failed/refused: why (no personal data)
};

// What applying an event did to one session.
struct Applied {
  std::string session_id;
  domain::SessionState before = domain::SessionState::pending;
  std::optional<domain::SessionState> after;  // nullopt: the event does not apply to `before`

  bool changed() const { return after && *after != before; }
};

// A session past its state's bound (the watchdog's finding).
struct OverdueSession {
  std::string session_id;
  domain::SessionState state = domain::SessionState::pending;
  domain::Timestamp since;
  std::string clinic_id;
  std::optional<std::string> link_error;
};

// The only writer of `sessions.state`. A transition is a compare-and-set on the state the
// session is in when its row is locked, with the work it queues and stops, in one statement; the
// table in domain/session_lifecycle.hpp says what happens, this runs it. `apply` takes the pool
// (a statement of its own) or a transaction that must commit together with other changes (then
// the session row is locked first in that transaction: one lock order everywhere).
class LifecycleStore {
 public:
  explicit LifecycleStore(PgPool& pool) : pool_(pool) {}

  asio::awaitable<common::Result<std::optional<Applied>>> apply(std::string_view session_id,
                                                                domain::SessionEvent event,
                                                                domain::Timestamp now,
                                                                const TransitionFacts& facts = {});
  asio::awaitable<common::Result<std::optional<Applied>>> apply(PgTransaction& tx,
                                                                std::string_view session_id,
                                                                domain::SessionEvent event,
                                                                domain::Timestamp now,
                                                                const TransitionFacts& facts = {});
  // `apply` in `tx` as its last statement, sent with the COMMIT in one round trip, after
  // `first` (statements of the same transaction that need nothing from each other's answers),
  // whose answers go to `first_answers` when given.
  asio::awaitable<common::Result<std::optional<Applied>>> apply_and_commit(
      PgTransaction& tx, std::string_view session_id, domain::SessionEvent event,
      domain::Timestamp now, const TransitionFacts& facts = {}, std::span<const PgCall> first = {},
      std::vector<PgResult>* first_answers = nullptr);
  // The same event for many sessions (the sweeper's batch).
  asio::awaitable<common::Result<std::vector<Applied>>> apply_all(
      PgTransaction& tx, const std::vector<std::string>& session_ids, domain::SessionEvent event,
      domain::Timestamp now, const TransitionFacts& facts = {});

  // Locks a session's row in `tx` and returns its state (nullopt: no such session). Work that
  // must see everything committed before it (an invoice created a moment ago) runs after this,
  // in later statements of the same transaction.
  static asio::awaitable<common::Result<std::optional<domain::SessionState>>> lock(
      PgTransaction& tx, std::string_view session_id);
  // The state in lock_statement()'s answer, for a lock sent in a pipeline with other statements.
  static std::optional<domain::SessionState> locked_state(const PgResult& answer);

  // Sessions whose window closed: window_closed for up to `limit` of them (SKIP LOCKED, so
  // instances share the work). Returns how many moved.
  asio::awaitable<common::Result<std::int64_t>> close_windows(domain::Timestamp now, int limit);
  // The exits of last resort: open sessions with no live work that could move them (a dead
  // letter, a lost queue entry) get `stranded`. Only sessions in their state since before
  // `quiet_before` are looked at, so work being queued right now is never mistaken for none.
  // Requested refunds whose work was lost are queued again too (RefundStore::requeue_stranded).
  asio::awaitable<common::Result<std::int64_t>> repair_stranded(domain::Timestamp quiet_before,
                                                                domain::Timestamp now, int limit);

  // Sessions past their state's bound, at most `limit`, oldest first (`visitpay sessions
  // check`); and their count by state (the watchdog's gauge).
  // The same list through the pool (GET /v1/ops/overdue-sessions).
  asio::awaitable<common::Result<std::vector<OverdueSession>>> overdue(
      const domain::LifecycleBounds& bounds, domain::Timestamp now, int limit);
  static common::Result<std::vector<OverdueSession>> overdue(PgSyncConnection& db,
                                                             const domain::LifecycleBounds& bounds,
                                                             domain::Timestamp now, int limit);
  asio::awaitable<common::Result<std::vector<std::pair<domain::SessionState, std::int64_t>>>>
  count_overdue(const domain::LifecycleBounds& bounds, domain::Timestamp now);

  // The parameters `apply` sends (for the benchmark's pgbench twin).
  static const Statement& transition_statement();
  static PgParams transition_params(const std::vector<std::string>& session_ids,
                                    domain::SessionEvent event, domain::Timestamp now,
                                    const TransitionFacts& facts);
  // The row lock every transaction that changes a session takes first, and close_windows' claim.
  static const Statement& lock_statement();
  static const Statement& due_windows_statement();
  static PgParams due_windows_params(domain::Timestamp now, int limit);

 private:
  PgPool& pool_;
};

}  // namespace visitpay::store
