#include "store/bank_store.hpp"

#include "common/time_format.hpp"
#include "domain/invoice_status.hpp"

namespace visitpay::store {

using common::Ok;
using common::Result;
using domain::InvoiceStatus;

namespace {

constexpr Statement kStartFile{"bank.start_file", R"sql(
INSERT INTO bank_files (id, sha256, format, file_key, imported_at, imported_by, payments,
                        total_ore)
VALUES ($1, $2, $3, '', $4, $5, 0, 0)
ON CONFLICT (sha256) DO NOTHING
RETURNING id)sql",
                               Repeat::once};

// $1 file; $2.. the batch as arrays; $11..$14 the invoice statuses issued, partially_paid, paid,
// sent_to_collection (the debtor may still pay the clinic after the hand-off).
// Payments with a KID of a payable invoice wait (reason NULL) for match_file's allocation.
constexpr Statement kAddPayments{"bank.add_payments", R"sql(
INSERT INTO bank_payments (file_id, source_ref, line, kid, amount_ore, booking_date, value_date,
                           bank_reference, creditor_account, payer_account, status,
                           unmatched_reason, invoice_id)
SELECT $1::uuid, u.source_ref, u.line, nullif(u.kid, ''), u.amount, u.booking_date::date,
       nullif(u.value_date, '')::date, nullif(u.bank_reference, ''), u.creditor_account,
       nullif(u.payer_account, ''), 'unmatched',
       CASE WHEN nullif(u.kid, '') IS NULL THEN 'no_kid'
            WHEN i.id IS NULL THEN 'unknown_kid'
            WHEN i.status = 'pending_review' THEN 'invoice_not_issued'
            WHEN i.status NOT IN ($11, $12, $13, $14) THEN 'invoice_closed' END,
       i.id
FROM unnest($2::text[], $3::integer[], $4::text[], $5::bigint[], $6::text[], $7::text[],
            $8::text[], $9::text[], $10::text[])
     AS u (source_ref, line, kid, amount, booking_date, value_date, bank_reference,
           creditor_account, payer_account)
LEFT JOIN invoices i ON i.kind = 'invoice' AND i.kid = nullif(u.kid, '')
                    AND regexp_replace(i.seller_bank_account, '[^0-9]', '', 'g') = u.creditor_account
ON CONFLICT (source_ref) DO NOTHING)sql",
                                 Repeat::once};

// The invoices a file's payments will change, locked in one order (no deadlock between imports).
constexpr Statement kLockFileInvoices{"bank.lock_file_invoices", R"sql(
SELECT id FROM invoices WHERE id IN (
  SELECT invoice_id FROM bank_payments
  WHERE file_id = $1 AND status = 'unmatched' AND unmatched_reason IS NULL)
ORDER BY id FOR UPDATE)sql"};

// The allocation, shared by an import ($7 the file) and a manual match ($8 the payment): `cand`
// are payments waiting for their invoice (status unmatched, reason NULL, invoice_id set), each
// invoice's payments applied in booking order. $1 actor, $2 now, $3 issued, $4 partially_paid,
// $5 paid, $6 manual, $9 sent_to_collection. What is owed is the total plus the reminder fees
// charged; an invoice with the collection agency stays there until it is paid in full, and is
// flagged so finance tells the agency.
constexpr Statement kAllocate{"bank.allocate", R"sql(
WITH cand AS (
  SELECT p.id, p.invoice_id, p.amount_ore, p.bank_reference, p.booking_date,
         i.total_ore + i.reminder_fees_ore AS total_ore, i.paid_ore, i.status AS invoice_status
  FROM bank_payments p JOIN invoices i ON i.id = p.invoice_id
  WHERE p.status = 'unmatched' AND p.unmatched_reason IS NULL
    AND (p.file_id = $7::uuid OR p.id = $8::bigint)
), run AS (
  SELECT cand.*,
         cand.paid_ore + coalesce(sum(cand.amount_ore) OVER (
           PARTITION BY cand.invoice_id ORDER BY cand.booking_date, cand.id
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS paid_before
  FROM cand
), res AS (
  SELECT run.id, run.invoice_id, run.amount_ore, run.bank_reference, run.booking_date,
         run.paid_before, run.paid_before + run.amount_ore AS paid_after, run.total_ore,
         CASE WHEN run.invoice_status = 'pending_review' THEN 'invoice_not_issued'
              WHEN run.invoice_status NOT IN ($3, $4, $5, $9) THEN 'invoice_closed' END AS reason,
         run.invoice_status
  FROM run
), outcome AS (
  SELECT res.*,
         res.invoice_status = $9 AS collected,
         CASE WHEN reason IS NOT NULL THEN 'unmatched'
              WHEN amount_ore < 0 THEN 'reversed'
              WHEN paid_after < total_ore THEN 'partial'
              WHEN paid_after > total_ore THEN 'overpaid' ELSE 'matched' END AS status,
         greatest(greatest(paid_after - total_ore, 0) - greatest(paid_before - total_ore, 0), 0)
           AS surplus,
         greatest(total_ore - paid_after, 0) AS open_after,
         CASE WHEN paid_before >= total_ore THEN $5 WHEN invoice_status = $9 THEN $9
              WHEN paid_before > 0 THEN $4 ELSE $3 END AS from_status,
         CASE WHEN paid_after >= total_ore THEN $5 WHEN invoice_status = $9 THEN $9
              WHEN paid_after > 0 THEN $4 ELSE $3 END AS to_status
  FROM res
), upd_pay AS (
  UPDATE bank_payments b
  SET status = o.status, unmatched_reason = o.reason, overpaid_ore = o.surplus,
      open_after_ore = CASE WHEN o.reason IS NULL THEN o.open_after END,
      matched_at = $2, matched_by = $1, manual = $6
  FROM outcome o WHERE b.id = o.id
), inv AS (
  SELECT invoice_id, sum(amount_ore) AS paid, max(booking_date) AS last_date,
         (array_agg(bank_reference ORDER BY booking_date DESC, id DESC))[1] AS reference
  FROM outcome WHERE reason IS NULL GROUP BY invoice_id
), upd_inv AS (
  UPDATE invoices i
  SET paid_ore = i.paid_ore + inv.paid,
      status = CASE WHEN i.paid_ore + inv.paid >= i.total_ore + i.reminder_fees_ore THEN $5
                    WHEN i.status = $9 THEN $9
                    WHEN i.paid_ore + inv.paid > 0 THEN $4 ELSE $3 END,
      overpaid_ore = greatest(i.paid_ore + inv.paid - i.total_ore - i.reminder_fees_ore, 0),
      paid_on = CASE WHEN i.paid_ore + inv.paid < i.total_ore + i.reminder_fees_ore THEN NULL
                     WHEN i.paid_ore >= i.total_ore + i.reminder_fees_ore THEN i.paid_on
                     ELSE inv.last_date END,
      paid_after_collection = i.paid_after_collection OR i.status = $9,
      payment_reference = coalesce(inv.reference, i.payment_reference),
      updated_at = $2
  FROM inv WHERE i.id = inv.invoice_id
)
INSERT INTO invoice_events (invoice_id, at, actor, action, from_status, to_status, detail)
SELECT invoice_id, $2, $1, CASE WHEN $6 THEN 'bank_match_manual' ELSE 'bank_payment' END,
       from_status, to_status,
       status || ' ' || amount_ore || ' øre, bank reference ' || coalesce(bank_reference, '-') ||
       ', open ' || open_after || ' øre' ||
       CASE WHEN surplus > 0 THEN ', overpaid ' || surplus || ' øre' ELSE '' END ||
       CASE WHEN collected THEN ', after the hand-off to collection: tell the agency' ELSE '' END
FROM outcome WHERE reason IS NULL)sql",
                              Repeat::once};

constexpr Statement kFinishFile{"bank.finish_file", R"sql(
UPDATE bank_files f
SET file_key = $2, payments = $3, total_ore = $4, duplicates = $5, skipped = $6,
    matched = c.matched, partial = c.partial, overpaid = c.overpaid, reversed = c.reversed,
    unmatched = c.unmatched
FROM (SELECT count(*) FILTER (WHERE status = 'matched') AS matched,
             count(*) FILTER (WHERE status = 'partial') AS partial,
             count(*) FILTER (WHERE status = 'overpaid') AS overpaid,
             count(*) FILTER (WHERE status = 'reversed') AS reversed,
             count(*) FILTER (WHERE status = 'unmatched') AS unmatched
      FROM bank_payments WHERE file_id = $1) c
WHERE f.id = $1
RETURNING f.matched, f.partial, f.overpaid, f.reversed, f.unmatched, f.duplicates, f.skipped)sql",
                                Repeat::once};

#define VISITPAY_BANK_FILE_COLUMNS                                                                \
  "SELECT id, sha256, format, file_key, imported_at, imported_by, payments, total_ore, matched, " \
  "partial, overpaid, reversed, unmatched, duplicates, skipped FROM bank_files "

constexpr Statement kFile{"bank.file",
                          VISITPAY_BANK_FILE_COLUMNS "WHERE sha256 = $1 OR id::text = $1"};
constexpr Statement kFiles{"bank.files",
                           VISITPAY_BANK_FILE_COLUMNS "ORDER BY imported_at DESC, id LIMIT $1"};

#undef VISITPAY_BANK_FILE_COLUMNS

#define VISITPAY_BANK_PAYMENT_COLUMNS                                                      \
  "SELECT p.id, p.file_id, p.line, p.kid, p.amount_ore, p.booking_date, p.value_date, "    \
  "p.bank_reference, p.payer_account, p.creditor_account, p.status, p.unmatched_reason, "  \
  "p.invoice_id, i.number, p.overpaid_ore, p.open_after_ore, p.matched_at, p.matched_by, " \
  "p.manual "                                                                              \
  "FROM bank_payments p LEFT JOIN invoices i ON i.id = p.invoice_id "

constexpr Statement kPayments{"bank.payments", VISITPAY_BANK_PAYMENT_COLUMNS
                              "WHERE ($1::text IS NULL OR p.status = $1) "
                              "AND ($2::bigint = 0 OR p.id < $2) ORDER BY p.id DESC LIMIT $3"};
constexpr Statement kPayment{"bank.payment", VISITPAY_BANK_PAYMENT_COLUMNS "WHERE p.id = $1"};

#undef VISITPAY_BANK_PAYMENT_COLUMNS

constexpr Statement kLockPayment{"bank.lock_payment", R"sql(
SELECT status FROM bank_payments WHERE id = $1 FOR UPDATE)sql"};
constexpr Statement kLockInvoice{"bank.lock_invoice", R"sql(
SELECT status FROM invoices WHERE id = $1 AND kind = 'invoice' FOR UPDATE)sql"};
constexpr Statement kAssign{"bank.assign", R"sql(
UPDATE bank_payments SET invoice_id = $2, unmatched_reason = NULL WHERE id = $1)sql",
                            Repeat::once};

std::string status(InvoiceStatus s) {
  return std::string(domain::to_string(s));
}

PgParams allocation_params(std::string_view actor, domain::Timestamp now, bool manual) {
  PgParams p;
  p.add(actor)
      .add(common::format_rfc3339_utc(now))
      .add(status(InvoiceStatus::issued))
      .add(status(InvoiceStatus::partially_paid))
      .add(status(InvoiceStatus::paid))
      .add(manual);
  return p;
}

std::optional<std::string> non_empty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

BankFileRecord read_file(const PgResult& r, int row) {
  BankFileRecord f;
  f.id = r.string(row, 0);
  f.sha256 = r.string(row, 1);
  f.format = r.string(row, 2);
  f.file_key = r.string(row, 3);
  f.imported_at = common::parse_pg_timestamptz(r.text(row, 4)).value_or(domain::Timestamp{});
  f.imported_by = r.string(row, 5);
  f.payments = r.int64(row, 6);
  f.total = r.int64(row, 7);
  f.counts = {r.int64(row, 8),  r.int64(row, 9),  r.int64(row, 10), r.int64(row, 11),
              r.int64(row, 12), r.int64(row, 13), r.int64(row, 14)};
  return f;
}

BankPaymentRecord read_payment(const PgResult& r, int row) {
  BankPaymentRecord p;
  int c = 0;
  p.id = r.int64(row, c++);
  p.file_id = r.string(row, c++);
  p.line = r.int64(row, c++);
  p.kid = r.optional_string(row, c++);
  p.amount = r.int64(row, c++);
  p.booking_date = r.string(row, c++);
  p.value_date = r.optional_string(row, c++);
  p.bank_reference = r.optional_string(row, c++);
  p.payer_account = r.optional_string(row, c++);
  p.creditor_account = r.string(row, c++);
  p.status = r.string(row, c++);
  p.unmatched_reason = r.optional_string(row, c++);
  p.invoice_id = r.optional_string(row, c++);
  if (!r.is_null(row, c)) p.invoice_number = r.int64(row, c);
  ++c;
  p.overpaid = r.int64(row, c++);
  if (!r.is_null(row, c)) p.open_after = r.int64(row, c);
  ++c;
  if (!r.is_null(row, c)) p.matched_at = common::parse_pg_timestamptz(r.text(row, c));
  ++c;
  p.matched_by = r.optional_string(row, c++);
  p.manual = r.boolean(row, c++);
  return p;
}

}  // namespace

asio::awaitable<Result<bool>> BankStore::start_file(PgTransaction& tx, const NewBankFile& f) {
  PgParams p;
  p.add(f.id).add(f.sha256).add(f.format).add(common::format_rfc3339_utc(f.now)).add(f.actor);
  auto r = co_await tx.execute(kStartFile, p);
  if (!r) co_return std::move(r).error();
  co_return !r->empty();
}

asio::awaitable<Result<std::int64_t>> BankStore::add_payments(
    PgTransaction& tx, std::string_view file_id, const std::vector<bank::BankPayment>& batch) {
  if (batch.empty()) co_return std::int64_t{0};
  std::vector<std::optional<std::string>> refs, kids, dates, values, references, creditors, payers;
  std::vector<std::int64_t> lines, amounts;
  for (const auto& b : batch) {
    refs.emplace_back(b.source_ref);
    lines.push_back(static_cast<std::int64_t>(b.line));
    kids.emplace_back(b.kid);
    amounts.push_back(b.amount);
    dates.emplace_back(b.booking_date);
    values.emplace_back(b.value_date);
    references.emplace_back(b.bank_reference);
    creditors.emplace_back(b.creditor_account);
    payers.emplace_back(b.payer_account);
  }
  PgParams p;
  p.add(file_id)
      .add(pg_text_array(refs))
      .add(pg_int_array(lines))
      .add(pg_text_array(kids))
      .add(pg_int_array(amounts))
      .add(pg_text_array(dates))
      .add(pg_text_array(values))
      .add(pg_text_array(references))
      .add(pg_text_array(creditors))
      .add(pg_text_array(payers))
      .add(status(InvoiceStatus::issued))
      .add(status(InvoiceStatus::partially_paid))
      .add(status(InvoiceStatus::paid))
      .add(status(InvoiceStatus::sent_to_collection));
  auto r = co_await tx.execute(kAddPayments, p);
  if (!r) co_return std::move(r).error();
  co_return r->affected_rows();
}

asio::awaitable<Result<void>> BankStore::match_file(PgTransaction& tx, std::string_view file_id,
                                                    std::string_view actor, domain::Timestamp now) {
  PgParams lock;
  lock.add(file_id);
  auto locked = co_await tx.execute(kLockFileInvoices, lock);
  if (!locked) co_return std::move(locked).error();
  auto p = allocation_params(actor, now, false);
  p.add(file_id).add_null().add(status(InvoiceStatus::sent_to_collection));
  auto r = co_await tx.execute(kAllocate, p);
  if (!r) co_return std::move(r).error();
  co_return Ok{};
}

asio::awaitable<Result<ImportCounts>> BankStore::finish_file(PgTransaction& tx,
                                                             std::string_view file_id,
                                                             const bank::FileSummary& summary,
                                                             std::int64_t duplicates) {
  PgParams p;
  p.add(file_id)
      .add(summary.file_key)
      .add(summary.payments)
      .add(summary.total)
      .add(duplicates)
      .add(summary.skipped);
  auto r = co_await tx.execute(kFinishFile, p);
  if (!r) co_return std::move(r).error();
  co_return ImportCounts{r->int64(0, 0), r->int64(0, 1), r->int64(0, 2), r->int64(0, 3),
                         r->int64(0, 4), r->int64(0, 5), r->int64(0, 6)};
}

asio::awaitable<Result<std::optional<BankFileRecord>>> BankStore::file(std::string_view id_or_sha) {
  PgParams p;
  p.add(id_or_sha);
  auto r = co_await pool_.execute(kFile, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<BankFileRecord>{};
  co_return read_file(*r, 0);
}

asio::awaitable<Result<std::vector<BankFileRecord>>> BankStore::files(int limit) {
  PgParams p;
  p.add(limit);
  auto r = co_await pool_.execute(kFiles, p);
  if (!r) co_return std::move(r).error();
  std::vector<BankFileRecord> out;
  out.reserve(static_cast<std::size_t>(r->rows()));
  for (int row = 0; row < r->rows(); ++row)
    out.push_back(read_file(*r, row));
  co_return out;
}

asio::awaitable<Result<std::vector<BankPaymentRecord>>> BankStore::payments(
    std::string_view status_filter, std::int64_t before, int limit) {
  PgParams p;
  p.add(non_empty(std::string(status_filter))).add(before).add(limit);
  auto r = co_await pool_.execute(kPayments, p);
  if (!r) co_return std::move(r).error();
  std::vector<BankPaymentRecord> out;
  out.reserve(static_cast<std::size_t>(r->rows()));
  for (int row = 0; row < r->rows(); ++row)
    out.push_back(read_payment(*r, row));
  co_return out;
}

asio::awaitable<Result<std::optional<BankPaymentRecord>>> BankStore::payment(std::int64_t id) {
  PgParams p;
  p.add(id);
  auto r = co_await pool_.execute(kPayment, p);
  if (!r) co_return std::move(r).error();
  if (r->empty()) co_return std::optional<BankPaymentRecord>{};
  co_return read_payment(*r, 0);
}

asio::awaitable<Result<ManualRefusal>> BankStore::match_manually(std::int64_t payment_id,
                                                                 std::string_view invoice_id,
                                                                 std::string_view actor,
                                                                 domain::Timestamp now) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  const auto refuse = [&tx](ManualRefusal why) -> asio::awaitable<Result<ManualRefusal>> {
    auto ended = co_await tx->rollback();
    if (!ended) co_return std::move(ended).error();
    co_return why;
  };
  // The payment first, then the invoice: the order an import takes them in too.
  PgParams pay;
  pay.add(payment_id);
  auto payment = co_await tx->execute(kLockPayment, pay);
  if (!payment) co_return std::move(payment).error();
  if (payment->empty()) co_return co_await refuse(ManualRefusal::no_payment);
  if (payment->text(0, 0) != "unmatched") co_return co_await refuse(ManualRefusal::not_unmatched);
  PgParams inv;
  inv.add(invoice_id);
  auto invoice = co_await tx->execute(kLockInvoice, inv);
  if (!invoice) co_return std::move(invoice).error();
  if (invoice->empty()) co_return co_await refuse(ManualRefusal::no_invoice);
  const auto s = invoice->text(0, 0);
  if (s != domain::to_string(InvoiceStatus::issued) &&
      s != domain::to_string(InvoiceStatus::partially_paid) &&
      s != domain::to_string(InvoiceStatus::paid) &&
      s != domain::to_string(InvoiceStatus::sent_to_collection)) {
    co_return co_await refuse(ManualRefusal::invoice_not_payable);
  }
  PgParams assign;
  assign.add(payment_id).add(invoice_id);
  auto assigned = co_await tx->execute(kAssign, assign);
  if (!assigned) co_return std::move(assigned).error();
  auto p = allocation_params(actor, now, true);
  p.add_null().add(payment_id).add(status(InvoiceStatus::sent_to_collection));
  auto matched = co_await tx->execute(kAllocate, p);
  if (!matched) co_return std::move(matched).error();
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  co_return ManualRefusal::none;
}

}  // namespace visitpay::store
