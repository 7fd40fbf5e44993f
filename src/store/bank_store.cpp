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

// A file's payments wait here until the whole file has been read; then they are matched and
// written to bank_payments once, with their outcome. `seq` numbers them in file order (COPY reads
// rows in order; several payments can start on one line).
constexpr Statement kOpenStaging{"bank.open_staging", R"sql(
CREATE TEMP TABLE bank_import_staging (
  seq bigint GENERATED ALWAYS AS IDENTITY, line integer, source_ref text, kid text,
  amount_ore bigint, booking_date date, value_date date, bank_reference text,
  creditor_account text, payer_account text
) ON COMMIT DROP)sql"};
constexpr Statement kStagePayments{"bank.stage_payments", R"sql(
COPY bank_import_staging (line, source_ref, kid, amount_ore, booking_date, value_date,
                          bank_reference, creditor_account, payer_account) FROM STDIN)sql"};

// The invoice a staged payment `s` names: its KID on the account it was paid to (a KID is unique
// per issuing account only).
#define VISITPAY_BANK_KID_MATCH \
  "i.kind = 'invoice' AND i.kid = s.kid AND i.seller_account_digits = s.creditor_account"

// The invoices the staged payments name, locked in one order (no deadlock between imports) before
// anything is read from them: the next statement sees them as they stay until the commit. An
// invoice's KID and account never change, so that statement finds these same invoices (one created
// in between would still be pending review, and takes no money).
constexpr Statement kLockFileInvoices{"bank.lock_file_invoices",
                                      "WITH locked AS (SELECT i.id FROM bank_import_staging s "
                                      "JOIN invoices i ON " VISITPAY_BANK_KID_MATCH
                                      " ORDER BY i.id FOR UPDATE OF i) "
                                      "SELECT count(*) FROM locked"};

// The allocation, shared by an import and a manual match. It follows a CTE `cand`: payments with
// `seq` (their order within a booking date), `invoice_id` (NULL, with `no_invoice_reason`),
// `amount_ore`, `bank_reference`, `booking_date`, and the invoice's owed `total_ore` (the total
// plus the reminder fees charged), `paid_ore` and `invoice_status`. Each invoice's payments are
// applied in booking order. Parameters: $3 issued, $4 partially_paid, $5 paid, $7
// sent_to_collection (an invoice with the collection agency stays there until it is paid in full,
// and is flagged so finance tells the agency).
constexpr char kAllocation[] = R"sql(, run AS (
  SELECT cand.*,
         cand.paid_ore + coalesce(sum(cand.amount_ore) OVER (
           PARTITION BY cand.invoice_id ORDER BY cand.booking_date, cand.seq
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS paid_before
  FROM cand
), res AS (
  SELECT run.*, run.paid_before + run.amount_ore AS paid_after,
         CASE WHEN run.invoice_id IS NULL THEN run.no_invoice_reason
              WHEN run.invoice_status = 'pending_review' THEN 'invoice_not_issued'
              WHEN run.invoice_status NOT IN ($3, $4, $5, $7) THEN 'invoice_closed' END AS reason
  FROM run
), outcome AS (
  SELECT res.*,
         res.invoice_status = $7 AS collected,
         CASE WHEN reason IS NOT NULL THEN 'unmatched'
              WHEN amount_ore < 0 THEN 'reversed'
              WHEN paid_after < total_ore THEN 'partial'
              WHEN paid_after > total_ore THEN 'overpaid' ELSE 'matched' END AS status,
         greatest(greatest(paid_after - total_ore, 0) - greatest(paid_before - total_ore, 0), 0)
           AS surplus,
         greatest(total_ore - paid_after, 0) AS open_after,
         CASE WHEN paid_before >= total_ore THEN $5 WHEN invoice_status = $7 THEN $7
              WHEN paid_before > 0 THEN $4 ELSE $3 END AS from_status,
         CASE WHEN paid_after >= total_ore THEN $5 WHEN invoice_status = $7 THEN $7
              WHEN paid_after > 0 THEN $4 ELSE $3 END AS to_status
  FROM res
))sql";

// Every allocated payment audited on its invoice: $1 actor, $2 now, $6 manual.
constexpr char kAudit[] = R"sql(, audit AS (
  INSERT INTO invoice_events (invoice_id, at, actor, action, from_status, to_status, detail)
  SELECT invoice_id, $2::timestamptz, $1::text,
         CASE WHEN $6::boolean THEN 'bank_match_manual' ELSE 'bank_payment' END,
         from_status, to_status,
         status || ' ' || amount_ore || ' øre, bank reference ' || coalesce(bank_reference, '-') ||
         ', open ' || open_after || ' øre' ||
         CASE WHEN surplus > 0 THEN ', overpaid ' || surplus || ' øre' ELSE '' END ||
         CASE WHEN collected THEN ', after the hand-off to collection: tell the agency' ELSE '' END
  FROM outcome WHERE reason IS NULL
))sql";

// An import's payments, each written once with its outcome: the staged ones not imported before
// (from another file, or earlier in this one; $8 the file). No KID, an unknown one or an invoice
// that cannot take money puts a payment in the manual queue. Answers the outcomes' counts.
constexpr char kRecordFileHead[] = R"sql(
WITH cand AS (
  SELECT DISTINCT ON (s.seq) s.*, i.id AS invoice_id,
         CASE WHEN s.kid IS NULL THEN 'no_kid' WHEN i.id IS NULL THEN 'unknown_kid' END
           AS no_invoice_reason,
         i.total_ore + i.reminder_fees_ore AS total_ore, i.paid_ore, i.status AS invoice_status
  FROM bank_import_staging s LEFT JOIN invoices i ON )sql" VISITPAY_BANK_KID_MATCH R"sql(
  WHERE NOT EXISTS (SELECT 1 FROM bank_payments b WHERE b.source_ref = s.source_ref)
    AND NOT EXISTS (SELECT 1 FROM bank_import_staging e
                    WHERE e.source_ref = s.source_ref AND e.seq < s.seq)
  ORDER BY s.seq, i.id
))sql";
constexpr char kRecordFileTail[] = R"sql(, recorded AS (
  INSERT INTO bank_payments (file_id, source_ref, line, kid, amount_ore, booking_date, value_date,
                             bank_reference, creditor_account, payer_account, status,
                             unmatched_reason, invoice_id, overpaid_ore, open_after_ore,
                             matched_at, matched_by)
  SELECT $8::uuid, source_ref, line, kid, amount_ore, booking_date, value_date, bank_reference,
         creditor_account, payer_account, status, reason, invoice_id,
         CASE WHEN reason IS NULL THEN surplus ELSE 0 END,
         CASE WHEN reason IS NULL THEN open_after END,
         CASE WHEN reason IS NULL THEN $2::timestamptz END,
         CASE WHEN reason IS NULL THEN $1::text END
  FROM outcome ORDER BY seq
  ON CONFLICT (source_ref) DO NOTHING
  RETURNING status
)
SELECT count(*) FILTER (WHERE status = 'matched'), count(*) FILTER (WHERE status = 'partial'),
       count(*) FILTER (WHERE status = 'overpaid'), count(*) FILTER (WHERE status = 'reversed'),
       count(*) FILTER (WHERE status = 'unmatched')
FROM recorded)sql";
constexpr auto kRecordFileSql = join_sql(kRecordFileHead, kAllocation, kAudit, kRecordFileTail);
constexpr Statement kRecordFile{"bank.record_file", kRecordFileSql.view(), Repeat::once};

#undef VISITPAY_BANK_KID_MATCH

// Finance's match of a queued payment ($8) to the invoice it was assigned.
constexpr char kRecordManualHead[] = R"sql(
WITH cand AS (
  SELECT p.id AS seq, p.invoice_id, NULL::text AS no_invoice_reason, p.amount_ore,
         p.bank_reference, p.booking_date, i.total_ore + i.reminder_fees_ore AS total_ore,
         i.paid_ore, i.status AS invoice_status
  FROM bank_payments p JOIN invoices i ON i.id = p.invoice_id
  WHERE p.id = $8::bigint
))sql";
constexpr char kRecordManualTail[] = R"sql(, recorded AS (
  UPDATE bank_payments b
  SET status = o.status, unmatched_reason = o.reason, overpaid_ore = o.surplus,
      open_after_ore = CASE WHEN o.reason IS NULL THEN o.open_after END,
      matched_at = $2::timestamptz, matched_by = $1::text, manual = $6::boolean
  FROM outcome o WHERE b.id = o.seq
  RETURNING b.id
)
SELECT count(*) FROM recorded)sql";
constexpr auto kRecordManualSql =
    join_sql(kRecordManualHead, kAllocation, kAudit, kRecordManualTail);
constexpr Statement kRecordManual{"bank.record_manual", kRecordManualSql.view(), Repeat::once};

// The money of the payments just allocated (a file's, $6, or one payment, $7) booked on their
// invoices: the sum, the latest booking date as the day paid in full and the latest payment's
// reference. It runs after the payments and their audit rows were written, so the foreign-key
// checks of those rows found each invoice row as the lock left it, not a new version to lock again.
// $1 now, $2 issued, $3 partially_paid, $4 paid, $5 sent_to_collection.
constexpr Statement kApplyPayments{"bank.apply_payments", R"sql(
UPDATE invoices i
SET paid_ore = i.paid_ore + inv.paid,
    status = CASE WHEN i.paid_ore + inv.paid >= i.total_ore + i.reminder_fees_ore THEN $4
                  WHEN i.status = $5 THEN $5
                  WHEN i.paid_ore + inv.paid > 0 THEN $3 ELSE $2 END,
    overpaid_ore = greatest(i.paid_ore + inv.paid - i.total_ore - i.reminder_fees_ore, 0),
    paid_on = CASE WHEN i.paid_ore + inv.paid < i.total_ore + i.reminder_fees_ore THEN NULL
                   WHEN i.paid_ore >= i.total_ore + i.reminder_fees_ore THEN i.paid_on
                   ELSE inv.last_date END,
    paid_after_collection = i.paid_after_collection OR i.status = $5,
    payment_reference = coalesce(inv.reference, i.payment_reference),
    updated_at = $1
FROM (SELECT DISTINCT ON (invoice_id) invoice_id, booking_date AS last_date,
             bank_reference AS reference,
             sum(amount_ore) OVER (PARTITION BY invoice_id ORDER BY booking_date DESC, id DESC
                                   ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
               AS paid
      FROM bank_payments
      WHERE (file_id = $6::uuid OR id = $7::bigint) AND invoice_id IS NOT NULL
        AND unmatched_reason IS NULL
      ORDER BY invoice_id, booking_date DESC, id DESC) inv
WHERE i.id = inv.invoice_id)sql",
                                   Repeat::once};

// A large file's sorts (by reference, by invoice, by line) in memory, for this transaction only.
constexpr Statement kImportWorkMem{"bank.import_work_mem",
                                   "SELECT set_config('work_mem', '64MB', true)"};

constexpr Statement kFinishFile{"bank.finish_file", R"sql(
UPDATE bank_files
SET file_key = $2, payments = $3, total_ore = $4, matched = $5, partial = $6, overpaid = $7,
    reversed = $8, unmatched = $9, duplicates = $10, skipped = $11
WHERE id = $1)sql",
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

// $1..$7 of an allocation (kRecordFile, kRecordManual); the caller adds $8.
PgParams allocation_params(std::string_view actor, domain::Timestamp now, bool manual) {
  PgParams p;
  p.add(actor)
      .add(common::format_rfc3339_utc(now))
      .add(status(InvoiceStatus::issued))
      .add(status(InvoiceStatus::partially_paid))
      .add(status(InvoiceStatus::paid))
      .add(manual)
      .add(status(InvoiceStatus::sent_to_collection));
  return p;
}

// kApplyPayments for a file's payments or for one payment.
asio::awaitable<Result<void>> apply_payments(PgTransaction& tx, domain::Timestamp now,
                                             const std::optional<std::string>& file_id,
                                             const std::optional<std::string>& payment_id) {
  PgParams p;
  p.add(common::format_rfc3339_utc(now))
      .add(status(InvoiceStatus::issued))
      .add(status(InvoiceStatus::partially_paid))
      .add(status(InvoiceStatus::paid))
      .add(status(InvoiceStatus::sent_to_collection))
      .add(file_id)
      .add(payment_id);
  auto r = co_await tx.execute(kApplyPayments, p);
  if (!r) co_return std::move(r).error();
  co_return Ok{};
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

asio::awaitable<Result<void>> BankStore::open_staging(PgTransaction& tx) {
  auto r = co_await tx.execute(kOpenStaging, PgParams{});
  if (!r) co_return std::move(r).error();
  co_return Ok{};
}

asio::awaitable<Result<void>> BankStore::stage_payments(
    PgTransaction& tx, const std::vector<bank::BankPayment>& batch) {
  if (batch.empty()) co_return Ok{};
  PgCopyRows rows;
  for (const auto& b : batch) {
    rows.add(static_cast<std::int64_t>(b.line))
        .add(b.source_ref)
        .add_or_null(b.kid)
        .add(b.amount)
        .add(b.booking_date)
        .add_or_null(b.value_date)
        .add_or_null(b.bank_reference)
        .add(b.creditor_account)
        .add_or_null(b.payer_account)
        .end_row();
  }
  auto r = co_await tx.copy_in(kStagePayments, rows.data());
  if (!r) co_return std::move(r).error();
  co_return Ok{};
}

asio::awaitable<Result<ImportCounts>> BankStore::match_file(PgTransaction& tx,
                                                            std::string_view file_id,
                                                            std::string_view actor,
                                                            domain::Timestamp now) {
  auto memory = co_await tx.execute(kImportWorkMem, PgParams{});
  if (!memory) co_return std::move(memory).error();
  auto locked = co_await tx.execute(kLockFileInvoices, PgParams{});
  if (!locked) co_return std::move(locked).error();
  auto p = allocation_params(actor, now, false);
  p.add(file_id);
  auto r = co_await tx.execute(kRecordFile, p);
  if (!r) co_return std::move(r).error();
  auto applied = co_await apply_payments(tx, now, std::string(file_id), std::nullopt);
  if (!applied) co_return std::move(applied).error();
  ImportCounts c;
  c.matched = r->int64(0, 0);
  c.partial = r->int64(0, 1);
  c.overpaid = r->int64(0, 2);
  c.reversed = r->int64(0, 3);
  c.unmatched = r->int64(0, 4);
  co_return c;
}

asio::awaitable<Result<void>> BankStore::finish_file(PgTransaction& tx, std::string_view file_id,
                                                     const bank::FileSummary& summary,
                                                     const ImportCounts& counts) {
  PgParams p;
  p.add(file_id)
      .add(summary.file_key)
      .add(summary.payments)
      .add(summary.total)
      .add(counts.matched)
      .add(counts.partial)
      .add(counts.overpaid)
      .add(counts.reversed)
      .add(counts.unmatched)
      .add(counts.duplicates)
      .add(counts.skipped);
  auto r = co_await tx.execute(kFinishFile, p);
  if (!r) co_return std::move(r).error();
  co_return Ok{};
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
  p.add(payment_id);
  auto matched = co_await tx->execute(kRecordManual, p);
  if (!matched) co_return std::move(matched).error();
  auto applied = co_await apply_payments(*tx, now, std::nullopt, std::to_string(payment_id));
  if (!applied) co_return std::move(applied).error();
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  co_return ManualRefusal::none;
}

}  // namespace visitpay::store
