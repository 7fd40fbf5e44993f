#include "store/lifecycle_store.hpp"

#include "common/time_format.hpp"
#include "store/outbox_queue.hpp"
#include "store/refund_store.hpp"

namespace visitpay::store {

using common::Result;
using domain::SessionEvent;
using domain::SessionState;

namespace {

// The transition: lock the sessions (in id order), join each one's state with the table's rows
// for the event ($2..$6, one array element per row), and apply the step with its facts, the work
// it stops and the work it queues. A session whose state has no row for the event is returned
// unchanged (to_state NULL). States, reasons and work kinds come only from the parameters.
constexpr Statement kTransition{"session.transition", R"sql(
WITH cur AS (
  SELECT id, state FROM sessions WHERE id = ANY ($1::uuid[]) ORDER BY id FOR UPDATE
), step AS (
  SELECT cur.id, cur.state AS from_state, t.to_state, nullif(t.reason, '') AS reason, t.queue,
         t.stop
  FROM cur
  JOIN unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
       AS t (from_state, to_state, reason, queue, stop) ON t.from_state = cur.state
), moved AS (
  UPDATE sessions s
  SET state = step.to_state,
      state_since = CASE WHEN step.to_state <> step.from_state THEN $7::timestamptz
                         ELSE s.state_since END,
      updated_at = $7::timestamptz,
      invoice_reason = coalesce(step.reason, s.invoice_reason),
      deadline_at = coalesce($8::timestamptz, s.deadline_at),
      fee_disclosed_ore = coalesce($9::bigint, s.fee_disclosed_ore),
      link_error = coalesce(s.link_error, $10::text),
      paid_at = coalesce($11::timestamptz, s.paid_at),
      cancelled_at = coalesce($12::timestamptz, s.cancelled_at),
      awaiting_since = coalesce(s.awaiting_since, $13::timestamptz),
      next_status_check_at = CASE WHEN s.awaiting_since IS NULL THEN $14::timestamptz
                                  ELSE s.next_status_check_at END
  FROM step WHERE s.id = step.id
), stopped AS (
  UPDATE outbox o
  SET status = 'cancelled', updated_at = $7::timestamptz, lease_owner = NULL, lease_until = NULL
  FROM step
  WHERE o.session_id = step.id AND o.status = 'pending'
    AND o.kind = ANY (string_to_array(step.stop, ','))
), queued AS (
  INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
  SELECT step.id, k.kind, $7::timestamptz, $7::timestamptz, $7::timestamptz
  FROM step, unnest(string_to_array(step.queue, ',')) AS k (kind)
  )sql" VISITPAY_OUTBOX_ON_CONFLICT R"sql(
)
SELECT cur.id, cur.state, step.to_state FROM cur LEFT JOIN step ON step.id = cur.id)sql",
                                Repeat::once};

constexpr Statement kLock{"session.lock", "SELECT state FROM sessions WHERE id = $1 FOR UPDATE",
                          Repeat::once};

constexpr Statement kDueWindows{"session.due_windows", R"sql(
SELECT id FROM sessions
WHERE state = $1 AND deadline_at <= $2
ORDER BY deadline_at
LIMIT $3
FOR UPDATE SKIP LOCKED)sql",
                                Repeat::once};

// Open sessions in `$1` since before `$2` with no live work of the kinds that are its exit.
constexpr Statement kStranded{"session.stranded", R"sql(
SELECT s.id FROM sessions s
WHERE s.state = $1 AND s.state_since < $2
  AND NOT EXISTS (SELECT 1 FROM outbox o
                  WHERE o.session_id = s.id AND o.status = 'pending' AND o.kind = ANY ($3::text[]))
ORDER BY s.state_since
LIMIT $4
FOR UPDATE OF s SKIP LOCKED)sql",
                              Repeat::once};

// $1 pending, $2 awaiting_payment, $3 invoicing; $4 now; bounds in seconds $5..$7.
#define VISITPAY_OVERDUE_WHERE                                                        \
  "WHERE (state = $1 AND state_since < $4::timestamptz - make_interval(secs => $5)) " \
  "OR (state = $2 AND deadline_at < $4::timestamptz - make_interval(secs => $6)) "    \
  "OR (state = $3 AND state_since < $4::timestamptz - make_interval(secs => $7)) "

constexpr Statement kOverdue{
    "session.overdue",
    "SELECT id, state, state_since, clinic_id, link_error FROM sessions " VISITPAY_OVERDUE_WHERE
    "ORDER BY state_since LIMIT $8"};
constexpr Statement kCountOverdue{"session.count_overdue",
                                  "SELECT state, count(*) FROM sessions " VISITPAY_OVERDUE_WHERE
                                  "GROUP BY state"};
#undef VISITPAY_OVERDUE_WHERE

std::string ts(domain::Timestamp t) {
  return common::format_rfc3339_utc(t);
}

std::optional<std::string> opt_ts(const std::optional<domain::Timestamp>& t) {
  if (!t) return std::nullopt;
  return ts(*t);
}

std::string csv(const domain::WorkSet& work) {
  std::string out;
  for (auto k : work.kinds()) {
    if (!out.empty()) out += ',';
    out += domain::to_string(k);
  }
  return out;
}

std::vector<std::string> text_of(const domain::WorkSet& work) {
  std::vector<std::string> out;
  for (auto k : work.kinds())
    out.emplace_back(domain::to_string(k));
  return out;
}

std::vector<Applied> read_applied(const PgResult& r) {
  std::vector<Applied> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    Applied a;
    a.session_id = r.string(i, 0);
    a.before = domain::parse_session_state(r.text(i, 1)).value_or(SessionState::pending);
    if (!r.is_null(i, 2)) a.after = domain::parse_session_state(r.text(i, 2));
    out.push_back(std::move(a));
  }
  return out;
}

template <typename Db>
asio::awaitable<Result<std::vector<Applied>>> run_transition(Db& db,
                                                             const std::vector<std::string>& ids,
                                                             SessionEvent event,
                                                             domain::Timestamp now,
                                                             const TransitionFacts& facts) {
  auto r =
      co_await db.execute(kTransition, LifecycleStore::transition_params(ids, event, now, facts));
  if (!r) co_return std::move(r).error();
  co_return read_applied(*r);
}

std::optional<Applied> single(std::vector<Applied> applied) {
  if (applied.empty()) return std::nullopt;
  return std::move(applied.front());
}

std::vector<std::string> ids_of(const PgResult& r) {
  std::vector<std::string> ids;
  ids.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i)
    ids.push_back(r.string(i, 0));
  return ids;
}

PgParams bounds_params(const domain::LifecycleBounds& b, domain::Timestamp now) {
  PgParams p;
  p.add(domain::to_string(SessionState::pending))
      .add(domain::to_string(SessionState::awaiting_payment))
      .add(domain::to_string(SessionState::invoicing))
      .add(ts(now))
      .add(static_cast<std::int64_t>(b.pending.count()))
      .add(static_cast<std::int64_t>(b.awaiting_payment_after_deadline.count()))
      .add(static_cast<std::int64_t>(b.invoicing.count()));
  return p;
}

}  // namespace

const Statement& LifecycleStore::transition_statement() {
  return kTransition;
}

const Statement& LifecycleStore::lock_statement() {
  return kLock;
}

const Statement& LifecycleStore::due_windows_statement() {
  return kDueWindows;
}

PgParams LifecycleStore::due_windows_params(domain::Timestamp now, int limit) {
  PgParams p;
  p.add(domain::to_string(SessionState::awaiting_payment)).add(ts(now)).add(limit);
  return p;
}

PgParams LifecycleStore::transition_params(const std::vector<std::string>& ids, SessionEvent event,
                                           domain::Timestamp now, const TransitionFacts& facts) {
  std::vector<std::string> from, to, reason, queue, stop;
  for (const auto& t : domain::transitions_of(event)) {
    from.emplace_back(domain::to_string(t.from));
    to.emplace_back(domain::to_string(t.step.to));
    reason.emplace_back(t.step.reason ? domain::to_string(*t.step.reason) : "");
    queue.push_back(csv(t.step.queues));
    stop.push_back(csv(t.step.stops));
  }
  std::optional<std::string> awaiting_since, next_check;
  if ((event == SessionEvent::link_sent || event == SessionEvent::link_delivered) &&
      facts.deadline) {
    awaiting_since = ts(now);
    next_check = opt_ts(domain::next_status_check(now, *facts.deadline, now));
  }
  PgParams p;
  p.add(pg_text_array(ids))
      .add(pg_text_array(from))
      .add(pg_text_array(to))
      .add(pg_text_array(reason))
      .add(pg_text_array(queue))
      .add(pg_text_array(stop))
      .add(ts(now))
      .add(opt_ts(facts.deadline));
  if (facts.fee_disclosed) {
    p.add(*facts.fee_disclosed);
  } else {
    p.add_null();
  }
  p.add(facts.link_error)
      .add(event == SessionEvent::paid ? std::optional(ts(now)) : std::nullopt)
      .add(event == SessionEvent::cancelled ? std::optional(ts(now)) : std::nullopt)
      .add(awaiting_since)
      .add(next_check);
  return p;
}

asio::awaitable<Result<std::optional<Applied>>> LifecycleStore::apply(
    std::string_view session_id, SessionEvent event, domain::Timestamp now,
    const TransitionFacts& facts) {
  // A named vector: GCC 12 mishandles braced temporaries in a co_await expression.
  const std::vector<std::string> ids{std::string(session_id)};
  auto applied = co_await run_transition(pool_, ids, event, now, facts);
  if (!applied) co_return std::move(applied).error();
  co_return single(std::move(*applied));
}

asio::awaitable<Result<std::optional<Applied>>> LifecycleStore::apply(
    PgTransaction& tx, std::string_view session_id, SessionEvent event, domain::Timestamp now,
    const TransitionFacts& facts) {
  const std::vector<std::string> ids{std::string(session_id)};
  auto applied = co_await run_transition(tx, ids, event, now, facts);
  if (!applied) co_return std::move(applied).error();
  co_return single(std::move(*applied));
}

asio::awaitable<Result<std::optional<Applied>>> LifecycleStore::apply_and_commit(
    PgTransaction& tx, std::string_view session_id, SessionEvent event, domain::Timestamp now,
    const TransitionFacts& facts, std::span<const PgCall> first,
    std::vector<PgResult>* first_answers) {
  const std::vector<std::string> ids{std::string(session_id)};
  const auto params = transition_params(ids, event, now, facts);
  std::vector<PgCall> calls(first.begin(), first.end());
  calls.push_back({kTransition, params});
  auto r = co_await tx.execute_and_commit(calls);
  if (!r) co_return std::move(r).error();
  auto applied = single(read_applied(r->back()));
  if (first_answers != nullptr) {
    r->pop_back();
    *first_answers = std::move(*r);
  }
  co_return applied;
}

asio::awaitable<Result<std::vector<Applied>>> LifecycleStore::apply_all(
    PgTransaction& tx, const std::vector<std::string>& session_ids, SessionEvent event,
    domain::Timestamp now, const TransitionFacts& facts) {
  co_return co_await run_transition(tx, session_ids, event, now, facts);
}

asio::awaitable<Result<std::optional<SessionState>>> LifecycleStore::lock(
    PgTransaction& tx, std::string_view session_id) {
  PgParams p;
  p.add(session_id);
  auto r = co_await tx.execute(kLock, p);
  if (!r) co_return std::move(r).error();
  co_return locked_state(*r);
}

std::optional<SessionState> LifecycleStore::locked_state(const PgResult& answer) {
  if (answer.empty()) return std::nullopt;
  return domain::parse_session_state(answer.text(0, 0));
}

asio::awaitable<Result<std::int64_t>> LifecycleStore::close_windows(domain::Timestamp now,
                                                                    int limit) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  auto due = co_await tx->execute(kDueWindows, due_windows_params(now, limit));
  if (!due) co_return std::move(due).error();
  if (due->empty()) {
    auto ended = co_await tx->rollback();
    if (!ended) co_return std::move(ended).error();
    co_return std::int64_t{0};
  }
  auto applied = co_await apply_all(*tx, ids_of(*due), SessionEvent::window_closed, now);
  if (!applied) co_return std::move(applied).error();
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  std::int64_t moved = 0;
  for (const auto& a : *applied)
    moved += a.changed() ? 1 : 0;
  co_return moved;
}

asio::awaitable<Result<std::int64_t>> LifecycleStore::repair_stranded(
    domain::Timestamp quiet_before, domain::Timestamp now, int limit) {
  std::int64_t repaired = 0;
  for (auto state : {SessionState::pending, SessionState::invoicing}) {
    auto tx = co_await PgTransaction::begin(pool_);
    if (!tx) co_return std::move(tx).error();
    PgParams p;
    p.add(domain::to_string(state))
        .add(ts(quiet_before))
        .add(pg_text_array(text_of(domain::exit_work(state))))
        .add(limit);
    auto stranded = co_await tx->execute(kStranded, p);
    if (!stranded) co_return std::move(stranded).error();
    std::vector<Applied> applied;
    if (!stranded->empty()) {
      // Kept on the session for ops (only where none was recorded before).
      TransitionFacts facts;
      if (state == SessionState::pending) {
        facts.link_error = "its link work ended without a result (see the dead letters)";
      }
      auto done = co_await apply_all(*tx, ids_of(*stranded), SessionEvent::stranded, now, facts);
      if (!done) co_return std::move(done).error();
      applied = std::move(*done);
    }
    auto committed = co_await tx->commit();
    if (!committed) co_return std::move(committed).error();
    for (const auto& a : applied)
      repaired += a.after ? 1 : 0;
  }
  auto requeued = co_await RefundStore::requeue_stranded(pool_, quiet_before, now, limit);
  if (!requeued) co_return std::move(requeued).error();
  co_return repaired + *requeued;
}

namespace {
std::vector<OverdueSession> read_overdue(const PgResult& r) {
  std::vector<OverdueSession> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    OverdueSession s;
    s.session_id = r.string(i, 0);
    s.state = domain::parse_session_state(r.text(i, 1)).value_or(SessionState::pending);
    s.since = common::parse_pg_timestamptz(r.text(i, 2)).value_or(domain::Timestamp{});
    s.clinic_id = r.string(i, 3);
    s.link_error = r.optional_string(i, 4);
    out.push_back(std::move(s));
  }
  return out;
}
}  // namespace

asio::awaitable<Result<std::vector<OverdueSession>>> LifecycleStore::overdue(
    const domain::LifecycleBounds& bounds, domain::Timestamp now, int limit) {
  auto p = bounds_params(bounds, now);
  p.add(limit);
  auto r = co_await pool_.execute(kOverdue, p);
  if (!r) co_return std::move(r).error();
  co_return read_overdue(*r);
}

Result<std::vector<OverdueSession>> LifecycleStore::overdue(PgSyncConnection& db,
                                                            const domain::LifecycleBounds& bounds,
                                                            domain::Timestamp now, int limit) {
  auto p = bounds_params(bounds, now);
  p.add(limit);
  auto r = db.exec(kOverdue.sql, p);
  if (!r) return std::move(r).error();
  return read_overdue(*r);
}

asio::awaitable<Result<std::vector<std::pair<SessionState, std::int64_t>>>>
LifecycleStore::count_overdue(const domain::LifecycleBounds& bounds, domain::Timestamp now) {
  auto r = co_await pool_.execute(kCountOverdue, bounds_params(bounds, now));
  if (!r) co_return std::move(r).error();
  std::vector<std::pair<SessionState, std::int64_t>> out;
  for (int i = 0; i < r->rows(); ++i) {
    if (auto s = domain::parse_session_state(r->text(i, 0))) out.emplace_back(*s, r->int64(i, 1));
  }
  co_return out;
}

}  // namespace visitpay::store
