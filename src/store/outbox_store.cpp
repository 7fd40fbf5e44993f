#include "store/outbox_store.hpp"

#include "common/time_format.hpp"

namespace visitpay::store {

using common::Result;

namespace {

constexpr Statement kEnqueue{"outbox.enqueue", R"sql(
INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $4)
ON CONFLICT (session_id, kind) WHERE status = 'pending' DO NOTHING
RETURNING id)sql"};

constexpr Statement kClaim{"outbox.claim", R"sql(
UPDATE outbox o
SET lease_owner = $1, lease_until = $3::timestamptz + make_interval(secs => $4::float8 / 1000),
    attempts = o.attempts + 1, updated_at = $3
WHERE o.id IN (
  SELECT id FROM outbox
  WHERE status = 'pending' AND next_attempt_at <= $3
    AND (lease_until IS NULL OR lease_until < $3)
  ORDER BY next_attempt_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED)
RETURNING o.id, o.session_id, o.kind, o.attempts)sql"};

constexpr Statement kRenew{"outbox.renew", R"sql(
UPDATE outbox SET lease_until = $3
WHERE id = $1 AND lease_owner = $2 AND status = 'pending')sql"};

constexpr Statement kComplete{"outbox.complete", R"sql(
UPDATE outbox
SET status = 'done', completed_at = $3, updated_at = $3, lease_owner = NULL, lease_until = NULL,
    last_error = NULL
WHERE id = $1 AND lease_owner = $2 AND status = 'pending')sql"};

constexpr Statement kFail{"outbox.fail", R"sql(
UPDATE outbox
SET status = CASE WHEN $6::bool OR attempts >= $5 THEN 'dead' ELSE 'pending' END,
    next_attempt_at = $4, last_error = $3, updated_at = $7, lease_owner = NULL,
    lease_until = NULL
WHERE id = $1 AND lease_owner = $2 AND status = 'pending')sql"};

constexpr Statement kDead{"outbox.dead", R"sql(
SELECT id, session_id, kind, attempts, coalesce(last_error, ''), updated_at
FROM outbox WHERE status = 'dead' ORDER BY id LIMIT $1)sql"};

constexpr Statement kCountDead{"outbox.count_dead",
                               "SELECT count(*) FROM outbox WHERE status = 'dead'"};

constexpr Statement kRetry{"outbox.retry", R"sql(
UPDATE outbox o
SET status = 'pending', attempts = 0, next_attempt_at = $2, updated_at = $2
WHERE o.id = $1 AND o.status = 'dead'
  AND NOT EXISTS (SELECT 1 FROM outbox p
                  WHERE p.session_id = o.session_id AND p.kind = o.kind
                    AND p.status = 'pending'))sql"};

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
                                   std::chrono::milliseconds lease) {
  PgParams p;
  p.add(owner).add(limit).add(ts(now)).add(static_cast<std::int64_t>(lease.count()));
  return p;
}

const Statement& OutboxStore::complete_statement() {
  return kComplete;
}

PgParams OutboxStore::complete_params(std::int64_t id, std::string_view owner,
                                      domain::Timestamp now) {
  PgParams p;
  p.add(id).add(owner).add(ts(now));
  return p;
}

asio::awaitable<Result<bool>> OutboxStore::enqueue(std::string_view session_id,
                                                   std::string_view kind, domain::Timestamp due,
                                                   domain::Timestamp now) {
  PgParams p;
  p.add(session_id).add(kind).add(ts(due)).add(ts(now));
  auto r = co_await pool_.execute(kEnqueue, p);
  if (!r) co_return std::move(r).error();
  co_return r->rows() == 1;
}

asio::awaitable<Result<std::vector<OutboxItem>>> OutboxStore::claim(
    std::string_view owner, int limit, domain::Timestamp now, std::chrono::milliseconds lease) {
  auto r = co_await pool_.execute(kClaim, claim_params(owner, limit, now, lease));
  if (!r) co_return std::move(r).error();
  std::vector<OutboxItem> items;
  items.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) {
    items.push_back(
        {r->int64(i, 0), r->string(i, 1), r->string(i, 2), static_cast<int>(r->int64(i, 3))});
  }
  co_return items;
}

asio::awaitable<Result<bool>> OutboxStore::renew(std::int64_t id, std::string_view owner,
                                                 domain::Timestamp until) {
  PgParams p;
  p.add(id).add(owner).add(ts(until));
  co_return co_await changed_one(pool_, kRenew, p);
}

asio::awaitable<Result<bool>> OutboxStore::complete(std::int64_t id, std::string_view owner,
                                                    domain::Timestamp now) {
  co_return co_await changed_one(pool_, kComplete, complete_params(id, owner, now));
}

asio::awaitable<Result<bool>> OutboxStore::fail(std::int64_t id, std::string_view owner,
                                                std::string_view error, domain::Timestamp next,
                                                int max_attempts, bool permanent,
                                                domain::Timestamp now) {
  PgParams p;
  p.add(id).add(owner).add(error).add(ts(next)).add(max_attempts).add(permanent).add(ts(now));
  co_return co_await changed_one(pool_, kFail, p);
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

}  // namespace visitpay::store
