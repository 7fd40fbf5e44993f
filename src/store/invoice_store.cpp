#include "store/invoice_store.hpp"

#include <charconv>

#include "common/time_format.hpp"
#include "common/uuid.hpp"
#include "store/outbox_queue.hpp"
#include "store/pg_transaction.hpp"
#include "store/wrapped_key_column.hpp"

namespace visitpay::store {

using common::Ok;
using common::Result;

namespace {

constexpr Statement kWindowContext{"invoice.window_context", R"sql(
SELECT s.state, s.clinic_id, s.deadline_at, o.status, s.state_since
FROM sessions s LEFT JOIN payment_orders o ON o.session_id = s.id
WHERE s.id = $1)sql"};

constexpr Statement kLockSession{"invoice.lock_session", R"sql(
SELECT s.state, s.invoice_reason, s.fee_disclosed_ore, o.status
FROM sessions s LEFT JOIN payment_orders o ON o.session_id = s.id
WHERE s.id = $1
FOR UPDATE OF s)sql",
                                 Repeat::once};

// The next number of an issuer's series ($N). The series row stays locked until the transaction
// ends: numbers are used in commit order and a rolled-back invoice gives its number back.
#define VISITPAY_NEXT_NUMBER(N)                                          \
  "INSERT INTO invoice_series AS s (org_number, last_number) VALUES (" N \
  ", 1) "                                                                \
  "ON CONFLICT (org_number) DO UPDATE SET last_number = s.last_number + 1 RETURNING last_number"

constexpr Statement kNextNumber{"invoice.next_number", VISITPAY_NEXT_NUMBER("$1")};

// The invoice with the next number of its issuer's series ($2) and the KID of that number ($3
// algorithm, $7 length, $20 '-' allowed; migration 0023), in one statement: the series row is
// locked from here until the COMMIT, which is sent with it. The fee line (when $5 > 0) follows the
// main supply (the largest line, the first of equals) in its VAT: exempt with an exempt visit,
// else the same share of VAT in the fee, rounded to the øre. Answers the invoice's number.
// (No SQL comments inside: the benchmarks' pgbench twins take each statement on one line.)
constexpr Statement kInsertInvoice{"invoice.insert", R"sql(
WITH num AS ()sql" VISITPAY_NEXT_NUMBER("$2") R"sql(
), inv AS (
  INSERT INTO invoices (id, kind, org_number, number, session_id, status, clinic_id, reason,
                        fee_ore, fee_not_disclosed, total_ore, kid, due_days, seller_name,
                        seller_foretaksregisteret, seller_vat_registered, seller_bank_account,
                        delivery_place, delivered_on, buyer_name_enc, buyer_address_enc, created_at,
                        updated_at, order_not_aborted, seller_street, seller_postal_code,
                        seller_city)
  SELECT $1::uuid, 'invoice', $2::text, num.last_number, s.id, 'pending_review', s.clinic_id,
         $4::text, $5::bigint, $6::boolean, s.amount_ore + $5::bigint,
         invoice_kid(num.last_number, $3::text, $7::integer, $20::boolean), $8::integer, $9::text,
         $10::boolean, $11::boolean, $12::text, $13::text,
         (s.checked_out_at AT TIME ZONE 'Europe/Oslo')::date, p.name_enc, p.address_enc,
         $14::timestamptz, $14::timestamptz, $16::boolean, $17::text, $18::text, $19::text
  FROM num, sessions s LEFT JOIN payers p ON p.session_id = s.id
  WHERE s.id = $15
  RETURNING id, number
), visit_lines AS (
  INSERT INTO invoice_lines (invoice_id, line_no, description, description_enc, amount_ore, is_fee,
                             vat_ore)
  SELECT inv.id, l.line_no, l.description, l.description_enc, l.amount_ore, false, l.vat_amount_ore
  FROM inv, session_lines l WHERE l.session_id = $15
  UNION ALL
  SELECT inv.id, (SELECT coalesce(max(line_no), 0) + 1 FROM session_lines WHERE session_id = $15),
         'Fakturagebyr', NULL::bytea, $5::bigint, true,
         coalesce((SELECT round($5::numeric * m.vat_amount_ore / m.amount_ore)::bigint
                   FROM session_lines m WHERE m.session_id = $15
                   ORDER BY m.amount_ore DESC, m.line_no LIMIT 1), 0)
  FROM inv WHERE $5::bigint > 0
), created AS (
  INSERT INTO invoice_events (invoice_id, at, actor, action, to_status, detail)
  SELECT inv.id, $14::timestamptz, 'system', 'create', 'pending_review', $4::text FROM inv
)
SELECT number FROM inv)sql",
                                   Repeat::once};

#define VISITPAY_INVOICE_COLUMNS                                                                \
  "i.id, i.kind, i.org_number, i.number, i.session_id, i.credits_invoice_id, c.number, "        \
  "(SELECT n.id FROM invoices n WHERE n.credits_invoice_id = i.id), i.status, i.clinic_id, "    \
  "i.reason, i.fee_ore, i.fee_not_disclosed, i.total_ore, i.kid, i.due_days, i.seller_name, "   \
  "i.seller_foretaksregisteret, i.seller_vat_registered, i.seller_bank_account, "               \
  "i.delivery_place, i.delivered_on, i.buyer_name, i.buyer_street, i.buyer_postal_code, "       \
  "i.buyer_city, i.buyer_country, i.issue_date, i.due_date, i.paid_by_link, "                   \
  "i.credit_note_needed, i.void_reason, i.paid_on, i.payment_reference, i.delivery_reference, " \
  "i.delivered_at, i.created_at, i.updated_at, i.buyer_name_enc, i.buyer_address_enc, "         \
  "rk.master_key_id, rk.wrapped_key, i.order_not_aborted, i.paid_ore, i.overpaid_ore, "         \
  "(SELECT v.checked_out_at FROM sessions v WHERE v.id = i.session_id), "                       \
  "i.reminder_fees_ore, i.paid_after_collection, i.seller_street, i.seller_postal_code, "       \
  "i.seller_city, (SELECT p.email_enc FROM payers p WHERE p.session_id = i.session_id), "       \
  "i.delivery_problem, i.delivery_problem_at "                                                  \
  "FROM invoices i LEFT JOIN invoices c ON c.id = i.credits_invoice_id "                        \
  "LEFT JOIN payer_keys rk ON rk.session_id = i.session_id AND rk.key_class = 'retained' "

constexpr Statement kGet{"invoice.get", "SELECT " VISITPAY_INVOICE_COLUMNS "WHERE i.id = $1::uuid"};
constexpr Statement kOfSession{"invoice.of_session",
                               "SELECT " VISITPAY_INVOICE_COLUMNS
                               "WHERE i.session_id = $1::uuid AND i.kind = $2"};

// Filters: $1 status, $2 clinic, $3 from, $4 to, $5 the caller's clinics ('{}' = all), $6 a flag
// (NULL = any; the names of invoice_json's flags); keyset after ($7, $8); $9 rows.
#define VISITPAY_INVOICE_FILTER                                                           \
  "WHERE ($1::text IS NULL OR i.status = $1) AND ($2::text IS NULL OR i.clinic_id = $2) " \
  "AND ($3::timestamptz IS NULL OR i.created_at >= $3) "                                  \
  "AND ($4::timestamptz IS NULL OR i.created_at < $4) "                                   \
  "AND (cardinality($5::text[]) = 0 OR i.clinic_id = ANY ($5::text[])) "                  \
  "AND ($6::text IS NULL OR CASE $6 WHEN 'paid_by_link' THEN i.paid_by_link "             \
  "WHEN 'credit_note_needed' THEN i.credit_note_needed WHEN 'sms_undeliverable' THEN "    \
  "i.reason IN ('sms_undeliverable', 'sms_rejected') WHEN 'link_failed' THEN "            \
  "i.reason = 'link_failed' WHEN 'no_phone' THEN i.reason = 'no_phone' "                  \
  "WHEN 'fee_not_disclosed' THEN i.fee_not_disclosed WHEN 'order_not_aborted' THEN "      \
  "i.order_not_aborted WHEN 'paid_after_collection' THEN i.paid_after_collection "        \
  "WHEN 'delivery_problem' THEN i.delivery_problem IS NOT NULL ELSE false END) "

constexpr Statement kList{"invoice.list",
                          "SELECT " VISITPAY_INVOICE_COLUMNS VISITPAY_INVOICE_FILTER
                          "AND ($7::timestamptz IS NULL OR (i.created_at, i.id) > ($7, $8::uuid)) "
                          "ORDER BY i.created_at, i.id LIMIT $9"};
constexpr Statement kTotals{
    "invoice.totals",
    "SELECT count(*), coalesce(sum(i.total_ore), 0) FROM invoices i " VISITPAY_INVOICE_FILTER};

#undef VISITPAY_INVOICE_FILTER
#undef VISITPAY_INVOICE_COLUMNS
#undef VISITPAY_NEXT_NUMBER

constexpr Statement kLines{"invoice.lines", R"sql(
SELECT line_no, description, amount_ore, is_fee, vat_ore, description_enc FROM invoice_lines
WHERE invoice_id = $1 ORDER BY line_no)sql"};

constexpr Statement kReminders{"invoice.reminders", R"sql(
SELECT id, kind, sequence, sent_at, sent_on, deadline, fee_ore, open_ore, document_name,
       delivery_reference, delivered_at
FROM invoice_reminders WHERE invoice_id = $1 ORDER BY id)sql"};

constexpr Statement kHistory{"invoice.history", R"sql(
SELECT at, actor, action, from_status, to_status, detail FROM invoice_events
WHERE invoice_id = $1 ORDER BY id)sql"};

// A finance transition, guarded by the current status. Refused attempts are audited too.
constexpr Statement kTransition{"invoice.transition", R"sql(
WITH cur AS (
  SELECT id, status, session_id FROM invoices WHERE id = $1 AND kind = 'invoice' FOR UPDATE
), u AS (
  UPDATE invoices i
  SET status = $3,
      issue_date = CASE WHEN $3 = 'issued' THEN $5::date ELSE i.issue_date END,
      due_date = CASE WHEN $3 = 'issued' THEN $5::date + i.due_days ELSE i.due_date END,
      void_reason = CASE WHEN $3 = 'void' THEN $6 ELSE i.void_reason END,
      paid_on = CASE WHEN $3 = 'paid' THEN $5::date ELSE i.paid_on END,
      payment_reference = CASE WHEN $3 = 'paid' THEN nullif($6, '') ELSE i.payment_reference END,
      paid_ore = CASE WHEN $3 = 'paid' THEN greatest(i.paid_ore, i.total_ore) ELSE i.paid_ore END,
      updated_at = $7
  FROM cur
  WHERE i.id = cur.id AND cur.status = ANY ($2::text[])
  RETURNING i.id, i.session_id
), audit AS (
  INSERT INTO invoice_events (invoice_id, at, actor, action, from_status, to_status, detail)
  SELECT cur.id, $7, $4, $8, cur.status,
         CASE WHEN EXISTS (SELECT 1 FROM u) THEN $3 END,
         CASE WHEN EXISTS (SELECT 1 FROM u) THEN nullif($6, '') ELSE 'refused' END
  FROM cur
), delivery AS (
  INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
  SELECT u.session_id, 'deliver_invoice', $7, $7, $7 FROM u WHERE $3 = 'issued'
  )sql" VISITPAY_OUTBOX_ON_CONFLICT R"sql(
)
SELECT cur.status, EXISTS (SELECT 1 FROM u) FROM cur)sql"};

constexpr Statement kLockInvoice{"invoice.lock", R"sql(
SELECT status, org_number FROM invoices WHERE id = $1 AND kind = 'invoice' FOR UPDATE)sql"};

// A credit locks the session before the invoice, as a payment's status check does.
constexpr Statement kInvoiceSession{"invoice.session", R"sql(
SELECT session_id FROM invoices WHERE id = $1 AND kind = 'invoice')sql"};

// What the payer paid on the invoice itself (by bank or marked paid), if the session was also
// paid through the link: then the payer paid twice.
constexpr Statement kPaidTwice{"invoice.paid_twice", R"sql(
SELECT paid_ore FROM invoices WHERE id = $1 AND paid_by_link AND paid_ore > 0)sql"};

constexpr Statement kAuditRefused{"invoice.audit_refused", R"sql(
INSERT INTO invoice_events (invoice_id, at, actor, action, from_status, detail)
VALUES ($1, $2, $3, $4, $5, 'refused'))sql"};

constexpr Statement kInsertCreditNote{"invoice.insert_credit_note", R"sql(
WITH orig AS (
  SELECT * FROM invoices WHERE id = $2
), note AS (
  INSERT INTO invoices (id, kind, org_number, number, session_id, credits_invoice_id, status,
                        clinic_id, reason, fee_ore, total_ore, due_days, seller_name,
                        seller_foretaksregisteret, seller_vat_registered, seller_bank_account,
                        delivery_place, delivered_on, buyer_name, buyer_street, buyer_postal_code,
                        buyer_city, buyer_country, buyer_name_enc, buyer_address_enc, issue_date,
                        created_at, updated_at, seller_street, seller_postal_code, seller_city)
  SELECT $1::uuid, 'credit_note', orig.org_number, $3::bigint, orig.session_id, orig.id, 'issued',
         orig.clinic_id, 'credit', orig.fee_ore, -orig.total_ore, orig.due_days, orig.seller_name,
         orig.seller_foretaksregisteret, orig.seller_vat_registered, orig.seller_bank_account,
         orig.delivery_place, orig.delivered_on, orig.buyer_name, orig.buyer_street,
         orig.buyer_postal_code, orig.buyer_city, orig.buyer_country, orig.buyer_name_enc,
         orig.buyer_address_enc, $4::date, $5::timestamptz, $5::timestamptz,
         orig.seller_street, orig.seller_postal_code, orig.seller_city
  FROM orig
  RETURNING id, session_id
), note_lines AS (
  INSERT INTO invoice_lines (invoice_id, line_no, description, description_enc, amount_ore, is_fee,
                             vat_ore)
  SELECT $1::uuid, l.line_no, l.description, l.description_enc, -l.amount_ore, l.is_fee, -l.vat_ore
  FROM invoice_lines l WHERE l.invoice_id = $2
), credited AS (
  UPDATE invoices SET status = 'credited', credit_note_needed = false, updated_at = $5
  WHERE id = $2
), audit AS (
  INSERT INTO invoice_events (invoice_id, at, actor, action, from_status, to_status, detail)
  SELECT $2::uuid, $5::timestamptz, $6::text, 'credit', orig.status, 'credited', nullif($7, '')
  FROM orig
  UNION ALL
  SELECT $1::uuid, $5::timestamptz, $6::text, 'create', NULL, 'issued', 'credit note'
), delivery AS (
  INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, updated_at)
  SELECT note.session_id, 'deliver_credit_note', $5, $5, $5 FROM note
  )sql" VISITPAY_OUTBOX_ON_CONFLICT R"sql(
)
SELECT id FROM note)sql"};

constexpr Statement kDelivered{"invoice.delivered", R"sql(
WITH u AS (
  UPDATE invoices SET delivery_reference = $2, delivered_at = $3, updated_at = $3,
                      delivery_problem = NULL, delivery_problem_at = NULL
  WHERE id = $1 AND delivered_at IS NULL
  RETURNING id
)
INSERT INTO invoice_events (invoice_id, at, actor, action, detail)
SELECT id, $3, 'system', 'deliver', $2 FROM u)sql"};

// The standing delivery problem shown to finance ($2: channel and reply code, no personal data;
// NULL clears it) and a history row ($4, NULL for none): written when the problem changes, or
// always for a one-off ($2 NULL with $4: a refusal after which the letter went by post).
constexpr Statement kDeliveryProblem{"invoice.delivery_problem", R"sql(
WITH u AS (
  UPDATE invoices
  SET delivery_problem = $2, delivery_problem_at = CASE WHEN $2 IS NOT NULL THEN $3::timestamptz END
  WHERE id = $1 AND delivery_problem IS DISTINCT FROM $2
  RETURNING id
)
INSERT INTO invoice_events (invoice_id, at, actor, action, detail)
SELECT $1::uuid, $3, 'system', 'delivery_failed', $4
WHERE $4::text IS NOT NULL AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM u)))sql"};

// The review backlog: how many wait, and how long the oldest has waited (0 when none does).
constexpr Statement kReviewBacklog{"invoice.review_backlog", R"sql(
SELECT count(*),
       coalesce(extract(epoch FROM $1::timestamptz - min(created_at)), 0)::bigint
FROM invoices WHERE status = 'pending_review')sql"};

std::string ts(domain::Timestamp t) {
  return common::format_rfc3339_utc(t);
}

domain::Timestamp timestamp(const PgResult& r, int row, int col) {
  return common::parse_pg_timestamptz(r.text(row, col)).value_or(domain::Timestamp{});
}

std::optional<std::string> opt(const PgResult& r, int row, int col) {
  return r.optional_string(row, col);
}

InvoiceRecord read_invoice(const PgResult& r, int row) {
  InvoiceRecord v;
  int c = 0;
  v.id = r.string(row, c++);
  v.kind = r.string(row, c++);
  v.org_number = r.string(row, c++);
  v.number = r.int64(row, c++);
  v.session_id = r.string(row, c++);
  v.credits_invoice_id = opt(r, row, c++);
  if (!r.is_null(row, c)) v.credits_number = r.int64(row, c);
  ++c;
  v.credit_note_id = opt(r, row, c++);
  v.status = r.string(row, c++);
  v.clinic_id = r.string(row, c++);
  v.reason = r.string(row, c++);
  v.fee = r.int64(row, c++);
  v.fee_not_disclosed = r.boolean(row, c++);
  v.total = r.int64(row, c++);
  v.kid = opt(r, row, c++);
  v.due_days = static_cast<int>(r.int64(row, c++));
  v.seller_name = r.string(row, c++);
  v.seller_foretaksregisteret = r.boolean(row, c++);
  v.seller_vat_registered = r.boolean(row, c++);
  v.seller_bank_account = r.string(row, c++);
  v.delivery_place = r.string(row, c++);
  v.delivered_on = r.string(row, c++);
  v.buyer_name = opt(r, row, c++);
  v.buyer_street = opt(r, row, c++);
  v.buyer_postal_code = opt(r, row, c++);
  v.buyer_city = opt(r, row, c++);
  v.buyer_country = opt(r, row, c++);
  v.issue_date = opt(r, row, c++);
  v.due_date = opt(r, row, c++);
  v.paid_by_link = r.boolean(row, c++);
  v.credit_note_needed = r.boolean(row, c++);
  v.void_reason = opt(r, row, c++);
  v.paid_on = opt(r, row, c++);
  v.payment_reference = opt(r, row, c++);
  v.delivery_reference = opt(r, row, c++);
  if (!r.is_null(row, c)) v.delivered_at = timestamp(r, row, c);
  ++c;
  v.created_at = timestamp(r, row, c++);
  v.updated_at = timestamp(r, row, c++);
  v.buyer_name_enc = r.bytea(row, c++);
  v.buyer_address_enc = r.bytea(row, c++);
  v.retained_key = wrapped_key(r, row, c);
  c += 2;
  v.order_not_aborted = r.boolean(row, c++);
  v.paid = r.int64(row, c++);
  v.overpaid = r.int64(row, c++);
  if (!r.is_null(row, c)) v.visit_at = timestamp(r, row, c);
  ++c;
  v.reminder_fees = r.int64(row, c++);
  v.paid_after_collection = r.boolean(row, c++);
  v.seller_street = r.string(row, c++);
  v.seller_postal_code = r.string(row, c++);
  v.seller_city = r.string(row, c++);
  v.buyer_email_enc = r.bytea(row, c++);
  v.delivery_problem = opt(r, row, c++);
  if (!r.is_null(row, c)) v.delivery_problem_at = timestamp(r, row, c);
  return v;
}

}  // namespace

ReminderRecord read_reminder(const PgResult& r, int row) {
  ReminderRecord v;
  v.id = r.int64(row, 0);
  v.kind = r.string(row, 1);
  v.sequence = static_cast<int>(r.int64(row, 2));
  v.sent_at = timestamp(r, row, 3);
  v.sent_on = r.string(row, 4);
  v.deadline = opt(r, row, 5);
  v.fee = r.int64(row, 6);
  v.open = r.int64(row, 7);
  v.document_name = r.string(row, 8);
  v.delivery_reference = opt(r, row, 9);
  if (!r.is_null(row, 10)) v.delivered_at = timestamp(r, row, 10);
  return v;
}

namespace {

void add_filter(PgParams& p, const InvoiceFilter& f) {
  auto text_or_null = [](const std::string& s) {
    return s.empty() ? std::optional<std::string>{} : std::optional<std::string>{s};
  };
  auto time_or_null = [](const std::optional<domain::Timestamp>& t) {
    return t ? std::optional<std::string>{ts(*t)} : std::optional<std::string>{};
  };
  p.add(text_or_null(f.status))
      .add(text_or_null(f.clinic_id))
      .add(time_or_null(f.from))
      .add(time_or_null(f.to))
      .add(pg_text_array(f.clinics))
      .add(text_or_null(f.flag));
}

std::chrono::year_month_day iso_date(std::string_view text) {
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  if (text.size() == 10) {
    std::from_chars(text.data(), text.data() + 4, y);
    std::from_chars(text.data() + 5, text.data() + 7, m);
    std::from_chars(text.data() + 8, text.data() + 10, d);
  }
  return std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m},
                                     std::chrono::day{d}};
}

}  // namespace

domain::InvoiceDocument to_document(const InvoiceRecord& v, std::string_view today) {
  domain::InvoiceDocument d;
  d.kind =
      v.kind == "credit_note" ? domain::InvoiceKind::credit_note : domain::InvoiceKind::invoice;
  d.draft = v.status == "pending_review";
  d.number = v.number;
  d.credits_number = v.credits_number;
  d.kid = v.kid.value_or("");
  d.issue_date = iso_date(v.issue_date.value_or(std::string(today)));
  if (v.due_date) {
    d.due_date = iso_date(*v.due_date);
  } else {
    d.due_date = std::chrono::sys_days(d.issue_date) + std::chrono::days(v.due_days);
  }
  d.delivery_date = iso_date(v.delivered_on);
  d.delivery_place = v.delivery_place;
  d.seller_name = v.seller_name;
  d.seller_org_number = v.org_number;
  d.seller_foretaksregisteret = v.seller_foretaksregisteret;
  d.seller_vat_registered = v.seller_vat_registered;
  d.seller_bank_account = v.seller_bank_account;
  d.seller_street = v.seller_street;
  d.seller_postal_code = v.seller_postal_code;
  d.seller_city = v.seller_city;
  d.buyer_name = v.buyer_name.value_or("");
  d.buyer_street = v.buyer_street.value_or("");
  d.buyer_postal_code = v.buyer_postal_code.value_or("");
  d.buyer_city = v.buyer_city.value_or("");
  d.buyer_country = v.buyer_country.value_or("");
  for (const auto& line : v.lines)
    d.lines.push_back({domain::shown_description(line.description), line.amount, line.vat});
  d.total = v.total;
  return d;
}

asio::awaitable<Result<std::int64_t>> InvoiceStore::sweep(domain::Timestamp now, int limit) {
  co_return co_await lifecycle_.close_windows(now, limit);
}

asio::awaitable<Result<std::optional<WindowContext>>> InvoiceStore::window_context(
    std::string_view session_id) {
  PgParams p;
  p.add(session_id);
  auto r = co_await pool_.execute(kWindowContext, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<WindowContext>{};
  WindowContext w;
  w.state = domain::parse_session_state(r->text(0, 0)).value_or(domain::SessionState::pending);
  w.clinic_id = r->string(0, 1);
  if (!r->is_null(0, 2)) w.deadline = timestamp(*r, 0, 2);
  if (!r->is_null(0, 3)) w.order_status = domain::parse_order_status(r->text(0, 3));
  w.state_since = timestamp(*r, 0, 4);
  co_return w;
}

asio::awaitable<Result<std::variant<InvoiceCreated, InvoiceRefusal>>> InvoiceStore::create_invoice(
    std::string_view session_id, const InvoiceIssuer& issuer, domain::Timestamp now,
    bool order_not_aborted) {
  using Outcome = std::variant<InvoiceCreated, InvoiceRefusal>;
  using domain::OrderStatus;
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();

  // The session row first (the one lock order), judged here; the series row only with the
  // insert, so a refusal takes no number.
  PgParams lock;
  lock.add(session_id);
  auto session = co_await tx->execute(kLockSession, lock);
  if (!session) co_return std::move(session).error();
  // Nothing to do, or not yet: end the transaction and keep the connection.
  const auto refuse = [&tx](InvoiceRefusal why) -> asio::awaitable<Result<Outcome>> {
    auto ended = co_await tx->rollback();
    if (!ended) co_return std::move(ended).error();
    co_return Outcome{why};
  };
  if (session->empty()) co_return co_await refuse(InvoiceRefusal::not_invoiceable);
  const auto state = domain::parse_session_state(session->text(0, 0));
  if (!state || !domain::next_step(*state, domain::SessionEvent::invoice_created)) {
    co_return co_await refuse(InvoiceRefusal::not_invoiceable);
  }
  // Invariant 3: the order was aborted (or never payable) before an invoice exists, unless its
  // budget ran out and the invoice is created regardless (flagged for finance).
  if (!session->is_null(0, 3)) {
    const auto order =
        domain::parse_order_status(session->text(0, 3)).value_or(OrderStatus::unknown);
    if (order == OrderStatus::paid) co_return co_await refuse(InvoiceRefusal::order_open);
    if (!domain::closed_unpaid(order) && !order_not_aborted) {
      co_return co_await refuse(InvoiceRefusal::order_open);
    }
  }

  InvoiceCreated created;
  const auto reason = domain::parse_invoice_reason(session->text(0, 1))
                          .value_or(domain::InvoiceReason::window_expired);
  created.reason = std::string(domain::to_string(reason));
  // The window ran out: the fee is the one the accepted SMS disclosed (invariant 5). On every
  // other path the link never reached the payer: no fee, whatever is configured.
  const bool fee_disclosed =
      reason == domain::InvoiceReason::window_expired && !session->is_null(0, 2);
  created.fee = fee_disclosed ? session->int64(0, 2) : 0;
  const bool fee_not_disclosed = !fee_disclosed && issuer.configured_fee > 0;
  created.id = common::new_uuid_v7(now);

  // The number, the invoice, the transition and the COMMIT in one round trip: the series row is
  // locked only while the database runs them.
  const auto invoice =
      insert_params(created, issuer, fee_not_disclosed, now, session_id, order_not_aborted);
  const std::vector<PgCall> insert{{kInsertInvoice, invoice}};
  std::vector<PgResult> inserted;
  auto applied = co_await lifecycle_.apply_and_commit(
      *tx, session_id, domain::SessionEvent::invoice_created, now, {}, insert, &inserted);
  if (!applied) co_return std::move(applied).error();
  // The session row, locked and found above, cannot have gone: the insert always has its row.
  if (inserted.empty() || inserted.front().empty()) {
    co_return common::make_error(common::ErrorCode::internal_error,
                                 "the invoice insert answered no number");
  }
  created.number = inserted.front().int64(0, 0);
  co_return Outcome{std::move(created)};
}

asio::awaitable<Result<InvoicePage>> InvoiceStore::list(const InvoiceFilter& filter,
                                                        const std::optional<InvoiceCursor>& after,
                                                        int limit, bool with_totals) {
  PgParams p;
  add_filter(p, filter);
  if (after) {
    p.add(ts(after->created_at)).add(after->id);
  } else {
    p.add_null().add_null();
  }
  p.add(limit + 1);
  auto r = co_await pool_.execute(kList, p);
  if (!r) co_return std::move(r).error();
  InvoicePage page;
  for (int row = 0; row < r->rows() && row < limit; ++row) {
    page.items.push_back(read_invoice(*r, row));
  }
  if (r->rows() > limit && !page.items.empty()) {
    page.next = InvoiceCursor{page.items.back().created_at, page.items.back().id};
  }
  if (!with_totals) co_return page;
  PgParams totals;
  add_filter(totals, filter);
  auto t = co_await pool_.execute(kTotals, totals);
  if (!t) co_return std::move(t).error();
  page.total_count = t->int64(0, 0);
  page.total_amount = t->int64(0, 1);
  co_return page;
}

namespace {

asio::awaitable<Result<std::optional<InvoiceRecord>>> with_details(PgPool& pool,
                                                                   Result<PgResult> found) {
  if (!found) co_return std::move(found).error();
  if (found->empty()) co_return std::optional<InvoiceRecord>{};
  InvoiceRecord invoice = read_invoice(*found, 0);
  PgParams p;
  p.add(invoice.id);
  auto lines = co_await pool.execute(kLines, p);
  if (!lines) co_return std::move(lines).error();
  for (int row = 0; row < lines->rows(); ++row) {
    invoice.lines.push_back({static_cast<int>(lines->int64(row, 0)), lines->optional_string(row, 1),
                             lines->int64(row, 2), lines->boolean(row, 3), lines->int64(row, 4),
                             lines->bytea(row, 5)});
  }
  auto reminders = co_await pool.execute(kReminders, p);
  if (!reminders) co_return std::move(reminders).error();
  for (int row = 0; row < reminders->rows(); ++row)
    invoice.reminders.push_back(read_reminder(*reminders, row));
  auto history = co_await pool.execute(kHistory, p);
  if (!history) co_return std::move(history).error();
  for (int row = 0; row < history->rows(); ++row) {
    invoice.history.push_back({timestamp(*history, row, 0), history->string(row, 1),
                               history->string(row, 2), history->optional_string(row, 3),
                               history->optional_string(row, 4), history->optional_string(row, 5)});
  }
  co_return invoice;
}

}  // namespace

asio::awaitable<Result<std::optional<InvoiceRecord>>> InvoiceStore::get(std::string_view id) {
  PgParams p;
  p.add(id);
  auto found = co_await pool_.execute(kGet, p);
  co_return co_await with_details(pool_, std::move(found));
}

asio::awaitable<Result<std::optional<InvoiceRecord>>> InvoiceStore::of_session(
    std::string_view session_id, std::string_view kind) {
  PgParams p;
  p.add(session_id).add(kind);
  auto found = co_await pool_.execute(kOfSession, p);
  co_return co_await with_details(pool_, std::move(found));
}

asio::awaitable<Result<TransitionResult>> InvoiceStore::transition(std::string_view id,
                                                                   const InvoiceTransition& t,
                                                                   domain::Timestamp now) {
  PgParams p;
  p.add(id)
      .add(pg_text_array(t.allowed_from))
      .add(t.to)
      .add(t.actor)
      .add(t.date.empty() ? std::optional<std::string>{} : std::optional<std::string>{t.date})
      .add(t.text)
      .add(ts(now))
      .add(t.action);
  auto r = co_await pool_.execute(kTransition, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return TransitionResult{};
  const bool changed = r->boolean(0, 1);
  co_return TransitionResult{true, changed, changed ? t.to : r->string(0, 0)};
}

asio::awaitable<Result<CreditResult>> InvoiceStore::credit(std::string_view id,
                                                           std::string_view actor,
                                                           std::string_view reason,
                                                           std::string_view issue_date,
                                                           domain::Timestamp now) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  PgParams lock;
  lock.add(id);
  auto session = co_await tx->execute(kInvoiceSession, lock);
  if (!session) co_return std::move(session).error();
  const std::string session_id = session->empty() ? std::string() : session->string(0, 0);
  if (!session_id.empty()) {
    auto locked = co_await LifecycleStore::lock(*tx, session_id);
    if (!locked) co_return std::move(locked).error();
  }
  auto invoice = co_await tx->execute(kLockInvoice, lock);
  if (!invoice) co_return std::move(invoice).error();
  if (invoice->empty()) {
    auto ended = co_await tx->rollback();
    if (!ended) co_return std::move(ended).error();
    co_return CreditResult{};
  }
  CreditResult result;
  result.found = true;
  result.status = invoice->string(0, 0);
  // A claim with the collection agency can be credited too (the clinic withdraws it; finance
  // tells the agency).
  if (result.status != "issued" && result.status != "partially_paid" && result.status != "paid" &&
      result.status != "sent_to_collection") {
    PgParams audit;
    audit.add(id).add(ts(now)).add(actor).add("credit").add(result.status);
    auto audited = co_await tx->execute(kAuditRefused, audit);
    if (!audited) co_return std::move(audited).error();
    auto committed = co_await tx->commit();
    if (!committed) co_return std::move(committed).error();
    co_return result;
  }
  PgParams series;
  series.add(invoice->string(0, 1));
  auto number = co_await tx->execute(kNextNumber, series);
  if (!number) co_return std::move(number).error();
  result.number = number->int64(0, 0);
  result.credit_note_id = common::new_uuid_v7(now);
  PgParams insert;
  insert.add(result.credit_note_id)
      .add(id)
      .add(result.number)
      .add(issue_date)
      .add(ts(now))
      .add(actor)
      .add(reason);
  auto inserted = co_await tx->execute(kInsertCreditNote, insert);
  if (!inserted) co_return std::move(inserted).error();
  auto refund = co_await refund_double_payment(*tx, id, session_id, result, actor, now);
  if (!refund) co_return std::move(refund).error();
  result.refund = std::move(*refund);
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  result.created = true;
  result.status = "credited";
  co_return result;
}

// A credited invoice that the payer paid (by bank) after, or before, paying the session through
// the link: the payer paid twice, so the link payment is reversed by what the invoice received
// (at most what is left of it). An invoice paid only through the link needs no reversal: its
// credit note withdraws the claim the link payment had already settled.
asio::awaitable<Result<std::optional<PaymentOperationRecord>>> InvoiceStore::refund_double_payment(
    PgTransaction& tx, std::string_view invoice_id, std::string_view session_id,
    const CreditResult& credit, std::string_view actor, domain::Timestamp now) {
  PgParams p;
  p.add(invoice_id);
  auto paid = co_await tx.execute(kPaidTwice, p);
  if (!paid) co_return std::move(paid).error();
  if (paid->empty() || session_id.empty()) co_return std::nullopt;
  RefundInput input;
  input.amount = paid->int64(0, 0);
  input.at_most = true;
  input.reason = "credit note " + std::to_string(credit.number) + ": paid twice";
  input.idempotency_key = "credit-note:" + credit.credit_note_id;
  input.actor = std::string(actor);
  auto requested = co_await RefundStore::request_refund(tx, lifecycle_, session_id, input, now);
  if (!requested) {
    // Nothing left to return through the link (refunded already): the credit note stands.
    if (requested.error().code == common::ErrorCode::invalid_state) co_return std::nullopt;
    co_return std::move(requested).error();
  }
  co_return std::move(requested->operation);
}

asio::awaitable<Result<void>> InvoiceStore::delivered(std::string_view id,
                                                      std::string_view reference,
                                                      domain::Timestamp now) {
  PgParams p;
  p.add(id).add(reference).add(ts(now));
  auto r = co_await pool_.execute(kDelivered, p);
  if (!r) co_return std::move(r).error();
  co_return Ok{};
}

asio::awaitable<Result<void>> InvoiceStore::delivery_problem(std::string_view id,
                                                             std::optional<std::string> problem,
                                                             std::optional<std::string> history,
                                                             domain::Timestamp now) {
  PgParams p;
  p.add(id).add(problem).add(ts(now)).add(history);
  auto r = co_await pool_.execute(kDeliveryProblem, p);
  if (!r) co_return std::move(r).error();
  co_return Ok{};
}

std::vector<Statement> InvoiceStore::creation_statements() {
  return {kLockSession, kInsertInvoice, LifecycleStore::transition_statement()};
}

PgParams InvoiceStore::insert_params(const InvoiceCreated& created, const InvoiceIssuer& issuer,
                                     bool fee_not_disclosed, domain::Timestamp now,
                                     std::string_view session_id, bool order_not_aborted) {
  PgParams p;
  p.add(created.id)
      .add(issuer.org_number)
      .add(domain::to_string(issuer.kid_algorithm))
      .add(created.reason)
      .add(created.fee)
      .add(fee_not_disclosed)
      .add(static_cast<std::int64_t>(issuer.kid_length))
      .add(issuer.due_days)
      .add(issuer.name)
      .add(issuer.foretaksregisteret)
      .add(issuer.vat_registered)
      .add(issuer.bank_account)
      .add(issuer.delivery_place)
      .add(ts(now))
      .add(session_id)
      .add(order_not_aborted)
      .add(issuer.street)
      .add(issuer.postal_code)
      .add(issuer.city)
      .add(issuer.kid_allow_dash);
  return p;
}

const Statement& InvoiceStore::window_context_statement() {
  return kWindowContext;
}

asio::awaitable<Result<ReviewBacklog>> InvoiceStore::review_backlog(domain::Timestamp now) {
  PgParams p;
  p.add(ts(now));
  auto r = co_await pool_.execute(kReviewBacklog, p);
  if (!r) co_return std::move(r).error();
  co_return ReviewBacklog{r->int64(0, 0), r->int64(0, 1)};
}

}  // namespace visitpay::store
