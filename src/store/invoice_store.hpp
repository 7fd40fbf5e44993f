#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "domain/invoice.hpp"
#include "domain/kid.hpp"
#include "domain/sealed_payer.hpp"
#include "store/lifecycle_store.hpp"
#include "store/pg_pool.hpp"
#include "store/refund_store.hpp"

namespace visitpay::store {

// What closing a session's payment window needs to know.
struct WindowContext {
  domain::SessionState state = domain::SessionState::pending;
  std::string clinic_id;
  domain::Timestamp state_since;
  std::optional<domain::Timestamp> deadline;
  std::optional<domain::OrderStatus> order_status;  // as last recorded; none: no order
};

// The issuer's facts copied onto an invoice (from the clinic's configuration).
struct InvoiceIssuer {
  std::string org_number;
  std::string name;
  bool foretaksregisteret = false;
  bool vat_registered = false;
  std::string bank_account;               // 11 digits
  std::string street, postal_code, city;  // the business address
  std::string delivery_place;
  domain::Ore configured_fee = 0;
  int due_days = 14;
  domain::KidAlgorithm kid_algorithm = domain::KidAlgorithm::mod10;
  std::size_t kid_length = 10;
  bool kid_allow_dash = false;
};

struct InvoiceCreated {
  std::string id;
  std::int64_t number = 0;
  std::string reason;
  domain::Ore fee = 0;
};

// Why an invoice could not be created now.
enum class InvoiceRefusal {
  none,
  not_invoiceable,  // the session is paid, cancelled or already invoiced: nothing to do
  order_open,       // the recorded order is still payable (or paid): settle it first
};

struct InvoiceLineRecord {
  int line_no = 0;
  // A visit line's description is stored only sealed (`description_enc`, the session line's
  // ciphertext under the retained key; nullopt once purged): app::reveal_retained opens it into
  // `description`, which stays absent after the purge. The fee line's text is plaintext.
  std::optional<std::string> description;
  domain::Ore amount = 0;
  bool is_fee = false;
  domain::Ore vat = 0;  // the VAT part of amount (0: exempt)
  std::optional<common::Bytes> description_enc;
};

struct InvoiceEventRecord {
  domain::Timestamp at;
  std::string actor;
  std::string action;
  std::optional<std::string> from_status;
  std::optional<std::string> to_status;
  std::optional<std::string> detail;
};

// A reminder step taken on an invoice (invoice_reminders): a letter, or the hand-off.
struct ReminderRecord {
  std::int64_t id = 0;
  std::string kind;  // purring | inkassovarsel | collection (domain::DunningKind)
  int sequence = 0;
  domain::Timestamp sent_at;
  std::string sent_on;                  // Oslo date
  std::optional<std::string> deadline;  // Oslo date; none for collection
  domain::Ore fee = 0;
  domain::Ore open = 0;  // what the letter asks for, fee included
  std::string document_name;
  std::optional<std::string> delivery_reference;
  std::optional<domain::Timestamp> delivered_at;
};

// An invoice or credit note as stored. Dates are ISO calendar dates (Oslo). `buyer_*` hold
// personal data: never log them.
struct InvoiceRecord {
  std::string id;
  std::string kind;  // invoice | credit_note
  std::string org_number;
  std::int64_t number = 0;
  std::string session_id;
  std::optional<std::string> credits_invoice_id;
  std::optional<std::int64_t> credits_number;
  std::optional<std::string> credit_note_id;  // an invoice that was credited: its credit note
  std::string status;
  std::string clinic_id;
  std::string reason;
  domain::Ore fee = 0;
  bool fee_not_disclosed = false;
  domain::Ore total = 0;
  std::optional<std::string> kid;
  int due_days = 0;
  std::string seller_name;
  bool seller_foretaksregisteret = false;
  bool seller_vat_registered = false;
  std::string seller_bank_account;
  std::string seller_street, seller_postal_code, seller_city;  // '' on invoices before 0016
  std::string delivery_place;
  std::string delivered_on;
  std::optional<std::string> buyer_name, buyer_street, buyer_postal_code, buyer_city, buyer_country;
  std::optional<std::string> issue_date, due_date;
  bool paid_by_link = false;
  bool credit_note_needed = false;
  bool order_not_aborted = false;             // invoiced although the order could still be paid
  std::optional<domain::Timestamp> visit_at;  // the session's check-out (the visit)
  domain::Ore paid = 0;                       // received by bank (or marked paid: the total)
  domain::Ore overpaid = 0;                   // received beyond the total: for a refund
  std::optional<std::string> void_reason;
  std::optional<std::string> paid_on;
  std::optional<std::string> payment_reference;
  std::optional<std::string> delivery_reference;
  std::optional<domain::Timestamp> delivered_at;
  domain::Timestamp created_at;
  domain::Timestamp updated_at;
  // The buyer's name and address as stored: the session's retained ciphertexts and key (nullopt
  // once purged). app::reveal_retained fills buyer_* from them.
  std::optional<common::Bytes> buyer_name_enc, buyer_address_enc;
  std::optional<common::Bytes> buyer_email_enc;  // the payer's, under the same key, if given
  std::optional<domain::WrappedKey> retained_key;
  std::optional<std::string> buyer_email;  // filled from buyer_email_enc like buyer_*
  // The last delivery that failed and has not succeeded since: channel and reply code.
  std::optional<std::string> delivery_problem;
  std::optional<domain::Timestamp> delivery_problem_at;
  domain::Ore reminder_fees = 0;            // purring / inkassovarsel fees charged: owed as well
  bool paid_after_collection = false;       // money came after the hand-off: tell the agency
  std::vector<InvoiceLineRecord> lines;     // filled by get()
  std::vector<ReminderRecord> reminders;    // filled by get()
  std::vector<InvoiceEventRecord> history;  // filled by get()
};

// Invoices waiting for finance, and how long the oldest of them has waited.
struct ReviewBacklog {
  std::int64_t pending = 0;
  std::int64_t oldest_seconds = 0;
};

struct InvoiceFilter {
  std::string status;                         // "" = any
  std::string clinic_id;                      // "" = any
  std::optional<domain::Timestamp> from, to;  // created_at in [from, to)
  std::vector<std::string> clinics;           // the caller's clinics; empty = all
  std::string flag;                           // "" = any; else invoices with this flag set
};

struct InvoiceCursor {
  domain::Timestamp created_at;
  std::string id;
};

struct InvoicePage {
  std::vector<InvoiceRecord> items;
  std::optional<InvoiceCursor> next;
  std::int64_t total_count = 0;  // over the whole filter, not the page
  domain::Ore total_amount = 0;
};

// A finance action on an invoice.
struct InvoiceTransition {
  std::string action;                     // approve | void | mark_paid (the audit log's name)
  std::vector<std::string> allowed_from;  // statuses it may start from
  std::string to;
  std::string actor;  // the API client's name
  std::string date;   // approve: the issue date; mark_paid: paid on (ISO date)
  std::string text;   // void: the reason; mark_paid: the payment reference
};

struct TransitionResult {
  bool found = false;
  bool changed = false;
  std::string status;  // before (refused) or after (changed)
};

struct CreditResult {
  bool found = false;
  bool created = false;
  std::string status;  // the invoice's status when refused
  std::string credit_note_id;
  std::int64_t number = 0;
  // The reversal of the link payment, when the payer paid the credited invoice as well
  std::optional<PaymentOperationRecord> refund;
};

// One row of invoice_reminders' columns as kReminders selects them (shared with ReminderStore).
ReminderRecord read_reminder(const PgResult& r, int row);

// The printable document of a stored invoice or credit note. A pending invoice prints as a draft
// dated `today` (Oslo).
domain::InvoiceDocument to_document(const InvoiceRecord& invoice, std::string_view today);

// Invoices: the sweeper's claim, the invoice's creation (a gapless number, in a transaction),
// finance's review queue and transitions (each guarded and audited), delivery bookkeeping.
class InvoiceStore {
 public:
  explicit InvoiceStore(PgPool& pool) : pool_(pool), lifecycle_(pool) {}

  // Closes the window of up to `limit` sessions past their deadline (window_closed queues their
  // invoice work). Several instances split the work (SKIP LOCKED).
  asio::awaitable<common::Result<std::int64_t>> sweep(domain::Timestamp now, int limit);

  asio::awaitable<common::Result<std::optional<WindowContext>>> window_context(
      std::string_view session_id);

  // In one transaction: locks the session, then in one round trip with the COMMIT takes the
  // issuer's next number with its KID, copies the visit's lines (plus the fee, if it was disclosed
  // in an accepted SMS) and the buyer's name and address, and applies invoice_created.
  // `order_not_aborted`: the order's abort budget ran out; the invoice is created all the same
  // and flagged for finance.
  asio::awaitable<common::Result<std::variant<InvoiceCreated, InvoiceRefusal>>> create_invoice(
      std::string_view session_id, const InvoiceIssuer& issuer, domain::Timestamp now,
      bool order_not_aborted = false);

  // `with_totals`: also count and sum the whole filter (one more query; the export skips it).
  asio::awaitable<common::Result<InvoicePage>> list(const InvoiceFilter& filter,
                                                    const std::optional<InvoiceCursor>& after,
                                                    int limit, bool with_totals = true);
  asio::awaitable<common::Result<std::optional<InvoiceRecord>>> get(std::string_view id);
  // The invoice (kind invoice) or credit note (kind credit_note) of a session, with its lines.
  asio::awaitable<common::Result<std::optional<InvoiceRecord>>> of_session(
      std::string_view session_id, std::string_view kind);

  asio::awaitable<common::Result<TransitionResult>> transition(std::string_view id,
                                                               const InvoiceTransition& t,
                                                               domain::Timestamp now);
  // Issues a credit note for an issued (or paid) invoice (its own number from the same series) and
  // marks the invoice credited, in one transaction; queues the credit note's delivery.
  asio::awaitable<common::Result<CreditResult>> credit(std::string_view id, std::string_view actor,
                                                       std::string_view reason,
                                                       std::string_view issue_date,
                                                       domain::Timestamp now);

  asio::awaitable<common::Result<void>> delivered(std::string_view id, std::string_view reference,
                                                  domain::Timestamp now);
  // Sets (or with nullopt clears) the problem finance sees on the invoice; `history`, when set, is
  // written to the invoice's history as a delivery_failed event (once per distinct problem).
  // No personal data in either: the channel and the reply code.
  asio::awaitable<common::Result<void>> delivery_problem(std::string_view id,
                                                         std::optional<std::string> problem,
                                                         std::optional<std::string> history,
                                                         domain::Timestamp now);

  asio::awaitable<common::Result<ReviewBacklog>> review_backlog(domain::Timestamp now);

  // The statements create_invoice runs in its transaction, in order (lock the session, insert the
  // invoice with its number, the transition), for the benchmark's pgbench script.
  static std::vector<Statement> creation_statements();
  // The insert's parameters, and the window context the invoice work reads first (the same twin).
  static PgParams insert_params(const InvoiceCreated& created, const InvoiceIssuer& issuer,
                                bool fee_not_disclosed, domain::Timestamp now,
                                std::string_view session_id, bool order_not_aborted);
  static const Statement& window_context_statement();

 private:
  asio::awaitable<common::Result<std::optional<PaymentOperationRecord>>> refund_double_payment(
      PgTransaction& tx, std::string_view invoice_id, std::string_view session_id,
      const CreditResult& credit, std::string_view actor, domain::Timestamp now);

  PgPool& pool_;
  LifecycleStore lifecycle_;
};

}  // namespace visitpay::store
