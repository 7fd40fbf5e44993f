#include "store/payment_store.hpp"

#include <charconv>

#include "common/crypto.hpp"
#include "common/time_format.hpp"
#include "common/uuid.hpp"
#include "domain/provider_reference.hpp"
#include "store/outbox_queue.hpp"
#include "store/pg_transaction.hpp"
#include "store/refund_store.hpp"
#include "store/wrapped_key_column.hpp"

namespace visitpay::store {

using common::Ok;
using common::Result;

namespace {

constexpr Statement kOrderContext{"payment.order_context", R"sql(
SELECT s.state, s.clinic_id, s.amount_ore, s.vat_amount_ore, o.order_id, k.master_key_id,
       k.wrapped_key
FROM sessions s
LEFT JOIN payment_orders o ON o.session_id = s.id
LEFT JOIN payer_keys k ON k.session_id = s.id AND k.key_class = 'transient'
WHERE s.id = $1)sql"};

// In save_order's transaction, after the session row is locked.
constexpr Statement kInsertOrder{"payment.insert_order", R"sql(
INSERT INTO payment_orders (session_id, account, order_id, payment_url_enc, status, created_at,
                            updated_at)
VALUES ($1, $2, $3, $4::bytea, $5, $6, $6)
ON CONFLICT (session_id) DO NOTHING
RETURNING session_id)sql",
                                 Repeat::once};

constexpr Statement kSmsContext{"payment.sms_context", R"sql(
SELECT s.state, s.clinic_id, s.amount_ore, p.phone_enc, o.payment_url_enc,
       (SELECT count(*) FROM sms_messages m
        WHERE m.session_id = s.id AND m.status IN ('sending', 'unknown')),
       (SELECT max(attempted_at) FROM sms_messages m
        WHERE m.session_id = s.id AND m.status IN ('sending', 'unknown')),
       k.master_key_id, k.wrapped_key, s.fee_terms_accepted_at IS NOT NULL
FROM sessions s
LEFT JOIN payers p ON p.session_id = s.id
LEFT JOIN payer_keys k ON k.session_id = s.id AND k.key_class = 'transient'
LEFT JOIN payment_orders o ON o.session_id = s.id
WHERE s.id = $1)sql"};

// A second run would record a second attempt: never repeated blindly. ref_token: the column's
// default, a fresh random secret.
constexpr Statement kBeginSms{"payment.begin_sms", R"sql(
WITH s AS (SELECT id FROM sessions WHERE id = $1 AND state = $6 FOR UPDATE)
INSERT INTO sms_messages (session_id, account, status, fee_disclosed_ore, deadline_at,
                          attempted_at, segments)
SELECT s.id, $2::text, 'sending', $3::bigint, $4::timestamptz, $5::timestamptz, $7::integer
FROM s
RETURNING id, ref_token)sql",
                              Repeat::once};

// The gateway's part count wins over our own when it gave one (reports come per part).
constexpr Statement kSmsAccepted{"payment.sms_accepted", R"sql(
UPDATE sms_messages
SET status = CASE WHEN status IN ('sending', 'unknown') THEN 'accepted' ELSE status END,
    gateway_message_id = $2, segments = CASE WHEN $3 > 0 THEN $3 ELSE segments END,
    accepted_at = coalesce(accepted_at, $4), error = NULL
WHERE id = $1
RETURNING fee_disclosed_ore, deadline_at)sql"};

constexpr Statement kSmsUnknown{"payment.sms_unknown", R"sql(
UPDATE sms_messages SET status = 'unknown', error = $2 WHERE id = $1 AND status = 'sending')sql"};

constexpr Statement kSmsNotSent{"payment.sms_not_sent", R"sql(
UPDATE sms_messages
SET status = CASE WHEN $3 THEN 'rejected' ELSE 'not_sent' END, error = $2, final_at = $4
WHERE id = $1 AND status = 'sending'
RETURNING session_id)sql",
                                Repeat::once};

// The candidates a delivery report may be about: the attempt with that gateway message id, or
// the attempt our reference names while it has no gateway id (its send answer was lost). The
// reference's secret is checked by the caller (find_reported_sms).
constexpr Statement kReportedSms{"payment.reported_sms", R"sql(
SELECT id, session_id, account, coalesce(ref_token, ''), gateway_message_id IS NOT NULL
FROM sms_messages
WHERE gateway_message_id = $1 OR (id = $2 AND gateway_message_id IS NULL)
ORDER BY gateway_message_id IS NOT NULL DESC
LIMIT 1)sql"};

// One part's report, recorded only while its attempt waits for reports: sent or accepted, not
// final, and not older than the age limit ($6). A part's final outcome is never overwritten (a
// late 1000 after the final code, a repeated report), so only a report that moves a part
// forward returns a row.
constexpr Statement kReportPart{"payment.report_part", R"sql(
WITH m AS (
  SELECT id FROM sms_messages
  WHERE id = $1 AND status IN ('sending', 'unknown', 'accepted') AND final_at IS NULL
    AND coalesce(accepted_at, attempted_at) >= $6::timestamptz
  FOR UPDATE
)
INSERT INTO sms_parts AS p (sms_id, part, result_code, outcome, reported_at)
SELECT m.id, $2::integer, $3::integer, $4::text, $5::timestamptz FROM m
ON CONFLICT (sms_id, part) DO UPDATE
SET result_code = excluded.result_code, outcome = excluded.outcome,
    reported_at = excluded.reported_at
WHERE p.outcome = 'in_progress'
RETURNING p.sms_id)sql",
                                Repeat::once};

// The message's state from its parts: failed as soon as one part failed; delivered when as many
// parts were delivered as it has (the most of: our count or the gateway's smsCount, the report's
// `segments`, the highest part seen); undetermined when that many are final otherwise. An
// attempt whose answer was lost takes the report's message id and counts as accepted.
constexpr Statement kSettleSms{"payment.settle_sms", R"sql(
WITH p AS (
  SELECT count(*) FILTER (WHERE outcome = 'delivered') AS delivered,
         count(*) FILTER (WHERE outcome = 'failed') AS failed,
         count(*) FILTER (WHERE outcome <> 'in_progress') AS final,
         coalesce(max(part) + 1, 1) AS seen
  FROM sms_parts WHERE sms_id = $1
), s AS (
  SELECT m.id,
         CASE WHEN p.failed > 0 THEN 'failed'
              WHEN p.delivered >= greatest(coalesce(m.segments, 1), $3::integer, p.seen)
                THEN 'delivered'
              WHEN p.final >= greatest(coalesce(m.segments, 1), $3::integer, p.seen)
                THEN 'undetermined'
              ELSE 'accepted' END AS status
  FROM sms_messages m, p WHERE m.id = $1
)
UPDATE sms_messages m
SET status = s.status,
    gateway_message_id = coalesce(m.gateway_message_id, $2),
    accepted_at = coalesce(m.accepted_at, $5::timestamptz),
    result_code = $4,
    final_at = CASE WHEN s.status = 'accepted' THEN NULL ELSE $5::timestamptz END
FROM s WHERE m.id = s.id
RETURNING m.status, m.deadline_at, m.fee_disclosed_ore)sql",
                               Repeat::once};

constexpr Statement kOrderOf{"payment.order_of", R"sql(
SELECT s.id, s.state, s.clinic_id, o.account, o.order_id, s.vat_amount_ore
FROM payment_orders o JOIN sessions s ON s.id = o.session_id
WHERE o.session_id = $1)sql"};

// In record_order_status's transaction, after the session row is locked. $7: the session had
// ended otherwise (cancelled or invoiced) when the payment was seen.
constexpr Statement kUpdateOrder{"payment.update_order", R"sql(
UPDATE payment_orders o
SET status = CASE WHEN o.status IN ($9, $10) AND $2 = $11 THEN o.status ELSE $2 END,
    instrument = nullif($3, ''), transaction_type = nullif($4, ''),
    captured_ore = greatest(o.captured_ore, $5), updated_at = $6,
    paid_after_close = o.paid_after_close OR $7
WHERE o.session_id = $1 AND ($8 = '' OR o.order_id = $8))sql"};

constexpr Statement kStatusChecked{"payment.status_checked", R"sql(
UPDATE sessions SET status_checked_at = $2 WHERE id = $1)sql"};

// A payment on an invoiced session: the invoice (seen here because the session row was locked by
// an earlier statement of this transaction, after the invoice committed) is voided while still in
// review, else flagged for a credit note. Once, audited.
constexpr Statement kFlagInvoice{"payment.flag_invoice", R"sql(
WITH inv AS (
  SELECT id, status FROM invoices
  WHERE session_id = $1 AND kind = 'invoice' AND NOT paid_by_link
  FOR UPDATE
), flagged AS (
  UPDATE invoices i
  SET paid_by_link = true,
      status = CASE WHEN inv.status = 'pending_review' THEN 'void' ELSE i.status END,
      void_reason = CASE WHEN inv.status = 'pending_review' THEN 'paid by link'
                         ELSE i.void_reason END,
      credit_note_needed = inv.status IN ('issued', 'paid'),
      updated_at = $2
  FROM inv WHERE i.id = inv.id
  RETURNING i.id, inv.status AS from_status, i.status AS to_status
), audit AS (
  INSERT INTO invoice_events (invoice_id, at, actor, action, from_status, to_status, detail)
  SELECT id, $2, 'system', CASE WHEN from_status = 'pending_review' THEN 'void' ELSE 'flag' END,
         from_status, to_status, 'paid by link after invoicing'
  FROM flagged
)
SELECT count(*) FROM flagged)sql",
                                 Repeat::once};

constexpr Statement kCountPaidAfterClose{
    "payment.count_paid_after_close", "SELECT count(*) FROM payment_orders WHERE paid_after_close"};

// The session a callback's order belongs to: its current order, an order of one of its attempts
// (replaced or found earlier), or, named by the callback's orderReference ($4, NULL when not a
// session id), a session with an attempt whose outcome is unknown (then it may be that attempt's
// orphan; at most a few such looks are queued per session). An order that is not current gets a
// check of its own; the session's status check is queued either way, and one already waiting
// (a backoff after an earlier callback) is due now: this callback is news.
constexpr Statement kCallback{"payment.callback", R"sql(
WITH known AS (
  SELECT session_id, true AS current FROM payment_orders WHERE order_id = $1
  UNION ALL
  SELECT session_id, false FROM payment_order_attempts WHERE order_id = $1
), hinted AS (
  SELECT a.session_id, false AS current FROM payment_order_attempts a
  WHERE a.session_id = $4::uuid AND a.outcome IN ('sending', 'unknown')
    AND NOT EXISTS (SELECT 1 FROM known)
    AND (SELECT count(*) FROM payment_order_checks c WHERE c.session_id = a.session_id) < 5
  LIMIT 1
), target AS (
  SELECT * FROM (SELECT * FROM known UNION ALL SELECT * FROM hinted) t
  ORDER BY current DESC LIMIT 1
), checked AS (
  INSERT INTO payment_order_checks (session_id, order_id, received_at)
  SELECT session_id, $1, $2::timestamptz FROM target WHERE NOT current
  ON CONFLICT DO NOTHING
), queued AS (
  INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
  SELECT session_id, $3, $2::timestamptz, $2::timestamptz, $2::timestamptz FROM target
  ON CONFLICT (session_id, kind) WHERE status = 'pending'
  DO UPDATE SET next_attempt_at = least(outbox.next_attempt_at, excluded.next_attempt_at),
  )sql" VISITPAY_OUTBOX_RERUN_IF_CLAIMED R"sql(
)
SELECT count(*) FROM target)sql"};

// --- order attempts (payment_order_attempts), checks of orders nobody kept, payer page tokens --

constexpr Statement kNextAttempt{"payment.next_attempt", R"sql(
SELECT coalesce(max(attempt), 0) + 1 FROM payment_order_attempts WHERE session_id = $1)sql"};

// An order saved before attempts were numbered (0010) is recorded as attempt 0 with the
// reference it was created with ($2), so a callback still finds it once a fresh payment replaced
// it.
constexpr Statement kRecordLegacyOrder{"payment.record_legacy_order", R"sql(
INSERT INTO payment_order_attempts (session_id, attempt, payee_reference, account, outcome,
                                    order_id, seen_status, attempted_at, resolved_at)
SELECT o.session_id, 0, $2, o.account, 'created', o.order_id, o.status, o.created_at,
       o.created_at
FROM payment_orders o
WHERE o.session_id = $1
  AND NOT EXISTS (SELECT 1 FROM payment_order_attempts a WHERE a.order_id = o.order_id)
ON CONFLICT DO NOTHING)sql"};

constexpr Statement kInsertAttempt{"payment.insert_attempt", R"sql(
INSERT INTO payment_order_attempts (session_id, attempt, payee_reference, account, outcome,
                                    attempted_at)
VALUES ($1, $2, $3, $4, 'sending', $5))sql",
                                   Repeat::once};

constexpr Statement kInsertPageToken{"payment.insert_page_token", R"sql(
INSERT INTO payer_page_tokens (token_digest, session_id) VALUES ($1::bytea, $2)
ON CONFLICT DO NOTHING)sql"};

constexpr Statement kAttemptFailed{"payment.attempt_failed", R"sql(
UPDATE payment_order_attempts
SET outcome = CASE WHEN $3 THEN 'unknown' ELSE 'refused' END, error = $4, resolved_at = $5
WHERE session_id = $1 AND attempt = $2 AND outcome = 'sending')sql"};

constexpr Statement kAttemptCreated{"payment.attempt_created", R"sql(
UPDATE payment_order_attempts
SET outcome = 'created', order_id = $3, seen_status = $4, error = NULL,
    resolved_at = coalesce(resolved_at, $5)
WHERE session_id = $1 AND attempt = $2)sql"};

// In replace_order's transaction, after the session row is locked ($7: awaiting_payment). The
// previous order's closed status is the provider's answer the caller just had; the recorded one
// may still lag behind (its callback not yet processed).
constexpr Statement kReplaceOrder{"payment.replace_order", R"sql(
UPDATE payment_orders o
SET order_id = $2, account = $3, status = $4, instrument = NULL, transaction_type = NULL,
    captured_ore = 0, updated_at = $5
FROM sessions s
WHERE o.session_id = $1 AND s.id = o.session_id AND o.order_id = $6
  AND s.state = $7 AND s.deadline_at > $5
RETURNING o.session_id)sql",
                                  Repeat::once};

constexpr Statement kPayerSession{"payment.payer_session", R"sql(
SELECT s.id, s.state, s.clinic_id, s.amount_ore, s.deadline_at, s.fee_disclosed_ore,
       o.account, o.order_id, o.status, s.vat_amount_ore
FROM payer_page_tokens t
JOIN sessions s ON s.id = t.session_id
LEFT JOIN payment_orders o ON o.session_id = s.id
WHERE t.token_digest = $1::bytea)sql"};

constexpr Statement kOrderChecks{"payment.order_checks", R"sql(
SELECT order_id FROM payment_order_checks WHERE session_id = $1
ORDER BY received_at, order_id LIMIT 10)sql"};

constexpr Statement kAttemptOf{"payment.attempt_of", R"sql(
SELECT attempt, account, order_id FROM payment_order_attempts
WHERE session_id = $1 AND payee_reference = $2)sql"};

constexpr Statement kOrderChecked{"payment.order_checked", R"sql(
WITH done AS (
  DELETE FROM payment_order_checks WHERE session_id = $1 AND order_id = $2
)
UPDATE payment_order_attempts
SET order_id = coalesce(order_id, $2), seen_status = $4, resolved_at = coalesce(resolved_at, $5)
WHERE session_id = $1 AND attempt = $3)sql"};

// In adopt_order's transaction, after the session row is locked. $4: paid, $5: unknown (the
// status check that follows records what the provider says).
constexpr Statement kAdoptOrder{"payment.adopt_order", R"sql(
WITH old AS (
  SELECT order_id FROM payment_orders WHERE session_id = $1 AND status <> $4 AND order_id <> $2
), moved AS (
  UPDATE payment_orders o
  SET order_id = $2, status = $5, instrument = NULL, transaction_type = NULL, captured_ore = 0,
      updated_at = $3
  FROM old WHERE o.session_id = $1
  RETURNING old.order_id AS previous
), recheck AS (
  INSERT INTO payment_order_checks (session_id, order_id, received_at)
  SELECT $1, previous, $3::timestamptz FROM moved
  ON CONFLICT DO NOTHING
), done AS (
  DELETE FROM payment_order_checks WHERE session_id = $1 AND order_id = $2
    AND EXISTS (SELECT 1 FROM moved)
)
SELECT previous FROM moved)sql",
                                Repeat::once};

constexpr Statement kDueChecks{"payment.due_checks", R"sql(
SELECT id, awaiting_since, deadline_at FROM sessions
WHERE state = $1 AND next_status_check_at <= $2
ORDER BY next_status_check_at
LIMIT $3
FOR UPDATE SKIP LOCKED)sql",
                               Repeat::once};

// The next check per session ($1 ids, $2 times, NULL: none before the deadline) and the sync work.
// Orders that may still be paid although their session has ended: looked at again once
// `$2` (the last check) is old enough. The session's status_checked_at is the cursor.
constexpr Statement kOpenOrdersOfEnded{"payment.open_orders_of_ended", R"sql(
WITH due AS (
  SELECT s.id FROM payment_orders o JOIN sessions s ON s.id = o.session_id
  WHERE o.status IN ($4, $5) AND s.state = ANY ($1::text[])
    AND coalesce(s.status_checked_at, o.updated_at) <= $2
  ORDER BY o.updated_at
  LIMIT $3
  FOR UPDATE OF s SKIP LOCKED
), touched AS (
  UPDATE sessions s SET status_checked_at = $6 FROM due WHERE s.id = due.id
)
INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
SELECT id, $7, $6::timestamptz, $6::timestamptz, $6::timestamptz FROM due
)sql" VISITPAY_OUTBOX_ON_CONFLICT,
                                       Repeat::once};

constexpr Statement kScheduleChecks{"payment.schedule_checks", R"sql(
WITH due AS (
  SELECT * FROM unnest($1::uuid[], $2::timestamptz[]) AS d (id, next_check)
), touched AS (
  UPDATE sessions s SET next_status_check_at = due.next_check, status_checked_at = $3
  FROM due WHERE s.id = due.id
)
INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
SELECT id, $4, $3::timestamptz, $3::timestamptz, $3::timestamptz FROM due
)sql" VISITPAY_OUTBOX_ON_CONFLICT};

std::string ts(domain::Timestamp t) {
  return common::format_rfc3339_utc(t);
}

domain::SessionState state_of(const PgResult& r, int row, int col) {
  return domain::parse_session_state(r.text(row, col)).value_or(domain::SessionState::pending);
}

std::string_view outcome_text(DeliveryOutcome outcome) {
  switch (outcome) {
    case DeliveryOutcome::delivered:
      return "delivered";
    case DeliveryOutcome::failed:
      return "failed";
    case DeliveryOutcome::undetermined:
      return "undetermined";
    case DeliveryOutcome::in_progress:
      break;
  }
  return "in_progress";
}

}  // namespace

std::string sms_reference(std::int64_t sms_id, std::string_view token) {
  std::string out = "sms-" + std::to_string(sms_id);
  if (!token.empty()) out += "-" + std::string(token);
  return out;
}

std::optional<SmsReference> parse_sms_reference(std::string_view reference) {
  constexpr std::string_view kPrefix = "sms-";
  if (reference.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  auto rest = reference.substr(kPrefix.size());
  SmsReference out;
  if (const auto dash = rest.find('-'); dash != std::string_view::npos) {
    out.token = std::string(rest.substr(dash + 1));
    rest = rest.substr(0, dash);
  }
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), out.sms_id);
  if (ec != std::errc() || end != rest.data() + rest.size() || out.sms_id <= 0) {
    return std::nullopt;
  }
  return out;
}

std::vector<Statement> PaymentStore::statements() {
  return {kOrderContext,  kInsertOrder,     kSmsContext,     kBeginSms,       kSmsAccepted,
          kSmsUnknown,    kSmsNotSent,      kReportedSms,    kReportPart,     kSettleSms,
          kOrderOf,       kUpdateOrder,     kStatusChecked,  kFlagInvoice,    kCountPaidAfterClose,
          kCallback,      kDueChecks,       kScheduleChecks, kNextAttempt,    kRecordLegacyOrder,
          kInsertAttempt, kInsertPageToken, kAttemptFailed,  kAttemptCreated, kReplaceOrder,
          kPayerSession,  kOrderChecks,     kAttemptOf,      kOrderChecked,   kAdoptOrder};
}

PgParams PaymentStore::insert_order_params(std::string_view session_id, std::string_view account,
                                           std::string_view order_id,
                                           const common::Bytes& payment_url_enc,
                                           domain::OrderStatus status, domain::Timestamp now) {
  PgParams p;
  p.add(session_id)
      .add(account)
      .add(order_id)
      .add_bytea(payment_url_enc)
      .add(domain::to_string(status))
      .add(ts(now));
  return p;
}

PgParams PaymentStore::begin_sms_params(std::string_view session_id, std::string_view account,
                                        domain::Ore fee, domain::Timestamp deadline, int segments,
                                        domain::Timestamp now) {
  PgParams p;
  p.add(session_id)
      .add(account)
      .add(fee)
      .add(ts(deadline))
      .add(ts(now))
      .add(domain::to_string(domain::SessionState::pending))
      .add(segments);
  return p;
}

PgParams PaymentStore::sms_accepted_params(std::int64_t sms_id, std::string_view message_id,
                                           int segments, domain::Timestamp now) {
  PgParams p;
  p.add(sms_id).add(message_id).add(segments).add(ts(now));
  return p;
}

PgParams PaymentStore::update_order_params(std::string_view session_id,
                                           const OrderStatusUpdate& update, domain::Timestamp now,
                                           bool paid_after_close) {
  PgParams p;
  p.add(session_id)
      .add(domain::to_string(update.status))
      .add(update.instrument)
      .add(update.transaction_type)
      .add(update.captured)
      .add(ts(now))
      .add(paid_after_close)
      .add(update.order_id)
      // A stale "paid" never undoes a release the order already shows (a status read during
      // the provider's lag after our own cancel or reversal).
      .add(domain::to_string(domain::OrderStatus::cancelled))
      .add(domain::to_string(domain::OrderStatus::reversed))
      .add(domain::to_string(domain::OrderStatus::paid));
  return p;
}

PgParams PaymentStore::status_checked_params(std::string_view session_id, domain::Timestamp now) {
  PgParams p;
  p.add(session_id).add(ts(now));
  return p;
}

asio::awaitable<Result<std::optional<OrderContext>>> PaymentStore::order_context(
    std::string_view session_id) {
  PgParams p;
  p.add(session_id);
  auto r = co_await pool_.execute(kOrderContext, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<OrderContext>{};
  OrderContext c;
  c.state = state_of(*r, 0, 0);
  c.clinic_id = r->string(0, 1);
  c.amount = r->int64(0, 2);
  c.vat_amount = r->int64(0, 3);
  c.order_id = r->optional_string(0, 4);
  c.transient_key = wrapped_key(*r, 0, 5);
  co_return c;
}

asio::awaitable<Result<bool>> PaymentStore::save_order(std::string_view session_id,
                                                       std::string_view account,
                                                       std::string_view order_id,
                                                       const common::Bytes& payment_url_enc,
                                                       domain::OrderStatus status, int attempt,
                                                       domain::Timestamp now) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  auto state = co_await LifecycleStore::lock(*tx, session_id);
  if (!state) co_return std::move(state).error();
  if (!*state) {
    auto ended = co_await tx->rollback();
    if (!ended) co_return std::move(ended).error();
    co_return false;
  }
  PgParams created;
  created.add(session_id).add(attempt).add(order_id).add(domain::to_string(status)).add(ts(now));
  const auto order =
      insert_order_params(session_id, account, order_id, payment_url_enc, status, now);
  const std::vector<PgCall> saving{{kAttemptCreated, created}, {kInsertOrder, order}};
  auto saved = co_await tx->execute(saving);
  if (!saved) co_return std::move(saved).error();
  const bool inserted = saved->back().rows() == 1;
  // What follows is queued only by the call that saved the order.
  if (inserted) {
    auto applied = co_await lifecycle_.apply_and_commit(*tx, session_id,
                                                        domain::SessionEvent::order_created, now);
    if (!applied) co_return std::move(applied).error();
    co_return true;
  }
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  // A repeat of this very save also inserts nothing: it kept the order all the same.
  auto current = co_await order_of(session_id);
  if (!current) co_return std::move(current).error();
  co_return current->has_value() && (*current)->order_id == order_id;
}

asio::awaitable<Result<std::optional<SmsContext>>> PaymentStore::sms_context(
    std::string_view session_id) {
  PgParams p;
  p.add(session_id);
  auto r = co_await pool_.execute(kSmsContext, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<SmsContext>{};
  SmsContext c;
  c.state = state_of(*r, 0, 0);
  c.clinic_id = r->string(0, 1);
  c.amount = r->int64(0, 2);
  c.phone_enc = r->bytea(0, 3);
  c.transient_key = wrapped_key(*r, 0, 7);
  c.payment_url_enc = r->bytea(0, 4);
  c.unresolved_attempts = static_cast<int>(r->int64(0, 5));
  if (!r->is_null(0, 6)) c.last_unresolved_at = common::parse_pg_timestamptz(r->text(0, 6));
  c.fee_terms_accepted = r->boolean(0, 9);
  co_return c;
}

asio::awaitable<Result<std::optional<SmsAttempt>>> PaymentStore::begin_sms(
    std::string_view session_id, std::string_view account, domain::Ore fee,
    domain::Timestamp deadline, int segments, domain::Timestamp now) {
  auto r = co_await pool_.execute(
      kBeginSms, begin_sms_params(session_id, account, fee, deadline, segments, now));
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<SmsAttempt>{};
  SmsAttempt attempt;
  attempt.id = r->int64(0, 0);
  attempt.reference = sms_reference(attempt.id, r->string(0, 1));
  co_return attempt;
}

asio::awaitable<Result<void>> PaymentStore::sms_accepted(std::int64_t sms_id,
                                                         std::string_view session_id,
                                                         std::string_view message_id, int segments,
                                                         domain::Timestamp now) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  auto state = co_await LifecycleStore::lock(*tx, session_id);
  if (!state) co_return std::move(state).error();
  auto m =
      co_await tx->execute(kSmsAccepted, sms_accepted_params(sms_id, message_id, segments, now));
  if (!m) co_return std::move(m).error();
  if (m->rows() == 1) {
    // Accepted is not arrived: the fee counts as disclosed only with a delivery report
    // (invariant 5), see delivery_report.
    TransitionFacts facts;
    facts.deadline = common::parse_pg_timestamptz(m->text(0, 1));
    auto applied = co_await lifecycle_.apply_and_commit(
        *tx, session_id, domain::SessionEvent::link_sent, now, facts);
    if (!applied) co_return std::move(applied).error();
    co_return common::Ok{};
  }
  co_return co_await tx->commit();
}

asio::awaitable<Result<void>> PaymentStore::link_failed(std::string_view session_id,
                                                        std::string_view error,
                                                        domain::Timestamp now) {
  TransitionFacts facts;
  facts.link_error = std::string(error);
  auto applied =
      co_await lifecycle_.apply(session_id, domain::SessionEvent::link_failed, now, facts);
  if (!applied) co_return std::move(applied).error();
  co_return Ok{};
}

asio::awaitable<Result<void>> PaymentStore::sms_unknown(std::int64_t sms_id,
                                                        std::string_view error) {
  PgParams p;
  p.add(sms_id).add(error);
  auto r = co_await pool_.execute(kSmsUnknown, p);
  if (!r) co_return std::move(r).error();
  co_return Ok{};
}

asio::awaitable<Result<void>> PaymentStore::sms_not_sent(std::int64_t sms_id,
                                                         std::string_view session_id,
                                                         std::string_view error, bool permanent,
                                                         domain::Timestamp now) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  auto state = co_await LifecycleStore::lock(*tx, session_id);
  if (!state) co_return std::move(state).error();
  PgParams p;
  p.add(sms_id).add(error).add(permanent).add(ts(now));
  auto m = co_await tx->execute(kSmsNotSent, p);
  if (!m) co_return std::move(m).error();
  if (permanent && m->rows() == 1) {
    TransitionFacts facts;
    facts.link_error = std::string(error);
    auto applied =
        co_await lifecycle_.apply(*tx, session_id, domain::SessionEvent::link_refused, now, facts);
    if (!applied) co_return std::move(applied).error();
  }
  co_return co_await tx->commit();
}

asio::awaitable<Result<std::optional<ReportedSms>>> PaymentStore::find_reported_sms(
    std::string_view message_id, std::string_view reference) {
  const auto ours = parse_sms_reference(reference);
  PgParams find;
  find.add(message_id).add(ours ? ours->sms_id : std::int64_t{-1});
  auto found = co_await pool_.execute(kReportedSms, find);
  if (!found) co_return std::move(found).error();
  if (found->empty()) co_return std::optional<ReportedSms>{};
  ReportedSms sms;
  sms.sms_id = found->int64(0, 0);
  sms.session_id = found->string(0, 1);
  sms.account = found->string(0, 2);
  const std::string token = found->string(0, 3);
  sms.by_reference = !found->boolean(0, 4);
  // Matched by our reference alone: believed only with the secret the gateway was given.
  if (sms.by_reference &&
      (!ours || token.empty() || !common::constant_time_equal(ours->token, token))) {
    co_return std::optional<ReportedSms>{};
  }
  co_return sms;
}

asio::awaitable<Result<bool>> PaymentStore::record_report(const ReportedSms& sms,
                                                          const PartReport& report,
                                                          domain::Timestamp not_before,
                                                          domain::Timestamp now) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  auto state = co_await LifecycleStore::lock(*tx, sms.session_id);
  if (!state) co_return std::move(state).error();
  PgParams part;
  part.add(sms.sms_id)
      .add(report.part)
      .add(report.result_code)
      .add(outcome_text(report.outcome))
      .add(ts(now))
      .add(ts(not_before));
  auto recorded = co_await tx->execute(kReportPart, part);
  if (!recorded) co_return std::move(recorded).error();
  if (recorded->rows() == 0) {
    auto ended = co_await tx->rollback();
    if (!ended) co_return std::move(ended).error();
    co_return false;
  }
  PgParams settle;
  settle.add(sms.sms_id)
      .add(report.message_id)
      .add(report.segments)
      .add(report.result_code)
      .add(ts(now));
  auto m = co_await tx->execute(kSettleSms, settle);
  if (!m) co_return std::move(m).error();
  if (m->rows() == 1) {
    const auto status = m->text(0, 0);
    TransitionFacts facts;
    auto event = domain::SessionEvent::link_sent;  // not final yet, but the gateway has it
    if (status == "failed") {
      event = domain::SessionEvent::link_undeliverable;
    } else {
      facts.deadline = common::parse_pg_timestamptz(m->text(0, 1));
    }
    if (status == "delivered") {
      event = domain::SessionEvent::link_delivered;
      facts.fee_disclosed = m->int64(0, 2);
    }
    auto applied = co_await lifecycle_.apply(*tx, sms.session_id, event, now, facts);
    if (!applied) co_return std::move(applied).error();
  }
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  co_return true;
}

asio::awaitable<Result<std::optional<OrderRef>>> PaymentStore::order_of(
    std::string_view session_id) {
  PgParams p;
  p.add(session_id);
  auto r = co_await pool_.execute(kOrderOf, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<OrderRef>{};
  OrderRef o;
  o.session_id = r->string(0, 0);
  o.session_state = state_of(*r, 0, 1);
  o.clinic_id = r->string(0, 2);
  o.account = r->string(0, 3);
  o.order_id = r->string(0, 4);
  o.vat_amount = r->int64(0, 5);
  co_return o;
}

// An order that is not paid changes the order's row and nothing else, whatever the session's
// state: the lock, the update and the status check go in one round trip with the COMMIT.
asio::awaitable<Result<OrderStatusResult>> PaymentStore::record_unpaid_status(
    std::string_view session_id, const OrderStatusUpdate& update, domain::Timestamp now) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  PgParams lock;
  lock.add(session_id);
  const auto order = update_order_params(session_id, update, now, /*paid_after_close=*/false);
  const auto checked = status_checked_params(session_id, now);
  const std::vector<PgCall> calls{
      {LifecycleStore::lock_statement(), lock}, {kUpdateOrder, order}, {kStatusChecked, checked}};
  auto recorded = co_await tx->execute_and_commit(calls);
  if (!recorded) co_return std::move(recorded).error();
  const auto state = LifecycleStore::locked_state(recorded->front());
  if (!state) co_return OrderStatusResult{};  // no such session: nothing was changed
  co_return OrderStatusResult{*state};
}

asio::awaitable<Result<OrderStatusResult>> PaymentStore::record_order_status(
    std::string_view session_id, const OrderStatusUpdate& update, domain::Timestamp now) {
  using domain::SessionState;
  const bool paid = update.status == domain::OrderStatus::paid;
  if (!paid) co_return co_await record_unpaid_status(session_id, update, now);
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  // The lock comes first: every later statement sees what committed before it was granted.
  auto state = co_await LifecycleStore::lock(*tx, session_id);
  if (!state) co_return std::move(state).error();
  if (!*state) {
    auto ended = co_await tx->rollback();
    if (!ended) co_return std::move(ended).error();
    co_return OrderStatusResult{};
  }
  OrderStatusResult result{**state};
  const bool after_close =
      result.state == SessionState::cancelled || result.state == SessionState::invoiced;
  const auto order = update_order_params(session_id, update, now, after_close);
  const auto checked = status_checked_params(session_id, now);
  auto updated = co_await tx->execute(kUpdateOrder, order);
  if (!updated) co_return std::move(updated).error();
  auto touched = co_await tx->execute(kStatusChecked, checked);
  if (!touched) co_return std::move(touched).error();

  if (result.state == SessionState::invoiced) {
    PgParams flag;
    flag.add(session_id).add(ts(now));
    auto flagged = co_await tx->execute(kFlagInvoice, flag);
    if (!flagged) co_return std::move(flagged).error();
    result.invoice_flagged = flagged->int64(0, 0) > 0;
  } else if (result.state == SessionState::cancelled) {
    // Released, never captured: the cancel (or a Sale's reversal) is recorded and queued.
    auto released = co_await RefundStore::request_release(*tx, session_id, now);
    if (!released) co_return std::move(released).error();
    auto applied =
        co_await lifecycle_.apply(*tx, session_id, domain::SessionEvent::paid_after_close, now);
    if (!applied) co_return std::move(applied).error();
  } else {
    auto applied = co_await lifecycle_.apply(*tx, session_id, domain::SessionEvent::paid, now);
    if (!applied) co_return std::move(applied).error();
    if (*applied && (*applied)->changed()) {
      result.state = *(*applied)->after;
      result.became_paid = true;
    }
  }
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  co_return result;
}

asio::awaitable<Result<std::int64_t>> PaymentStore::count_paid_after_close() {
  const PgParams none;
  auto r = co_await pool_.execute(kCountPaidAfterClose, none);
  if (!r) co_return std::move(r).error();
  co_return r->int64(0, 0);
}

asio::awaitable<Result<bool>> PaymentStore::callback_received(std::string_view order_id,
                                                              std::string_view order_reference,
                                                              domain::Timestamp now) {
  PgParams p;
  p.add(order_id).add(ts(now)).add(domain::to_string(domain::WorkKind::payment_callback));
  p.add(common::normalize_uuid(order_reference));
  auto r = co_await pool_.execute(kCallback, p);
  if (!r) co_return std::move(r).error();
  co_return r->int64(0, 0) > 0;
}

asio::awaitable<Result<std::int64_t>> PaymentStore::enqueue_due_checks(int limit,
                                                                       domain::Timestamp now) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  PgParams p;
  p.add(domain::to_string(domain::SessionState::awaiting_payment)).add(ts(now)).add(limit);
  auto due = co_await tx->execute(kDueChecks, p);
  if (!due) co_return std::move(due).error();
  if (due->empty()) {
    auto ended = co_await tx->rollback();
    if (!ended) co_return std::move(ended).error();
    co_return std::int64_t{0};
  }
  std::vector<std::string> ids;
  std::vector<std::optional<std::string>> next;
  for (int i = 0; i < due->rows(); ++i) {
    ids.push_back(due->string(i, 0));
    const auto since = common::parse_pg_timestamptz(due->text(i, 1)).value_or(now);
    const auto deadline = common::parse_pg_timestamptz(due->text(i, 2)).value_or(now);
    const auto at = domain::next_status_check(since, deadline, now);
    next.push_back(at ? std::optional(ts(*at)) : std::nullopt);
  }
  PgParams schedule;
  schedule.add(pg_text_array(ids))
      .add(pg_text_array(next))
      .add(ts(now))
      .add(domain::to_string(domain::WorkKind::sync_payment));
  auto queued = co_await tx->execute(kScheduleChecks, schedule);
  if (!queued) co_return std::move(queued).error();
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  co_return static_cast<std::int64_t>(ids.size());
}

asio::awaitable<Result<std::int64_t>> PaymentStore::enqueue_open_orders_of_ended(
    std::chrono::seconds every, int limit, domain::Timestamp now) {
  PgParams p;
  p.add(pg_text_array(std::vector<std::string>{
            std::string(domain::to_string(domain::SessionState::invoiced)),
            std::string(domain::to_string(domain::SessionState::cancelled))}))
      .add(ts(now - every))
      .add(limit)
      .add(domain::to_string(domain::OrderStatus::open))
      .add(domain::to_string(domain::OrderStatus::unknown))
      .add(ts(now))
      .add(domain::to_string(domain::WorkKind::sync_payment));
  auto r = co_await pool_.execute(kOpenOrdersOfEnded, p);
  if (!r) co_return std::move(r).error();
  co_return r->affected_rows();
}

asio::awaitable<Result<CancelOutcome>> PaymentStore::cancel(std::string_view session_id,
                                                            domain::Timestamp now) {
  auto applied = co_await lifecycle_.apply(session_id, domain::SessionEvent::cancelled, now);
  if (!applied) co_return std::move(applied).error();
  if (!*applied) co_return CancelOutcome::not_found;
  if ((*applied)->changed()) co_return CancelOutcome::cancelled;
  if ((*applied)->before == domain::SessionState::cancelled) {
    co_return CancelOutcome::already_cancelled;
  }
  co_return CancelOutcome::not_cancellable;
}

// --- order attempts, payer pages, orders nobody kept ------------------------------------------

asio::awaitable<Result<std::optional<OrderAttempt>>> PaymentStore::begin_order_attempt(
    std::string_view session_id, std::string_view account,
    const std::function<std::string(int)>& reference, const common::Sha256Digest& token_digest,
    domain::Timestamp now) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  // The lock numbers the attempts of concurrent creates one after the other.
  auto state = co_await LifecycleStore::lock(*tx, session_id);
  if (!state) co_return std::move(state).error();
  if (!*state) {
    auto ended = co_await tx->rollback();
    if (!ended) co_return std::move(ended).error();
    co_return std::optional<OrderAttempt>{};
  }
  PgParams legacy;
  legacy.add(session_id).add(domain::payee_reference("PO", session_id));
  PgParams session;
  session.add(session_id);
  // The next number counts the legacy order just recorded: one round trip, run in this order.
  const std::vector<PgCall> numbering{{kRecordLegacyOrder, legacy}, {kNextAttempt, session}};
  auto numbered = co_await tx->execute(numbering);
  if (!numbered) co_return std::move(numbered).error();
  OrderAttempt attempt;
  attempt.attempt = static_cast<int>(numbered->back().int64(0, 0));
  attempt.payee_reference = reference(attempt.attempt);
  if (attempt.payee_reference.empty()) {
    auto ended = co_await tx->rollback();
    if (!ended) co_return std::move(ended).error();
    co_return common::make_error(common::ErrorCode::provider_rejected,
                                 "the session has used up its payment order attempts");
  }
  PgParams insert;
  insert.add(session_id)
      .add(attempt.attempt)
      .add(attempt.payee_reference)
      .add(account)
      .add(ts(now));
  PgParams token;
  token.add_bytea(std::span<const std::uint8_t>(token_digest)).add(session_id);
  const std::vector<PgCall> stored{{kInsertAttempt, insert}, {kInsertPageToken, token}};
  auto committed = co_await tx->execute_and_commit(stored);
  if (!committed) co_return std::move(committed).error();
  co_return attempt;
}

asio::awaitable<Result<void>> PaymentStore::order_attempt_failed(std::string_view session_id,
                                                                 int attempt, bool unknown,
                                                                 std::string_view error,
                                                                 domain::Timestamp now) {
  PgParams p;
  p.add(session_id).add(attempt).add(unknown).add(error).add(ts(now));
  auto r = co_await pool_.execute(kAttemptFailed, p);
  if (!r) co_return std::move(r).error();
  co_return Ok{};
}

asio::awaitable<Result<bool>> PaymentStore::replace_order(
    std::string_view session_id, std::string_view previous_order_id, std::string_view account,
    std::string_view order_id, domain::OrderStatus status, int attempt, domain::Timestamp now) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  auto state = co_await LifecycleStore::lock(*tx, session_id);
  if (!state) co_return std::move(state).error();
  PgParams created;
  created.add(session_id).add(attempt).add(order_id).add(domain::to_string(status)).add(ts(now));
  auto recorded = co_await tx->execute(kAttemptCreated, created);
  if (!recorded) co_return std::move(recorded).error();
  PgParams p;
  p.add(session_id)
      .add(order_id)
      .add(account)
      .add(domain::to_string(status))
      .add(ts(now))
      .add(previous_order_id)
      .add(domain::to_string(domain::SessionState::awaiting_payment));
  auto replaced = co_await tx->execute(kReplaceOrder, p);
  if (!replaced) co_return std::move(replaced).error();
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  co_return replaced->rows() == 1;
}

asio::awaitable<Result<std::optional<PayerSession>>> PaymentStore::payer_session(
    const common::Sha256Digest& token_digest) {
  PgParams p;
  p.add_bytea(std::span<const std::uint8_t>(token_digest));
  auto r = co_await pool_.execute(kPayerSession, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<PayerSession>{};
  PayerSession s;
  s.session_id = r->string(0, 0);
  s.state = state_of(*r, 0, 1);
  s.clinic_id = r->string(0, 2);
  s.amount = r->int64(0, 3);
  if (!r->is_null(0, 4)) s.deadline = common::parse_pg_timestamptz(r->text(0, 4));
  if (!r->is_null(0, 5)) s.fee_disclosed = r->int64(0, 5);
  if (!r->is_null(0, 7)) {
    OrderRef o;
    o.session_id = s.session_id;
    o.session_state = s.state;
    o.clinic_id = s.clinic_id;
    o.account = r->string(0, 6);
    o.order_id = r->string(0, 7);
    o.vat_amount = r->int64(0, 9);
    s.order = std::move(o);
    s.order_status = domain::parse_order_status(r->text(0, 8));
  }
  co_return s;
}

asio::awaitable<Result<std::vector<std::string>>> PaymentStore::order_checks(
    std::string_view session_id) {
  PgParams p;
  p.add(session_id);
  auto r = co_await pool_.execute(kOrderChecks, p);
  if (!r) co_return std::move(r).error();
  std::vector<std::string> ids;
  ids.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i)
    ids.push_back(r->string(i, 0));
  co_return ids;
}

asio::awaitable<Result<std::optional<AttemptRef>>> PaymentStore::attempt_of(
    std::string_view session_id, std::string_view payee_reference) {
  PgParams p;
  p.add(session_id).add(payee_reference);
  auto r = co_await pool_.execute(kAttemptOf, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<AttemptRef>{};
  AttemptRef a;
  a.attempt = static_cast<int>(r->int64(0, 0));
  a.account = r->string(0, 1);
  a.order_id = r->optional_string(0, 2);
  co_return a;
}

asio::awaitable<Result<void>> PaymentStore::order_checked(std::string_view session_id,
                                                          std::string_view order_id, int attempt,
                                                          domain::OrderStatus seen,
                                                          domain::Timestamp now) {
  PgParams p;
  p.add(session_id).add(order_id).add(attempt).add(domain::to_string(seen)).add(ts(now));
  auto r = co_await pool_.execute(kOrderChecked, p);
  if (!r) co_return std::move(r).error();
  co_return Ok{};
}

asio::awaitable<Result<bool>> PaymentStore::adopt_order(std::string_view session_id,
                                                        std::string_view order_id,
                                                        domain::Timestamp now) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  auto state = co_await LifecycleStore::lock(*tx, session_id);
  if (!state) co_return std::move(state).error();
  PgParams p;
  p.add(session_id)
      .add(order_id)
      .add(ts(now))
      .add(domain::to_string(domain::OrderStatus::paid))
      .add(domain::to_string(domain::OrderStatus::unknown));
  auto moved = co_await tx->execute(kAdoptOrder, p);
  if (!moved) co_return std::move(moved).error();
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  co_return moved->rows() == 1;
}

}  // namespace visitpay::store
