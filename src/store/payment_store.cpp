#include "store/payment_store.hpp"

#include <charconv>

#include "common/time_format.hpp"
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

// The session row is locked (FOR UPDATE) so a concurrent cancel is seen: then the fresh order is
// aborted instead of announced. What follows is queued only by the call that saved the order.
constexpr Statement kSaveOrder{"payment.save_order", R"sql(
WITH s AS (
  SELECT id, state FROM sessions WHERE id = $1 FOR UPDATE
), o AS (
  INSERT INTO payment_orders (session_id, account, order_id, payment_url_enc, status, created_at,
                              updated_at)
  SELECT s.id, $2::text, $3::text, $4::bytea, $5::text, $6::timestamptz, $6::timestamptz FROM s
  ON CONFLICT (session_id) DO NOTHING
  RETURNING session_id
), next AS (
  INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
  SELECT s.id, CASE WHEN s.state = 'cancelled' THEN 'abort_payment' ELSE 'send_payment_sms' END,
         $6::timestamptz, $6::timestamptz, $6::timestamptz
  FROM s, o WHERE s.state IN ('pending', 'cancelled')
  ON CONFLICT (session_id, kind) WHERE status = 'pending' DO NOTHING
)
SELECT count(*) FROM o)sql"};

constexpr Statement kSmsContext{"payment.sms_context", R"sql(
SELECT s.state, s.clinic_id, s.amount_ore, p.phone_enc, o.payment_url_enc,
       (SELECT count(*) FROM sms_messages m
        WHERE m.session_id = s.id AND m.status IN ('sending', 'unknown')),
       (SELECT max(attempted_at) FROM sms_messages m
        WHERE m.session_id = s.id AND m.status IN ('sending', 'unknown')),
       k.master_key_id, k.wrapped_key
FROM sessions s
LEFT JOIN payers p ON p.session_id = s.id
LEFT JOIN payer_keys k ON k.session_id = s.id AND k.key_class = 'transient'
LEFT JOIN payment_orders o ON o.session_id = s.id
WHERE s.id = $1)sql"};

constexpr Statement kBeginSms{"payment.begin_sms", R"sql(
WITH s AS (SELECT id FROM sessions WHERE id = $1 AND state = 'pending' FOR UPDATE)
INSERT INTO sms_messages (session_id, account, status, fee_disclosed_ore, deadline_at,
                          attempted_at)
SELECT s.id, $2::text, 'sending', $3::bigint, $4::timestamptz, $5::timestamptz FROM s
RETURNING id)sql"};

constexpr Statement kSmsAccepted{"payment.sms_accepted", R"sql(
WITH m AS (
  UPDATE sms_messages
  SET status = CASE WHEN status IN ('sending', 'unknown') THEN 'accepted' ELSE status END,
      gateway_message_id = $3, segments = $4, accepted_at = coalesce(accepted_at, $5), error = NULL
  WHERE id = $1
  RETURNING fee_disclosed_ore, deadline_at
)
UPDATE sessions s
SET state = 'awaiting_payment', deadline_at = m.deadline_at, fee_disclosed_ore = m.fee_disclosed_ore,
    status_checked_at = $5, updated_at = $5
FROM m
WHERE s.id = $2 AND s.state = 'pending')sql"};

constexpr Statement kSmsUnknown{"payment.sms_unknown", R"sql(
UPDATE sms_messages SET status = 'unknown', error = $2 WHERE id = $1 AND status = 'sending')sql"};

constexpr Statement kSmsNotSent{"payment.sms_not_sent", R"sql(
WITH m AS (
  UPDATE sms_messages
  SET status = CASE WHEN $4 THEN 'rejected' ELSE 'not_sent' END, error = $3, final_at = $5
  WHERE id = $1 AND status = 'sending'
)
UPDATE sessions
SET state = 'invoicing', invoice_reason = 'sms_rejected', updated_at = $5
WHERE id = $2 AND $4 AND state = 'pending')sql"};

// Only a report that moves a message forward counts: a late 1000 after the final code, or a
// second final code, changes nothing. A report for an attempt whose answer was lost (matched by
// our refId) tells that the gateway took it after all: it is accepted, and no resend follows.
constexpr Statement kDeliveryReport{"payment.delivery_report", R"sql(
WITH m AS (
  UPDATE sms_messages
  SET result_code = $2,
      gateway_message_id = coalesce(gateway_message_id, $1),
      accepted_at = coalesce(accepted_at, $4),
      status = CASE $3 WHEN 'delivered' THEN 'delivered' WHEN 'failed' THEN 'failed'
                      ELSE 'accepted' END,
      final_at = CASE WHEN $3 = 'in_progress' THEN final_at ELSE $4 END
  WHERE (gateway_message_id = $1 OR (gateway_message_id IS NULL AND id = $5))
    AND status IN ('sending', 'unknown', 'accepted')
  RETURNING session_id, status, deadline_at, fee_disclosed_ore
), accepted AS (
  UPDATE sessions
  SET state = 'awaiting_payment', deadline_at = m.deadline_at,
      fee_disclosed_ore = m.fee_disclosed_ore, status_checked_at = $4, updated_at = $4
  FROM m
  WHERE sessions.id = m.session_id AND m.status IN ('accepted', 'delivered')
    AND sessions.state = 'pending'
), failed AS (
  UPDATE sessions
  SET state = 'invoicing', invoice_reason = 'sms_undeliverable', updated_at = $4
  FROM m
  WHERE sessions.id = m.session_id AND m.status = 'failed'
    AND sessions.state IN ('pending', 'awaiting_payment')
)
SELECT EXISTS (SELECT 1 FROM m)
    OR EXISTS (SELECT 1 FROM sms_messages WHERE gateway_message_id = $1 OR id = $5))sql"};

constexpr Statement kOrderOf{"payment.order_of", R"sql(
SELECT s.id, s.state, s.clinic_id, o.account, o.order_id, s.vat_amount_ore
FROM payment_orders o JOIN sessions s ON s.id = o.session_id
WHERE o.session_id = $1)sql"};

// The session row is locked first, so concurrent status checks of one session (a callback and
// an abort, say) run one after the other and only one of them sees the transition to paid.
// The session row is locked first, so concurrent status checks of one session (a callback and
// an abort, say) run one after the other and only one of them sees the transition to paid.
// A payment seen on a closed session is flagged (paid_after_close), never dropped; on an invoiced
// session its invoice is flagged for finance too: voided if still in review, else a credit note
// is needed. Both happen once, audited.
constexpr Statement kRecordStatus{"payment.record_status", R"sql(
WITH s AS (
  SELECT id, state,
         $2 = 'Paid' AND state IN ('pending', 'awaiting_payment', 'invoicing') AS pays,
         $2 = 'Paid' AND state IN ('cancelled', 'invoiced') AS paid_after_close
  FROM sessions WHERE id = $1 FOR UPDATE
), o AS (
  UPDATE payment_orders o
  SET status = $2, instrument = nullif($3, ''), transaction_type = nullif($4, ''),
      captured_ore = greatest(o.captured_ore, $5), updated_at = $6,
      paid_after_close = o.paid_after_close OR s.paid_after_close
  FROM s WHERE o.session_id = s.id
), u AS (
  UPDATE sessions
  SET state = CASE WHEN s.pays THEN 'paid' ELSE s.state END,
      paid_at = CASE WHEN s.pays THEN $6 ELSE sessions.paid_at END,
      updated_at = CASE WHEN s.pays THEN $6 ELSE sessions.updated_at END,
      status_checked_at = $6
  FROM s WHERE sessions.id = s.id
  RETURNING sessions.state, s.pays
), inv AS (
  SELECT i.id, i.status FROM invoices i, s
  WHERE s.paid_after_close AND s.state = 'invoiced' AND i.session_id = s.id
    AND i.kind = 'invoice' AND NOT i.paid_by_link
  FOR UPDATE OF i
), flagged AS (
  UPDATE invoices i
  SET paid_by_link = true,
      status = CASE WHEN inv.status = 'pending_review' THEN 'void' ELSE i.status END,
      void_reason = CASE WHEN inv.status = 'pending_review' THEN 'paid by link'
                         ELSE i.void_reason END,
      credit_note_needed = inv.status IN ('issued', 'paid'),
      updated_at = $6
  FROM inv WHERE i.id = inv.id
  RETURNING i.id, inv.status AS from_status, i.status AS to_status
), audit AS (
  INSERT INTO invoice_events (invoice_id, at, actor, action, from_status, to_status, detail)
  SELECT id, $6, 'system', CASE WHEN from_status = 'pending_review' THEN 'void' ELSE 'flag' END,
         from_status, to_status, 'paid by link after invoicing'
  FROM flagged
)
SELECT state, pays, (SELECT count(*) FROM flagged) FROM u)sql"};

constexpr Statement kCountPaidAfterClose{
    "payment.count_paid_after_close", "SELECT count(*) FROM payment_orders WHERE paid_after_close"};

constexpr Statement kCallback{"payment.callback", R"sql(
WITH o AS (
  SELECT session_id FROM payment_orders WHERE order_id = $1
), i AS (
  INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
  SELECT session_id, 'payment_callback', $2::timestamptz, $2::timestamptz, $2::timestamptz FROM o
  ON CONFLICT (session_id, kind) WHERE status = 'pending' DO NOTHING
)
SELECT count(*) FROM o)sql"};

constexpr Statement kEnqueueStale{"payment.enqueue_stale", R"sql(
WITH due AS (
  SELECT id FROM sessions
  WHERE state = 'awaiting_payment' AND status_checked_at < $1
  ORDER BY status_checked_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED
), touched AS (
  UPDATE sessions s SET status_checked_at = $3 FROM due WHERE s.id = due.id
)
INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
SELECT id, 'sync_payment', $3::timestamptz, $3::timestamptz, $3::timestamptz FROM due
ON CONFLICT (session_id, kind) WHERE status = 'pending' DO NOTHING)sql"};

// Stops what has not happened yet (order creation, the SMS) and always queues an abort: the
// abort worker finds the order if one exists or is being created right now.
constexpr Statement kCancel{"payment.cancel", R"sql(
WITH s AS (
  UPDATE sessions SET state = 'cancelled', cancelled_at = $2, updated_at = $2
  WHERE id = $1 AND state IN ('pending', 'awaiting_payment', 'invoicing')
  RETURNING id
), stopped AS (
  UPDATE outbox SET status = 'cancelled', updated_at = $2, lease_owner = NULL, lease_until = NULL
  FROM s
  WHERE outbox.session_id = s.id AND outbox.status = 'pending'
    AND outbox.kind IN ('create_payment_order', 'send_payment_sms')
), abort AS (
  INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
  SELECT s.id, 'abort_payment', $2::timestamptz, $2::timestamptz, $2::timestamptz FROM s
  ON CONFLICT (session_id, kind) WHERE status = 'pending' DO NOTHING
)
SELECT (SELECT count(*) FROM s), (SELECT state FROM sessions WHERE id = $1))sql"};

std::string ts(domain::Timestamp t) {
  return common::format_rfc3339_utc(t);
}

std::string_view outcome_text(DeliveryOutcome outcome) {
  switch (outcome) {
    case DeliveryOutcome::delivered:
      return "delivered";
    case DeliveryOutcome::failed:
      return "failed";
    case DeliveryOutcome::in_progress:
      break;
  }
  return "in_progress";
}

}  // namespace

std::string sms_reference(std::int64_t sms_id) {
  return "sms-" + std::to_string(sms_id);
}

std::optional<std::int64_t> sms_id_of_reference(std::string_view reference) {
  constexpr std::string_view kPrefix = "sms-";
  if (reference.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  const auto digits = reference.substr(kPrefix.size());
  std::int64_t id = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size() || id <= 0) return std::nullopt;
  return id;
}

asio::awaitable<Result<std::optional<OrderContext>>> PaymentStore::order_context(
    std::string_view session_id) {
  PgParams p;
  p.add(session_id);
  auto r = co_await pool_.execute(kOrderContext, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<OrderContext>{};
  OrderContext c;
  c.state = r->string(0, 0);
  c.clinic_id = r->string(0, 1);
  c.amount = r->int64(0, 2);
  c.vat_amount = r->int64(0, 3);
  c.order_id = r->optional_string(0, 4);
  c.transient_key = wrapped_key(*r, 0, 5);
  co_return c;
}

asio::awaitable<Result<void>> PaymentStore::save_order(
    std::string_view session_id, std::string_view account, std::string_view order_id,
    const common::Bytes& payment_url_enc, std::string_view status, domain::Timestamp now) {
  PgParams p;
  p.add(session_id).add(account).add(order_id).add_bytea(payment_url_enc).add(status).add(ts(now));
  auto r = co_await pool_.execute(kSaveOrder, p);
  if (!r) co_return std::move(r).error();
  co_return Ok{};
}

asio::awaitable<Result<std::optional<SmsContext>>> PaymentStore::sms_context(
    std::string_view session_id) {
  PgParams p;
  p.add(session_id);
  auto r = co_await pool_.execute(kSmsContext, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<SmsContext>{};
  SmsContext c;
  c.state = r->string(0, 0);
  c.clinic_id = r->string(0, 1);
  c.amount = r->int64(0, 2);
  c.phone_enc = r->bytea(0, 3);
  c.transient_key = wrapped_key(*r, 0, 7);
  c.payment_url_enc = r->bytea(0, 4);
  c.unresolved_attempts = static_cast<int>(r->int64(0, 5));
  if (!r->is_null(0, 6)) c.last_unresolved_at = common::parse_pg_timestamptz(r->text(0, 6));
  co_return c;
}

asio::awaitable<Result<std::optional<std::int64_t>>> PaymentStore::begin_sms(
    std::string_view session_id, std::string_view account, domain::Ore fee,
    domain::Timestamp deadline, domain::Timestamp now) {
  PgParams p;
  p.add(session_id).add(account).add(fee).add(ts(deadline)).add(ts(now));
  auto r = co_await pool_.execute(kBeginSms, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<std::int64_t>{};
  co_return std::optional<std::int64_t>(r->int64(0, 0));
}

asio::awaitable<Result<void>> PaymentStore::sms_accepted(std::int64_t sms_id,
                                                         std::string_view session_id,
                                                         std::string_view message_id, int segments,
                                                         domain::Timestamp now) {
  PgParams p;
  p.add(sms_id).add(session_id).add(message_id).add(segments).add(ts(now));
  auto r = co_await pool_.execute(kSmsAccepted, p);
  if (!r) co_return std::move(r).error();
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
  PgParams p;
  p.add(sms_id).add(session_id).add(error).add(permanent).add(ts(now));
  auto r = co_await pool_.execute(kSmsNotSent, p);
  if (!r) co_return std::move(r).error();
  co_return Ok{};
}

asio::awaitable<Result<bool>> PaymentStore::delivery_report(std::string_view message_id,
                                                            std::string_view reference,
                                                            int result_code,
                                                            DeliveryOutcome outcome,
                                                            domain::Timestamp now) {
  PgParams p;
  p.add(message_id)
      .add(result_code)
      .add(outcome_text(outcome))
      .add(ts(now))
      .add(sms_id_of_reference(reference).value_or(-1));
  auto r = co_await pool_.execute(kDeliveryReport, p);
  if (!r) co_return std::move(r).error();
  co_return r->boolean(0, 0);
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
  o.session_state = r->string(0, 1);
  o.clinic_id = r->string(0, 2);
  o.account = r->string(0, 3);
  o.order_id = r->string(0, 4);
  o.vat_amount = r->int64(0, 5);
  co_return o;
}

asio::awaitable<Result<OrderStatusResult>> PaymentStore::record_order_status(
    std::string_view session_id, const OrderStatusUpdate& update, domain::Timestamp now) {
  PgParams p;
  p.add(session_id)
      .add(update.status)
      .add(update.instrument)
      .add(update.transaction_type)
      .add(update.captured)
      .add(ts(now));
  auto r = co_await pool_.execute(kRecordStatus, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return OrderStatusResult{};
  co_return OrderStatusResult{r->string(0, 0), r->boolean(0, 1), r->int64(0, 2) > 0};
}

asio::awaitable<Result<std::int64_t>> PaymentStore::count_paid_after_close() {
  const PgParams none;
  auto r = co_await pool_.execute(kCountPaidAfterClose, none);
  if (!r) co_return std::move(r).error();
  co_return r->int64(0, 0);
}

asio::awaitable<Result<bool>> PaymentStore::callback_received(std::string_view order_id,
                                                              domain::Timestamp now) {
  PgParams p;
  p.add(order_id).add(ts(now));
  auto r = co_await pool_.execute(kCallback, p);
  if (!r) co_return std::move(r).error();
  co_return r->int64(0, 0) > 0;
}

asio::awaitable<Result<std::int64_t>> PaymentStore::enqueue_stale(domain::Timestamp before,
                                                                  int limit,
                                                                  domain::Timestamp now) {
  PgParams p;
  p.add(ts(before)).add(limit).add(ts(now));
  auto r = co_await pool_.execute(kEnqueueStale, p);
  if (!r) co_return std::move(r).error();
  co_return r->affected_rows();
}

asio::awaitable<Result<CancelOutcome>> PaymentStore::cancel(std::string_view session_id,
                                                            domain::Timestamp now) {
  PgParams p;
  p.add(session_id).add(ts(now));
  auto r = co_await pool_.execute(kCancel, p);
  if (!r) co_return std::move(r).error();
  if (r->int64(0, 0) > 0) co_return CancelOutcome::cancelled;
  if (r->is_null(0, 1)) co_return CancelOutcome::not_found;
  if (r->text(0, 1) == "cancelled") co_return CancelOutcome::already_cancelled;
  co_return CancelOutcome::not_cancellable;
}

}  // namespace visitpay::store
