#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "domain/order_status.hpp"
#include "domain/sealed_payer.hpp"
#include "store/lifecycle_store.hpp"
#include "store/pg_pool.hpp"

namespace visitpay::store {

// What creating the payment order needs to know about a session.
struct OrderContext {
  domain::SessionState state = domain::SessionState::pending;
  std::string clinic_id;
  domain::Ore amount = 0;
  domain::Ore vat_amount = 0;
  std::optional<std::string> order_id;              // set once an order was saved
  std::optional<domain::WrappedKey> transient_key;  // seals the payment link; nullopt once purged
};

// What sending the payment-link SMS needs. The phone number is encrypted (under the session's
// transient key); decrypted it is personal data: never log it.
struct SmsContext {
  domain::SessionState state = domain::SessionState::pending;
  std::string clinic_id;
  domain::Ore amount = 0;
  std::optional<common::Bytes> phone_enc;
  std::optional<domain::WrappedKey> transient_key;  // nullopt once purged
  std::optional<common::Bytes> payment_url_enc;     // under the transient key, like the phone
  int unresolved_attempts = 0;  // earlier sends whose outcome is unknown (possible duplicates)
  std::optional<domain::Timestamp> last_unresolved_at;
  bool fee_terms_accepted = false;  // the check-out's fee terms: without them no fee is disclosed
};

// Our reference on an SMS (LINK's refId), which delivery reports echo:
// "sms-<attempt id>-<token>", the token a secret random per attempt (sms_messages.ref_token).
std::string sms_reference(std::int64_t sms_id, std::string_view token);
struct SmsReference {
  std::int64_t sms_id = 0;
  std::string token;  // "" in references from before tokens existed
};
std::optional<SmsReference> parse_sms_reference(std::string_view reference);

// A send attempt, recorded before it is made.
struct SmsAttempt {
  std::int64_t id = 0;
  std::string reference;  // what the gateway is given (and reports echo)
};

// The attempt a delivery report was matched to.
struct ReportedSms {
  std::int64_t sms_id = 0;
  std::string session_id;
  std::string account;
  bool by_reference = false;  // matched by our secret reference (the send answer was lost)
};

struct OrderRef {
  std::string session_id;
  domain::SessionState session_state = domain::SessionState::pending;
  std::string clinic_id;
  std::string account;
  std::string order_id;
  domain::Ore vat_amount = 0;
};

struct OrderStatusUpdate {
  // The order that was looked at: a status seen on an order the session no longer holds (a fresh
  // payment replaced it meanwhile) is not written onto its successor. "" = the current one.
  std::string order_id;
  domain::OrderStatus status = domain::OrderStatus::unknown;
  std::string instrument;
  std::string transaction_type;  // authorization | sale | ""
  domain::Ore captured = 0;
};

struct OrderStatusResult {
  domain::SessionState state = domain::SessionState::pending;  // after the update
  bool became_paid = false;      // this update moved the session to paid
  bool invoice_flagged = false;  // paid after invoicing: this update flagged the invoice
};

enum class CancelOutcome { cancelled, already_cancelled, not_cancellable, not_found };

enum class DeliveryOutcome { in_progress, delivered, failed, undetermined };

// One delivery report: about one part of a message.
struct PartReport {
  std::string message_id;  // the gateway's id of the whole message (no part suffix)
  int part = 0;
  int segments = 0;  // the parts the report says the message has; 0: not said
  int result_code = 0;
  DeliveryOutcome outcome = DeliveryOutcome::in_progress;
};

// One create of a payment order, recorded before it is sent (payment_order_attempts).
struct OrderAttempt {
  int attempt = 0;
  std::string payee_reference;
};

// A recorded attempt found by the payeeReference an order showed.
struct AttemptRef {
  int attempt = 0;
  std::string account;
  std::optional<std::string> order_id;
};

// What a payer page shows about its session (found by the digest of the page's token). No
// personal data: amounts, the clinic, the deadline and the current order.
struct PayerSession {
  std::string session_id;
  domain::SessionState state = domain::SessionState::pending;
  std::string clinic_id;
  domain::Ore amount = 0;
  std::optional<domain::Timestamp> deadline;
  std::optional<domain::Ore> fee_disclosed;
  std::optional<OrderRef> order;                    // the current order
  std::optional<domain::OrderStatus> order_status;  // as last recorded
};

// The statements of the payment-link flow. A change of the session's state goes through the
// LifecycleStore, in the same transaction as the facts behind it (the SMS row, the order's
// status); every such transaction locks the session row first.
class PaymentStore {
 public:
  explicit PaymentStore(PgPool& pool) : pool_(pool), lifecycle_(pool) {}

  asio::awaitable<common::Result<std::optional<OrderContext>>> order_context(
      std::string_view session_id);
  // Saves the order of `attempt` (at most one per session) and applies order_created (which
  // queues the SMS, or an abort if the session was cancelled meanwhile). False when the session
  // already had another order (a concurrent attempt won): this one is then an extra the caller
  // aborts. Repeating it after success changes nothing.
  asio::awaitable<common::Result<bool>> save_order(std::string_view session_id,
                                                   std::string_view account,
                                                   std::string_view order_id,
                                                   const common::Bytes& payment_url_enc,
                                                   domain::OrderStatus status, int attempt,
                                                   domain::Timestamp now);

  // --- order attempts, payer pages, orders nobody kept ---

  // Records the next create attempt of the session's order (numbered from 1; `reference` turns
  // the number into its payeeReference) with the payer pages' token digest. nullopt when the
  // session does not exist; an error once kMaxOrderAttempts are used up.
  asio::awaitable<common::Result<std::optional<OrderAttempt>>> begin_order_attempt(
      std::string_view session_id, std::string_view account,
      const std::function<std::string(int)>& reference, const common::Sha256Digest& token_digest,
      domain::Timestamp now);
  // The attempt got an error answer (`unknown`: no usable answer, an order may exist).
  asio::awaitable<common::Result<void>> order_attempt_failed(std::string_view session_id,
                                                             int attempt, bool unknown,
                                                             std::string_view error,
                                                             domain::Timestamp now);
  // A fresh payment the payer started: `order_id` (of `attempt`) replaces `previous_order_id`
  // as the session's current order, only while the session awaits payment before its deadline
  // and `previous_order_id` is still its order. The caller has just seen the previous order
  // closed unpaid (aborted or failed) at the provider. False otherwise (the caller aborts the
  // new order).
  asio::awaitable<common::Result<bool>> replace_order(
      std::string_view session_id, std::string_view previous_order_id, std::string_view account,
      std::string_view order_id, domain::OrderStatus status, int attempt, domain::Timestamp now);
  asio::awaitable<common::Result<std::optional<PayerSession>>> payer_session(
      const common::Sha256Digest& token_digest);
  // Orders a callback named that are not the session's current one, oldest first.
  asio::awaitable<common::Result<std::vector<std::string>>> order_checks(
      std::string_view session_id);
  // The session's attempt whose payeeReference is `payee_reference`, if any.
  asio::awaitable<common::Result<std::optional<AttemptRef>>> attempt_of(
      std::string_view session_id, std::string_view payee_reference);
  // A looked-at order: its check is done; `attempt` (0: none of ours) records it and its status.
  asio::awaitable<common::Result<void>> order_checked(std::string_view session_id,
                                                      std::string_view order_id, int attempt,
                                                      domain::OrderStatus seen,
                                                      domain::Timestamp now);
  // A paid order that is not the session's current one becomes current unless the current one
  // is paid too; the one it replaces is queued for a check (it is aborted if open). False when
  // nothing moved.
  asio::awaitable<common::Result<bool>> adopt_order(std::string_view session_id,
                                                    std::string_view order_id,
                                                    domain::Timestamp now);

  asio::awaitable<common::Result<std::optional<SmsContext>>> sms_context(
      std::string_view session_id);
  // Records a send attempt before it is made, with the parts we expect the text to take.
  // nullopt when the session is no longer pending.
  asio::awaitable<common::Result<std::optional<SmsAttempt>>> begin_sms(
      std::string_view session_id, std::string_view account, domain::Ore fee,
      domain::Timestamp deadline, int segments, domain::Timestamp now);
  // The gateway accepted: the session awaits payment until the deadline the text states (the fee
  // counts as disclosed only once delivered). `segments`: the parts the gateway says it made
  // (its smsCount; 0 keeps our own count).
  asio::awaitable<common::Result<void>> sms_accepted(std::int64_t sms_id,
                                                     std::string_view session_id,
                                                     std::string_view message_id, int segments,
                                                     domain::Timestamp now);
  // The link cannot be created or sent (link_failed): the session goes to the invoice path
  // without fee, `error` kept on it for ops. Harmless once the session has moved on.
  asio::awaitable<common::Result<void>> link_failed(std::string_view session_id,
                                                    std::string_view error, domain::Timestamp now);
  // The outcome is unknown (transport failure): a retry may send a second SMS.
  asio::awaitable<common::Result<void>> sms_unknown(std::int64_t sms_id, std::string_view error);
  // Not sent (a definite failure answer): a permanent refusal is link_refused (the invoice path,
  // "sms_rejected", with `error` kept on the session), otherwise the attempt is only recorded.
  asio::awaitable<common::Result<void>> sms_not_sent(std::int64_t sms_id,
                                                     std::string_view session_id,
                                                     std::string_view error, bool permanent,
                                                     domain::Timestamp now);
  // The attempt a delivery report is about: the one with that gateway message id (LINK's ids are
  // random and long), else, only for an attempt whose send answer was lost (no gateway id yet),
  // the one our reference names, if the reference's secret token matches (compared in constant
  // time). A guessed "sms-<n>" matches nothing. nullopt when none matches.
  asio::awaitable<common::Result<std::optional<ReportedSms>>> find_reported_sms(
      std::string_view message_id, std::string_view reference);
  // Records a report on one part, if the attempt is still waiting for reports: sent or accepted,
  // not final, and sent after `not_before` (the age limit). A part's final outcome is never
  // changed. The message is delivered when every part is (as many as the gateway said it made),
  // failed when any part finally failed (link_undeliverable), undetermined when all are final
  // otherwise; a report for an attempt whose answer was lost accepts it (link_sent). False when
  // the attempt was not waiting (nothing changed).
  asio::awaitable<common::Result<bool>> record_report(const ReportedSms& sms,
                                                      const PartReport& report,
                                                      domain::Timestamp not_before,
                                                      domain::Timestamp now);

  asio::awaitable<common::Result<std::optional<OrderRef>>> order_of(std::string_view session_id);
  // Records the provider's view in one transaction that locks the session first; `paid` moves an
  // open session to paid (once), a payment seen on a cancelled session is flagged and released
  // (paid_after_close: a cancel_payment with its operation, RefundStore::request_release), and on
  // an invoiced session its invoice is voided or flagged for a credit note. Because the lock comes
  // first, an invoice created a moment earlier is always seen.
  asio::awaitable<common::Result<OrderStatusResult>> record_order_status(
      std::string_view session_id, const OrderStatusUpdate& update, domain::Timestamp now);

  // A provider callback for `order_id`: queues a status check of its session. An order that is
  // not the session's current one (replaced, or unknown but named with `order_reference`, the
  // session id, while one of its attempts has an unknown outcome) is also queued for a look of
  // its own (order_checks). False when the order is unknown.
  asio::awaitable<common::Result<bool>> callback_received(std::string_view order_id,
                                                          std::string_view order_reference,
                                                          domain::Timestamp now);
  // Queues a status check for up to `limit` awaiting sessions whose next check is due
  // (domain::next_status_check sets the schedule).
  asio::awaitable<common::Result<std::int64_t>> enqueue_due_checks(int limit,
                                                                   domain::Timestamp now);

  // Queues a status check, at most once per `every`, for orders still open at the provider
  // although their session ended (invoiced regardless after the abort's bound, or cancelled
  // with the abort failed): a late payment is then recorded and flags the invoice.
  asio::awaitable<common::Result<std::int64_t>> enqueue_open_orders_of_ended(
      std::chrono::seconds every, int limit, domain::Timestamp now);

  // Orders paid after their session was cancelled: money finance must return.
  asio::awaitable<common::Result<std::int64_t>> count_paid_after_close();

  asio::awaitable<common::Result<CancelOutcome>> cancel(std::string_view session_id,
                                                        domain::Timestamp now);

  // For the benchmark's pgbench twin: every statement of this store (found there by name) and the
  // parameters save_order, begin_sms, sms_accepted and record_order_status send.
  static std::vector<Statement> statements();
  static PgParams insert_order_params(std::string_view session_id, std::string_view account,
                                      std::string_view order_id,
                                      const common::Bytes& payment_url_enc,
                                      domain::OrderStatus status, domain::Timestamp now);
  static PgParams begin_sms_params(std::string_view session_id, std::string_view account,
                                   domain::Ore fee, domain::Timestamp deadline, int segments,
                                   domain::Timestamp now);
  static PgParams sms_accepted_params(std::int64_t sms_id, std::string_view message_id,
                                      int segments, domain::Timestamp now);
  static PgParams update_order_params(std::string_view session_id, const OrderStatusUpdate& update,
                                      domain::Timestamp now, bool paid_after_close);
  static PgParams status_checked_params(std::string_view session_id, domain::Timestamp now);

 private:
  // record_order_status for an order that is not paid (see there).
  asio::awaitable<common::Result<OrderStatusResult>> record_unpaid_status(
      std::string_view session_id, const OrderStatusUpdate& update, domain::Timestamp now);

  PgPool& pool_;
  LifecycleStore lifecycle_;
};

}  // namespace visitpay::store
