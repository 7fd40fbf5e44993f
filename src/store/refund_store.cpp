#include "store/refund_store.hpp"

#include "common/time_format.hpp"
#include "common/uuid.hpp"
#include "store/outbox_queue.hpp"

namespace visitpay::store {

using common::ErrorCode;
using common::make_error;
using common::Ok;
using common::Result;
using domain::PaymentOperationKind;
using domain::PaymentOperationStatus;

namespace {

#define VISITPAY_OPERATION_COLUMNS                                                               \
  "id, session_id, kind, purpose, amount_ore, vat_amount_ore, payee_reference, status, reason, " \
  "requested_by, requested_at, provider_reference, error, completed_at "

constexpr Statement kClinicOf{"refund.clinic_of", "SELECT clinic_id FROM sessions WHERE id = $1"};

// After the session row is locked. $2 reversal, $3 failed: what was refunded counts every
// reversal not failed; the count of all of them numbers the next one's payeeReference.
constexpr Statement kFacts{"refund.facts", R"sql(
SELECT s.state, s.clinic_id, s.amount_ore, s.vat_amount_ore, o.order_id IS NOT NULL,
       coalesce(o.status, ''), coalesce(o.captured_ore, 0),
       (SELECT coalesce(sum(p.amount_ore), 0) FROM payment_operations p
        WHERE p.session_id = s.id AND p.kind = $2 AND p.status <> $3),
       (SELECT coalesce(sum(p.vat_amount_ore), 0) FROM payment_operations p
        WHERE p.session_id = s.id AND p.kind = $2 AND p.status <> $3),
       (SELECT count(*) FROM payment_operations p WHERE p.session_id = s.id AND p.kind = $2)
FROM sessions s LEFT JOIN payment_orders o ON o.session_id = s.id
WHERE s.id = $1)sql"};

constexpr Statement kByKey{"refund.by_key", "SELECT " VISITPAY_OPERATION_COLUMNS
                                            "FROM payment_operations "
                                            "WHERE session_id = $1 AND idempotency_key = $2"};

constexpr Statement kInsert{"refund.insert", R"sql(
WITH op AS (
  INSERT INTO payment_operations (id, session_id, kind, purpose, amount_ore, vat_amount_ore,
                                  payee_reference, status, reason, idempotency_key, requested_by,
                                  requested_at, updated_at)
  VALUES ($1, $2, $3, 'refund', $4, $5, $6, $7, nullif($8, ''), $9, $10, $11, $11)
  RETURNING id, status
)
INSERT INTO payment_operation_events (operation_id, at, actor, action, to_status, detail)
SELECT id, $11, $10, 'request', status, nullif($8, '') FROM op)sql",
                            Repeat::once};

// A payment confirmed for a cancelled session: a cancel of the authorisation ($3, reference $5),
// or for a one-phase Sale ($9) a reversal of it ($4, reference $6). One per session.
constexpr Statement kRelease{"refund.release", R"sql(
WITH src AS (
  SELECT s.id, s.amount_ore, s.vat_amount_ore, coalesce(o.transaction_type = $9, false) AS sale
  FROM sessions s JOIN payment_orders o ON o.session_id = s.id
  WHERE s.id = $2
), op AS (
  INSERT INTO payment_operations (id, session_id, kind, purpose, amount_ore, vat_amount_ore,
                                  payee_reference, status, requested_by, requested_at, updated_at)
  SELECT $1, src.id, CASE WHEN src.sale THEN $4 ELSE $3 END, 'release', src.amount_ore,
         CASE WHEN src.sale THEN src.vat_amount_ore ELSE 0 END,
         CASE WHEN src.sale THEN $6 ELSE $5 END, $8, 'system', $7, $7
  FROM src
  ON CONFLICT DO NOTHING
  RETURNING id, status
)
INSERT INTO payment_operation_events (operation_id, at, actor, action, to_status, detail)
SELECT id, $7, 'system', 'request', status, 'paid after the session was cancelled' FROM op)sql"};

constexpr Statement kRequested{"refund.requested", "SELECT " VISITPAY_OPERATION_COLUMNS
                                                   "FROM payment_operations "
                                                   "WHERE session_id = $1 AND status = $2 "
                                                   "ORDER BY requested_at, id"};

// A cancel the provider confirmed ($8 the done status, $9 the cancel kind) leaves the order
// cancelled ($10): the release is known here, before any status check shows it.
constexpr Statement kFinish{"refund.finish", R"sql(
WITH u AS (
  UPDATE payment_operations
  SET status = $2, provider_reference = $3, error = $4, completed_at = $5, updated_at = $5
  WHERE id = $1 AND status = $6
  RETURNING id, session_id, kind
), released AS (
  UPDATE payment_orders o SET status = $10, updated_at = $5
  FROM u WHERE o.session_id = u.session_id AND $2 = $8 AND u.kind = $9
)
INSERT INTO payment_operation_events (operation_id, at, actor, action, from_status, to_status,
                                      detail)
SELECT id, $5, 'system', $7, $6, $2, $4 FROM u
RETURNING operation_id)sql",
                            Repeat::once};

constexpr Statement kList{"refund.list", "SELECT " VISITPAY_OPERATION_COLUMNS
                                         "FROM payment_operations WHERE session_id = $1 "
                                         "ORDER BY requested_at, id"};

// $1 requested; $3/$4 the work kinds that carry operations out.
constexpr Statement kRequeue{"refund.requeue_stranded", R"sql(
INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
SELECT DISTINCT p.session_id, $3, $5::timestamptz, $5::timestamptz, $5::timestamptz
FROM payment_operations p
WHERE p.status = $1 AND p.updated_at < $2
  AND NOT EXISTS (SELECT 1 FROM outbox o
                  WHERE o.session_id = p.session_id AND o.status = 'pending'
                    AND o.kind IN ($3, $4))
LIMIT $6
)sql" VISITPAY_OUTBOX_ON_CONFLICT,
                             Repeat::once};

#undef VISITPAY_OPERATION_COLUMNS

std::string ts(domain::Timestamp t) {
  return common::format_rfc3339_utc(t);
}

domain::Timestamp parse_ts(std::string_view text) {
  return common::parse_pg_timestamptz(text).value_or(domain::Timestamp{});
}

std::vector<PaymentOperationRecord> read_operations(const PgResult& r) {
  std::vector<PaymentOperationRecord> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    PaymentOperationRecord o;
    int c = 0;
    o.id = r.string(i, c++);
    o.session_id = r.string(i, c++);
    o.kind = domain::parse_payment_operation_kind(r.text(i, c++))
                 .value_or(PaymentOperationKind::reversal);
    o.purpose = r.string(i, c++);
    o.amount = r.int64(i, c++);
    o.vat_amount = r.int64(i, c++);
    o.payee_reference = r.string(i, c++);
    o.status = domain::parse_payment_operation_status(r.text(i, c++))
                   .value_or(PaymentOperationStatus::failed);
    o.reason = r.optional_string(i, c++);
    o.requested_by = r.string(i, c++);
    o.requested_at = parse_ts(r.text(i, c++));
    o.provider_reference = r.optional_string(i, c++);
    o.error = r.optional_string(i, c++);
    if (!r.is_null(i, c)) o.completed_at = parse_ts(r.text(i, c));
    out.push_back(std::move(o));
  }
  return out;
}

struct LockedFacts {
  domain::RefundableFacts refundable;
  std::string clinic_id;
  int reversals = 0;  // every reversal of the session so far, failed ones too
};

LockedFacts read_facts(const PgResult& r) {
  LockedFacts f;
  auto& facts = f.refundable;
  facts.state = domain::parse_session_state(r.text(0, 0)).value_or(domain::SessionState::pending);
  f.clinic_id = r.string(0, 1);
  facts.amount = r.int64(0, 2);
  facts.vat_amount = r.int64(0, 3);
  facts.has_order = r.boolean(0, 4);
  const auto status = domain::parse_order_status(r.text(0, 5));
  facts.paid = status == domain::OrderStatus::paid || status == domain::OrderStatus::reversed;
  facts.captured = r.int64(0, 6);
  facts.refunded = r.int64(0, 7);
  facts.refunded_vat = r.int64(0, 8);
  f.reversals = static_cast<int>(r.int64(0, 9));
  return f;
}

PgParams facts_params(std::string_view session_id) {
  PgParams p;
  p.add(session_id)
      .add(domain::to_string(PaymentOperationKind::reversal))
      .add(domain::to_string(PaymentOperationStatus::failed));
  return p;
}

// The refund a request makes, as it is inserted.
PaymentOperationRecord new_refund(std::string_view session_id, const domain::RefundPlan& plan,
                                  std::string reference, const RefundInput& input,
                                  domain::Timestamp now) {
  PaymentOperationRecord o;
  o.id = common::new_uuid_v7(now);
  o.session_id = std::string(session_id);
  o.kind = PaymentOperationKind::reversal;
  o.purpose = "refund";
  o.amount = plan.amount;
  o.vat_amount = plan.vat_amount;
  o.payee_reference = std::move(reference);
  o.status = PaymentOperationStatus::requested;
  if (!input.reason.empty()) o.reason = input.reason;
  o.requested_by = input.actor;
  o.requested_at = now;
  return o;
}

PgParams insert_params(const PaymentOperationRecord& o, const RefundInput& input,
                       domain::Timestamp now) {
  PgParams p;
  p.add(o.id)
      .add(o.session_id)
      .add(domain::to_string(o.kind))
      .add(o.amount)
      .add(o.vat_amount)
      .add(o.payee_reference)
      .add(domain::to_string(o.status))
      .add(input.reason)
      .add(input.idempotency_key)
      .add(o.requested_by)
      .add(ts(now));
  return p;
}

template <typename T>
asio::awaitable<Result<T>> abandon(PgTransaction& tx, common::Error error) {
  auto ended = co_await tx.rollback();
  if (!ended) co_return std::move(ended).error();
  co_return error;
}

}  // namespace

asio::awaitable<Result<std::optional<std::string>>> RefundStore::clinic_of(
    std::string_view session_id) {
  PgParams p;
  p.add(session_id);
  auto r = co_await pool_.execute(kClinicOf, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<std::string>{};
  co_return std::optional<std::string>(r->string(0, 0));
}

asio::awaitable<Result<RefundRequested>> RefundStore::request_refund(std::string_view session_id,
                                                                     const RefundInput& input,
                                                                     domain::Timestamp now) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  auto state = co_await LifecycleStore::lock(*tx, session_id);
  if (!state) co_return std::move(state).error();
  if (!*state) {
    co_return co_await abandon<RefundRequested>(
        *tx, make_error(ErrorCode::not_found, "no such session"));
  }
  auto requested = co_await request_refund(*tx, lifecycle_, session_id, input, now);
  if (!requested) co_return co_await abandon<RefundRequested>(*tx, std::move(requested).error());
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  co_return std::move(requested);
}

asio::awaitable<Result<RefundRequested>> RefundStore::request_refund(PgTransaction& tx,
                                                                     LifecycleStore& lifecycle,
                                                                     std::string_view session_id,
                                                                     const RefundInput& input,
                                                                     domain::Timestamp now) {
  if (input.idempotency_key) {
    PgParams key;
    key.add(session_id).add(*input.idempotency_key);
    auto earlier = co_await tx.execute(kByKey, key);
    if (!earlier) co_return std::move(earlier).error();
    if (!earlier->empty()) {
      auto found = read_operations(*earlier).front();
      if (input.amount && !input.at_most && *input.amount != found.amount) {
        co_return make_error(ErrorCode::idempotency_key_reused,
                             "this Idempotency-Key made a refund of another amount");
      }
      co_return RefundRequested{std::move(found), true};
    }
  }
  auto facts = co_await tx.execute(kFacts, facts_params(session_id));
  if (!facts) co_return std::move(facts).error();
  const LockedFacts locked = read_facts(*facts);
  auto plan =
      domain::plan_refund(locked.refundable, domain::RefundAsk{input.amount, input.at_most});
  if (!plan) co_return std::move(plan).error();
  std::string reference = domain::operation_payee_reference(PaymentOperationKind::reversal,
                                                            session_id, locked.reversals + 1);
  if (reference.empty()) {
    co_return make_error(ErrorCode::invalid_state, "the session has had too many refunds");
  }
  auto record = new_refund(session_id, *plan, std::move(reference), input, now);
  auto inserted = co_await tx.execute(kInsert, insert_params(record, input, now));
  if (!inserted) co_return std::move(inserted).error();
  auto applied =
      co_await lifecycle.apply(tx, session_id, domain::SessionEvent::refund_requested, now);
  if (!applied) co_return std::move(applied).error();
  co_return RefundRequested{std::move(record), false};
}

asio::awaitable<Result<void>> RefundStore::request_release(PgTransaction& tx,
                                                           std::string_view session_id,
                                                           domain::Timestamp now) {
  PgParams p;
  p.add(common::new_uuid_v7(now))
      .add(session_id)
      .add(domain::to_string(PaymentOperationKind::cancel))
      .add(domain::to_string(PaymentOperationKind::reversal))
      .add(domain::operation_payee_reference(PaymentOperationKind::cancel, session_id, 1))
      .add(domain::operation_payee_reference(PaymentOperationKind::reversal, session_id, 1))
      .add(ts(now))
      .add(domain::to_string(PaymentOperationStatus::requested))
      .add("sale");
  auto r = co_await tx.execute(kRelease, p);
  if (!r) co_return std::move(r).error();
  co_return Ok{};
}

asio::awaitable<Result<std::vector<PaymentOperationRecord>>> RefundStore::requested(
    std::string_view session_id) {
  PgParams p;
  p.add(session_id).add(domain::to_string(PaymentOperationStatus::requested));
  auto r = co_await pool_.execute(kRequested, p);
  if (!r) co_return std::move(r).error();
  co_return read_operations(*r);
}

asio::awaitable<Result<bool>> RefundStore::finish(
    const std::string& operation_id, PaymentOperationStatus status,
    const std::optional<std::string>& provider_reference, const std::optional<std::string>& error,
    domain::Timestamp now) {
  PgParams p;
  p.add(operation_id)
      .add(domain::to_string(status))
      .add(provider_reference)
      .add(error)
      .add(ts(now))
      .add(domain::to_string(PaymentOperationStatus::requested))
      .add(status == PaymentOperationStatus::done ? "done" : "fail")
      .add(domain::to_string(PaymentOperationStatus::done))
      .add(domain::to_string(domain::PaymentOperationKind::cancel))
      .add(domain::to_string(domain::OrderStatus::cancelled));
  auto r = co_await pool_.execute(kFinish, p);
  if (!r) co_return std::move(r).error();
  co_return !r->empty();
}

asio::awaitable<Result<std::optional<RefundSummary>>> RefundStore::summary(
    std::string_view session_id) {
  auto facts = co_await pool_.execute(kFacts, facts_params(session_id));
  if (!facts) co_return std::move(facts).error();
  if (facts->empty()) co_return std::optional<RefundSummary>{};
  const LockedFacts locked = read_facts(*facts);
  PgParams p;
  p.add(session_id);
  auto list = co_await pool_.execute(kList, p);
  if (!list) co_return std::move(list).error();
  RefundSummary out;
  out.clinic_id = locked.clinic_id;
  out.paid = locked.refundable.captured;
  out.refunded = locked.refundable.refunded;
  out.operations = read_operations(*list);
  co_return std::optional<RefundSummary>(std::move(out));
}

asio::awaitable<Result<std::int64_t>> RefundStore::requeue_stranded(PgPool& pool,
                                                                    domain::Timestamp quiet_before,
                                                                    domain::Timestamp now,
                                                                    int limit) {
  PgParams p;
  p.add(domain::to_string(PaymentOperationStatus::requested))
      .add(ts(quiet_before))
      .add(domain::to_string(domain::WorkKind::reverse_payment))
      .add(domain::to_string(domain::WorkKind::cancel_payment))
      .add(ts(now))
      .add(limit);
  auto r = co_await pool.execute(kRequeue, p);
  if (!r) co_return std::move(r).error();
  co_return r->affected_rows();
}

}  // namespace visitpay::store
