#include "store/outbox_store.hpp"

#include "common/time_format.hpp"
#include "store/outbox_queue.hpp"

namespace visitpay::store {

using common::Result;

namespace {

// Answers a row only for an item added (rerun false) or marked to run again (true).
// Repeat::safe: a repeat finds the first run's item, and "not added" then means "already
// queued", which is true.
constexpr Statement kEnqueue{"outbox.enqueue", R"sql(
INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $4)
  )sql" VISITPAY_OUTBOX_ON_CONFLICT R"sql(
RETURNING rerun)sql"};

// Due times against $3 (the Clock port), leases against clock_timestamp() (see the header). An
// item claimed while its previous lease had run out (lease_until still set: no record came)
// counts as failing from now on. Repeat::once: a lost answer followed by a second claim would
// strand the first batch until its leases ran out and count it as crashed.
constexpr Statement kClaim{"outbox.claim", R"sql(
WITH due AS (
  SELECT id, kind, failing_since, lease_until IS NOT NULL AS abandoned
  FROM outbox
  WHERE status = 'pending' AND next_attempt_at <= $3::timestamptz
    AND (lease_until IS NULL OR lease_until < clock_timestamp())
  ORDER BY next_attempt_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED),
judged AS (
  SELECT d.id, d.abandoned,
         CASE WHEN d.abandoned THEN coalesce(d.failing_since, $3::timestamptz)
              ELSE d.failing_since END AS since,
         make_interval(secs => coalesce(b.secs, $7::float8)) AS budget
  FROM due d LEFT JOIN unnest($5::text[], $6::float8[]) AS b (kind, secs) ON b.kind = d.kind),
poison AS (
  SELECT id, since,
         abandoned AND coalesce(since + budget + make_interval(secs => $4::float8 / 1000)
                                <= $3::timestamptz, false) AS spent
  FROM judged)
UPDATE outbox o
SET status = CASE WHEN p.spent THEN 'dead' ELSE 'pending' END, rerun = false,
    lease_owner = CASE WHEN p.spent THEN NULL ELSE $1 END,
    lease_until = CASE WHEN p.spent THEN NULL
                       ELSE clock_timestamp() + make_interval(secs => $4::float8 / 1000) END,
    attempts = CASE WHEN p.spent THEN o.attempts ELSE o.attempts + 1 END,
    failing_since = p.since,
    last_error = CASE WHEN p.spent
                      THEN 'budget spent while claimed (worker crashed or timed out)'
                      ELSE o.last_error END,
    updated_at = $3
FROM poison p
WHERE o.id = p.id
RETURNING o.id, o.session_id, o.kind, o.attempts, o.failing_since, o.status)sql",
                           Repeat::once};

constexpr Statement kRenew{"outbox.renew", R"sql(
UPDATE outbox SET lease_until = clock_timestamp() + make_interval(secs => $3::float8 / 1000)
WHERE id = $1 AND lease_owner = $2 AND status = 'pending' AND lease_until IS NOT NULL)sql"};

// Done, unless work was queued for the item while it ran (rerun, store/outbox_queue.hpp): then
// it is pending again, due at once, unclaimed, with a fresh count of attempts. Done rows keep
// their lease owner, so completing one again answers it again. A worker that lost its lease stays
// fenced off. Repeat::once: after a rerun the item may be claimed again before a repeat arrives,
// and the repeat would then complete that new run. Several items at once (the dispatcher gathers
// those that finish together); the primary key's index visits the ids in ascending order, so
// concurrent statements lock rows in the same order.
constexpr Statement kComplete{"outbox.complete", R"sql(
UPDATE outbox
SET status = CASE WHEN rerun THEN 'pending' ELSE 'done' END,
    completed_at = CASE WHEN rerun THEN completed_at ELSE coalesce(completed_at, $3) END,
    next_attempt_at = CASE WHEN rerun THEN $3 ELSE next_attempt_at END,
    lease_owner = CASE WHEN rerun THEN NULL ELSE lease_owner END,
    attempts = CASE WHEN rerun THEN 0 ELSE attempts END,
    rerun = false, updated_at = $3, lease_until = NULL, last_error = NULL, failing_since = NULL
WHERE id = ANY ($1::bigint[]) AND lease_owner = $2
  AND (status = 'pending' AND lease_until IS NOT NULL OR status = 'done')
RETURNING id)sql",
                              Repeat::once};

// The budget is a time horizon: dead once the item has been failing for $5 seconds (or on a
// permanent refusal). Repeat::once: a repeat would find its lease gone and report a lost lease.
constexpr Statement kFail{"outbox.fail", R"sql(
UPDATE outbox
SET status = CASE WHEN $6::bool OR $7::timestamptz - coalesce(failing_since, $7::timestamptz)
                                    >= make_interval(secs => $5::float8)
                  THEN 'dead' ELSE 'pending' END,
    failing_since = coalesce(failing_since, $7::timestamptz),
    next_attempt_at = $4, last_error = $3, updated_at = $7, lease_owner = NULL,
    lease_until = NULL, rerun = false
WHERE id = $1 AND lease_owner = $2 AND status = 'pending' AND lease_until IS NOT NULL
RETURNING status)sql",
                          Repeat::once};

// A deliberate wait is not a failure: the budget starts afresh. Repeat::once, as kFail.
constexpr Statement kWait{"outbox.wait", R"sql(
UPDATE outbox
SET failing_since = NULL, next_attempt_at = $4, last_error = $3, updated_at = $5,
    lease_owner = NULL, lease_until = NULL, rerun = false
WHERE id = $1 AND lease_owner = $2 AND status = 'pending' AND lease_until IS NOT NULL)sql",
                          Repeat::once};

// In batches, so a long backlog never holds one big transaction; outbox_finished finds them.
constexpr Statement kDeleteFinished{"outbox.delete_finished", R"sql(
DELETE FROM outbox
WHERE id IN (SELECT id FROM outbox
             WHERE status IN ('done', 'cancelled') AND updated_at < $1::timestamptz
             LIMIT $2))sql"};

constexpr Statement kDead{"outbox.dead", R"sql(
SELECT id, session_id, kind, attempts, coalesce(last_error, ''), updated_at
FROM outbox WHERE status = 'dead' ORDER BY id LIMIT $1)sql"};

constexpr Statement kCountDead{"outbox.count_dead",
                               "SELECT count(*) FROM outbox WHERE status = 'dead'"};

// How long the longest-waiting due item has been due (0 when none is): the dispatcher's lag.
constexpr Statement kOldestDue{"outbox.oldest_due", R"sql(
SELECT coalesce(extract(epoch FROM $1::timestamptz - min(next_attempt_at)), 0)::bigint
FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1::timestamptz)sql"};

// Repeat::once: a repeat would find the item no longer dead and answer "not dead".
constexpr Statement kRetry{"outbox.retry", R"sql(
UPDATE outbox o
SET status = 'pending', attempts = 0, failing_since = NULL, next_attempt_at = $2,
    updated_at = $2
WHERE o.id = $1 AND o.status = 'dead'
  AND NOT EXISTS (SELECT 1 FROM outbox p
                  WHERE p.session_id = o.session_id AND p.kind = o.kind
                    AND p.status = 'pending'))sql",
                           Repeat::once};

std::string ts(domain::Timestamp t) {
  return common::format_rfc3339_utc(t);
}

// For the fenced updates: true when exactly the one item changed.
asio::awaitable<Result<bool>> changed_one(PgPool& pool, const Statement& statement,
                                          const PgParams& params) {
  auto r = co_await pool.execute(statement, params);
  if (!r) co_return std::move(r).error();
  co_return r->affected_rows() == 1;
}

}  // namespace

const Statement& OutboxStore::claim_statement() {
  return kClaim;
}

PgParams OutboxStore::claim_params(std::string_view owner, int limit, domain::Timestamp now,
                                   std::chrono::milliseconds lease, const RetryBudgets& budgets) {
  std::vector<std::string> kinds;
  std::vector<std::string> seconds;
  for (const auto& [kind, budget] : budgets.by_kind) {
    kinds.push_back(kind);
    seconds.push_back(std::to_string(budget.count()));
  }
  PgParams p;
  p.add(owner).add(limit).add(ts(now)).add(static_cast<std::int64_t>(lease.count()));
  p.add(pg_text_array(kinds)).add(pg_text_array(seconds));
  p.add(static_cast<std::int64_t>(budgets.fallback.count()));
  return p;
}

const Statement& OutboxStore::complete_statement() {
  return kComplete;
}

PgParams OutboxStore::complete_params(const std::vector<std::int64_t>& ids, std::string_view owner,
                                      domain::Timestamp now) {
  PgParams p;
  p.add(pg_int_array(ids)).add(owner).add(ts(now));
  return p;
}

asio::awaitable<Result<bool>> OutboxStore::enqueue(std::string_view session_id,
                                                   std::string_view kind, domain::Timestamp due,
                                                   domain::Timestamp now) {
  PgParams p;
  p.add(session_id).add(kind).add(ts(due)).add(ts(now));
  auto r = co_await pool_.execute(kEnqueue, p);
  if (!r) co_return std::move(r).error();
  co_return r->rows() == 1 && !r->boolean(0, 0);
}

asio::awaitable<Result<OutboxStore::Claimed>> OutboxStore::claim(std::string_view owner, int limit,
                                                                 domain::Timestamp now,
                                                                 std::chrono::milliseconds lease,
                                                                 const RetryBudgets& budgets) {
  auto r = co_await pool_.execute(kClaim, claim_params(owner, limit, now, lease, budgets));
  if (!r) co_return std::move(r).error();
  Claimed claimed;
  for (int i = 0; i < r->rows(); ++i) {
    OutboxItem item{r->int64(i, 0),  r->string(i, 1),
                    r->string(i, 2), static_cast<int>(r->int64(i, 3)),
                    std::nullopt,    false};
    if (!r->is_null(i, 4)) item.failing_since = common::parse_pg_timestamptz(r->text(i, 4));
    if (r->string(i, 5) == "dead") {
      claimed.poisoned.push_back(std::move(item));
      continue;
    }
    // A failure now would find the budget spent.
    item.last_chance = item.failing_since && now - *item.failing_since >= budgets.of(item.kind);
    claimed.items.push_back(std::move(item));
  }
  co_return claimed;
}

asio::awaitable<Result<bool>> OutboxStore::renew(std::int64_t id, std::string_view owner,
                                                 std::chrono::milliseconds lease) {
  PgParams p;
  p.add(id).add(owner).add(static_cast<std::int64_t>(lease.count()));
  co_return co_await changed_one(pool_, kRenew, p);
}

asio::awaitable<Result<std::vector<std::int64_t>>> OutboxStore::complete(
    const std::vector<std::int64_t>& ids, std::string_view owner, domain::Timestamp now) {
  auto r = co_await pool_.execute(kComplete, complete_params(ids, owner, now));
  if (!r) co_return std::move(r).error();
  std::vector<std::int64_t> completed;
  completed.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i)
    completed.push_back(r->int64(i, 0));
  co_return completed;
}

asio::awaitable<Result<bool>> OutboxStore::complete(std::int64_t id, std::string_view owner,
                                                    domain::Timestamp now) {
  const std::vector<std::int64_t> ids{id};
  auto completed = co_await complete(ids, owner, now);
  if (!completed) co_return std::move(completed).error();
  co_return !completed->empty();
}

asio::awaitable<Result<FailRecord>> OutboxStore::fail(std::int64_t id, std::string_view owner,
                                                      std::string_view error,
                                                      domain::Timestamp next,
                                                      std::chrono::seconds budget, bool permanent,
                                                      domain::Timestamp now) {
  PgParams p;
  p.add(id).add(owner).add(error).add(ts(next)).add(static_cast<std::int64_t>(budget.count()));
  p.add(permanent).add(ts(now));
  auto r = co_await pool_.execute(kFail, p);
  if (!r) co_return std::move(r).error();
  if (r->rows() != 1) co_return FailRecord::lost_lease;
  co_return r->string(0, 0) == "dead" ? FailRecord::dead : FailRecord::retry;
}

asio::awaitable<Result<bool>> OutboxStore::wait(std::int64_t id, std::string_view owner,
                                                std::string_view why, domain::Timestamp next,
                                                domain::Timestamp now) {
  PgParams p;
  p.add(id).add(owner).add(why).add(ts(next)).add(ts(now));
  co_return co_await changed_one(pool_, kWait, p);
}

asio::awaitable<Result<std::int64_t>> OutboxStore::delete_finished(domain::Timestamp before,
                                                                   int limit) {
  PgParams p;
  p.add(ts(before)).add(limit);
  auto r = co_await pool_.execute(kDeleteFinished, p);
  if (!r) co_return std::move(r).error();
  co_return r->affected_rows();
}

asio::awaitable<Result<std::vector<DeadOutboxItem>>> OutboxStore::dead(int limit) {
  PgParams p;
  p.add(limit);
  auto r = co_await pool_.execute(kDead, p);
  if (!r) co_return std::move(r).error();
  std::vector<DeadOutboxItem> items;
  items.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) {
    items.push_back({r->int64(i, 0), r->string(i, 1), r->string(i, 2),
                     static_cast<int>(r->int64(i, 3)), r->string(i, 4),
                     common::parse_pg_timestamptz(r->text(i, 5)).value_or(domain::Timestamp{})});
  }
  co_return items;
}

asio::awaitable<Result<bool>> OutboxStore::retry(std::int64_t id, domain::Timestamp now) {
  PgParams p;
  p.add(id).add(ts(now));
  co_return co_await changed_one(pool_, kRetry, p);
}

asio::awaitable<Result<std::int64_t>> OutboxStore::count_dead() {
  auto r = co_await pool_.execute(kCountDead, PgParams{});
  if (!r) co_return std::move(r).error();
  co_return r->int64(0, 0);
}

namespace {
constexpr Statement kErrorsSince{"outbox.errors_since", R"sql(
SELECT kind, count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'dead'),
  coalesce(sum(attempts), 0), (array_agg(last_error ORDER BY updated_at DESC))[1]
FROM outbox WHERE last_error IS NOT NULL AND updated_at >= $1 AND status IN ('pending', 'dead')
GROUP BY kind ORDER BY kind)sql"};
}  // namespace

asio::awaitable<common::Result<std::vector<KindErrors>>> OutboxStore::errors_since(
    domain::Timestamp since) {
  PgParams p;
  p.add(common::format_rfc3339_utc(since));
  auto r = co_await pool_.execute(kErrorsSince, p);
  if (!r) co_return std::move(r).error();
  std::vector<KindErrors> out;
  out.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) {
    out.push_back({r->string(i, 0), r->int64(i, 1), r->int64(i, 2), r->int64(i, 3),
                   r->optional_string(i, 4)});
  }
  co_return out;
}

asio::awaitable<Result<std::int64_t>> OutboxStore::oldest_due_seconds(domain::Timestamp now) {
  PgParams p;
  p.add(ts(now));
  auto r = co_await pool_.execute(kOldestDue, p);
  if (!r) co_return std::move(r).error();
  co_return r->int64(0, 0);
}

}  // namespace visitpay::store
