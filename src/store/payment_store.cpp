#include "store/payment_store.hpp"

#include <charconv>

#include "common/time_format.hpp"
#include "store/pg_transaction.hpp"
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
       k.master_key_id, k.wrapped_key
FROM sessions s
LEFT JOIN payers p ON p.session_id = s.id
LEFT JOIN payer_keys k ON k.session_id = s.id AND k.key_class = 'transient'
LEFT JOIN payment_orders o ON o.session_id = s.id
WHERE s.id = $1)sql"};

// A second run would record a second attempt: never repeated blindly.
constexpr Statement kBeginSms{"payment.begin_sms", R"sql(
WITH s AS (SELECT id FROM sessions WHERE id = $1 AND state = $6 FOR UPDATE)
INSERT INTO sms_messages (session_id, account, status, fee_disclosed_ore, deadline_at,
                          attempted_at)
SELECT s.id, $2::text, 'sending', $3::bigint, $4::timestamptz, $5::timestamptz FROM s
RETURNING id)sql",
                              Repeat::once};

constexpr Statement kSmsAccepted{"payment.sms_accepted", R"sql(
UPDATE sms_messages
SET status = CASE WHEN status IN ('sending', 'unknown') THEN 'accepted' ELSE status END,
    gateway_message_id = $2, segments = $3, accepted_at = coalesce(accepted_at, $4), error = NULL
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

// Which session a delivery report is about: by the gateway's message id, or, for an attempt whose
// answer was lost, by our reference.
constexpr Statement kReportedSession{"payment.reported_session", R"sql(
SELECT session_id FROM sms_messages
WHERE gateway_message_id = $1 OR (gateway_message_id IS NULL AND id = $2)
LIMIT 1)sql"};

// Only a report that moves a message forward counts: a late 1000 after the final code, or a
// second final code, changes nothing. A report for an attempt whose answer was lost (matched by
// our refId) tells that the gateway took it after all: it is accepted, and no resend follows.
constexpr Statement kDeliveryReport{"payment.delivery_report", R"sql(
UPDATE sms_messages
SET result_code = $2,
    gateway_message_id = coalesce(gateway_message_id, $1),
    accepted_at = coalesce(accepted_at, $4),
    status = CASE $3 WHEN 'delivered' THEN 'delivered' WHEN 'failed' THEN 'failed'
                    ELSE 'accepted' END,
    final_at = CASE WHEN $3 = 'in_progress' THEN final_at ELSE $4 END
WHERE (gateway_message_id = $1 OR (gateway_message_id IS NULL AND id = $5))
  AND status IN ('sending', 'unknown', 'accepted')
RETURNING status, deadline_at, fee_disclosed_ore)sql",
                                    Repeat::once};

constexpr Statement kOrderOf{"payment.order_of", R"sql(
SELECT s.id, s.state, s.clinic_id, o.account, o.order_id, s.vat_amount_ore
FROM payment_orders o JOIN sessions s ON s.id = o.session_id
WHERE o.session_id = $1)sql"};

// In record_order_status's transaction, after the session row is locked. $7: the session had
// ended otherwise (cancelled or invoiced) when the payment was seen.
constexpr Statement kUpdateOrder{"payment.update_order", R"sql(
UPDATE payment_orders o
SET status = $2, instrument = nullif($3, ''), transaction_type = nullif($4, ''),
    captured_ore = greatest(o.captured_ore, $5), updated_at = $6,
    paid_after_close = o.paid_after_close OR $7
WHERE o.session_id = $1)sql"};

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

constexpr Statement kCallback{"payment.callback", R"sql(
WITH o AS (
  SELECT session_id FROM payment_orders WHERE order_id = $1
), i AS (
  INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
  SELECT session_id, $3, $2::timestamptz, $2::timestamptz, $2::timestamptz FROM o
  ON CONFLICT (session_id, kind) WHERE status = 'pending' DO NOTHING
)
SELECT count(*) FROM o)sql"};

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
ON CONFLICT (session_id, kind) WHERE status = 'pending' DO NOTHING)sql",
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
ON CONFLICT (session_id, kind) WHERE status = 'pending' DO NOTHING)sql"};

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

std::vector<Statement> PaymentStore::statements() {
  return {kOrderContext, kInsertOrder,         kSmsContext,
          kBeginSms,     kSmsAccepted,         kSmsUnknown,
          kSmsNotSent,   kReportedSession,     kDeliveryReport,
          kOrderOf,      kUpdateOrder,         kStatusChecked,
          kFlagInvoice,  kCountPaidAfterClose, kCallback,
          kDueChecks,    kScheduleChecks};
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
                                        domain::Ore fee, domain::Timestamp deadline,
                                        domain::Timestamp now) {
  PgParams p;
  p.add(session_id)
      .add(account)
      .add(fee)
      .add(ts(deadline))
      .add(ts(now))
      .add(domain::to_string(domain::SessionState::pending));
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
      .add(paid_after_close);
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

asio::awaitable<Result<void>> PaymentStore::save_order(
    std::string_view session_id, std::string_view account, std::string_view order_id,
    const common::Bytes& payment_url_enc, domain::OrderStatus status, domain::Timestamp now) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  auto state = co_await LifecycleStore::lock(*tx, session_id);
  if (!state) co_return std::move(state).error();
  if (!*state) co_return co_await tx->rollback();
  auto inserted = co_await tx->execute(
      kInsertOrder,
      insert_order_params(session_id, account, order_id, payment_url_enc, status, now));
  if (!inserted) co_return std::move(inserted).error();
  // What follows is queued only by the call that saved the order.
  if (inserted->rows() == 1) {
    auto applied =
        co_await lifecycle_.apply(*tx, session_id, domain::SessionEvent::order_created, now);
    if (!applied) co_return std::move(applied).error();
  }
  co_return co_await tx->commit();
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
  co_return c;
}

asio::awaitable<Result<std::optional<std::int64_t>>> PaymentStore::begin_sms(
    std::string_view session_id, std::string_view account, domain::Ore fee,
    domain::Timestamp deadline, domain::Timestamp now) {
  auto r =
      co_await pool_.execute(kBeginSms, begin_sms_params(session_id, account, fee, deadline, now));
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<std::int64_t>{};
  co_return std::optional<std::int64_t>(r->int64(0, 0));
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
    auto applied =
        co_await lifecycle_.apply(*tx, session_id, domain::SessionEvent::link_sent, now, facts);
    if (!applied) co_return std::move(applied).error();
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

asio::awaitable<Result<bool>> PaymentStore::delivery_report(std::string_view message_id,
                                                            std::string_view reference,
                                                            int result_code,
                                                            DeliveryOutcome outcome,
                                                            domain::Timestamp now) {
  const auto our_id = sms_id_of_reference(reference).value_or(-1);
  PgParams find;
  find.add(message_id).add(our_id);
  auto found = co_await pool_.execute(kReportedSession, find);
  if (!found) co_return std::move(found).error();
  if (found->empty()) co_return false;
  const std::string session_id = found->string(0, 0);

  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  auto state = co_await LifecycleStore::lock(*tx, session_id);
  if (!state) co_return std::move(state).error();
  PgParams p;
  p.add(message_id).add(result_code).add(outcome_text(outcome)).add(ts(now)).add(our_id);
  auto m = co_await tx->execute(kDeliveryReport, p);
  if (!m) co_return std::move(m).error();
  if (m->rows() == 1) {
    const auto status = m->text(0, 0);
    TransitionFacts facts;
    auto event = domain::SessionEvent::link_sent;  // still in progress, but the gateway has it
    if (status == "failed") {
      event = domain::SessionEvent::link_undeliverable;
    } else {
      facts.deadline = common::parse_pg_timestamptz(m->text(0, 1));
    }
    if (status == "delivered") {
      event = domain::SessionEvent::link_delivered;
      facts.fee_disclosed = m->int64(0, 2);
    }
    auto applied = co_await lifecycle_.apply(*tx, session_id, event, now, facts);
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

asio::awaitable<Result<OrderStatusResult>> PaymentStore::record_order_status(
    std::string_view session_id, const OrderStatusUpdate& update, domain::Timestamp now) {
  using domain::SessionState;
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
  const bool paid = update.status == domain::OrderStatus::paid;
  const bool after_close =
      paid && (result.state == SessionState::cancelled || result.state == SessionState::invoiced);
  auto updated =
      co_await tx->execute(kUpdateOrder, update_order_params(session_id, update, now, after_close));
  if (!updated) co_return std::move(updated).error();
  auto touched = co_await tx->execute(kStatusChecked, status_checked_params(session_id, now));
  if (!touched) co_return std::move(touched).error();

  if (paid && result.state == SessionState::invoiced) {
    PgParams flag;
    flag.add(session_id).add(ts(now));
    auto flagged = co_await tx->execute(kFlagInvoice, flag);
    if (!flagged) co_return std::move(flagged).error();
    result.invoice_flagged = flagged->int64(0, 0) > 0;
  } else if (paid) {
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
                                                              domain::Timestamp now) {
  PgParams p;
  p.add(order_id).add(ts(now)).add(domain::to_string(domain::WorkKind::payment_callback));
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

}  // namespace visitpay::store
