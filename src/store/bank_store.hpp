#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bank/bank_payment.hpp"
#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "store/pg_pool.hpp"
#include "store/pg_transaction.hpp"

namespace visitpay::store {

// How a file's payments came out.
struct ImportCounts {
  std::int64_t matched = 0, partial = 0, overpaid = 0, reversed = 0, unmatched = 0;
  std::int64_t duplicates = 0;  // already imported (from this or another file): skipped
  std::int64_t skipped = 0;     // camt.054 entries not booked
};

struct BankFileRecord {
  std::string id;
  std::string sha256;
  std::string format;
  std::string file_key;
  domain::Timestamp imported_at;
  std::string imported_by;
  std::int64_t payments = 0;
  domain::Ore total = 0;
  ImportCounts counts;
};

// A payment as finance sees it. `payer_account` is personal data: never log it.
struct BankPaymentRecord {
  std::int64_t id = 0;
  std::string file_id;
  std::int64_t line = 0;
  std::optional<std::string> kid;
  domain::Ore amount = 0;
  std::string booking_date;
  std::optional<std::string> value_date, bank_reference, payer_account;
  std::string creditor_account;
  std::string status;
  std::optional<std::string> unmatched_reason, invoice_id;
  std::optional<std::int64_t> invoice_number;
  domain::Ore overpaid = 0;
  std::optional<domain::Ore> open_after;
  std::optional<domain::Timestamp> matched_at;
  std::optional<std::string> matched_by;
  bool manual = false;
};

struct NewBankFile {
  std::string id;
  std::string sha256;
  std::string format;
  std::string actor;
  domain::Timestamp now;
};

// Why a manual match was refused.
enum class ManualRefusal { none, no_payment, not_unmatched, no_invoice, invoice_not_payable };

// Bank files and payments, and their matching to invoices: the only writer of an invoice's paid
// amount and of the statuses partially_paid/paid that bank money causes (audited per payment).
// An import runs in the caller's transaction: start_file, open_staging, stage_payments per batch,
// match_file, finish_file, commit; a parse error in between drops the transaction and nothing is
// written.
class BankStore {
 public:
  explicit BankStore(PgPool& pool) : pool_(pool) {}

  // False when a file with this digest was imported before (nothing to do).
  static asio::awaitable<common::Result<bool>> start_file(PgTransaction& tx, const NewBankFile& f);
  // The file's payments are staged (in the transaction only) as they are parsed, and matched once
  // the whole file has been read.
  static asio::awaitable<common::Result<void>> open_staging(PgTransaction& tx);
  static asio::awaitable<common::Result<void>> stage_payments(
      PgTransaction& tx, const std::vector<bank::BankPayment>& batch);
  // Locks the invoices the staged payments name (in id order), writes each payment not imported
  // before (from another file or earlier in this one) with its outcome, audits every match and
  // books the money on the invoices. No KID, an unknown one or an invoice that cannot take money
  // puts a payment in the manual queue. Returns the outcomes (duplicates and skipped left 0).
  static asio::awaitable<common::Result<ImportCounts>> match_file(PgTransaction& tx,
                                                                  std::string_view file_id,
                                                                  std::string_view actor,
                                                                  domain::Timestamp now);
  static asio::awaitable<common::Result<void>> finish_file(PgTransaction& tx,
                                                           std::string_view file_id,
                                                           const bank::FileSummary& summary,
                                                           const ImportCounts& counts);

  asio::awaitable<common::Result<std::optional<BankFileRecord>>> file(std::string_view id_or_sha);
  asio::awaitable<common::Result<std::vector<BankFileRecord>>> files(int limit);
  // By status ("" = any), newest first, ids below `before` (0 = from the newest).
  asio::awaitable<common::Result<std::vector<BankPaymentRecord>>> payments(std::string_view status,
                                                                           std::int64_t before,
                                                                           int limit);
  asio::awaitable<common::Result<std::optional<BankPaymentRecord>>> payment(std::int64_t id);
  // Finance matches a queued payment to an invoice: the same allocation as an import, audited as
  // a manual decision by `actor`.
  asio::awaitable<common::Result<ManualRefusal>> match_manually(std::int64_t payment_id,
                                                                std::string_view invoice_id,
                                                                std::string_view actor,
                                                                domain::Timestamp now);

 private:
  PgPool& pool_;
};

}  // namespace visitpay::store
