#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "domain/checkout.hpp"
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
};

// Our reference on an SMS (LINK's refId), which delivery reports echo: "sms-<attempt id>".
std::string sms_reference(std::int64_t sms_id);
std::optional<std::int64_t> sms_id_of_reference(std::string_view reference);

struct OrderRef {
  std::string session_id;
  domain::SessionState session_state = domain::SessionState::pending;
  std::string clinic_id;
  std::string account;
  std::string order_id;
  domain::Ore vat_amount = 0;
};

struct OrderStatusUpdate {
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

enum class DeliveryOutcome { in_progress, delivered, failed };

// The statements of the payment-link flow. A change of the session's state goes through the
// LifecycleStore, in the same transaction as the facts behind it (the SMS row, the order's
// status); every such transaction locks the session row first.
class PaymentStore {
 public:
  explicit PaymentStore(PgPool& pool) : pool_(pool), lifecycle_(pool) {}

  asio::awaitable<common::Result<std::optional<OrderContext>>> order_context(
      std::string_view session_id);
  // Saves the order (at most one per session) and applies order_created (which queues the SMS,
  // or an abort if the session was cancelled meanwhile). Repeating it after success changes
  // nothing.
  asio::awaitable<common::Result<void>> save_order(
      std::string_view session_id, std::string_view account, std::string_view order_id,
      const common::Bytes& payment_url_enc, domain::OrderStatus status, domain::Timestamp now);

  asio::awaitable<common::Result<std::optional<SmsContext>>> sms_context(
      std::string_view session_id);
  // Records a send attempt before it is made. nullopt when the session is no longer pending.
  asio::awaitable<common::Result<std::optional<std::int64_t>>> begin_sms(
      std::string_view session_id, std::string_view account, domain::Ore fee,
      domain::Timestamp deadline, domain::Timestamp now);
  // The gateway accepted: the session awaits payment until `deadline`, with `fee` disclosed.
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
  // A delivery report, found by the gateway's message id or else by our reference. False when
  // the message is unknown. A report for an attempt whose answer was lost accepts it (link_sent:
  // the session awaits payment); a final failure is link_undeliverable; later or repeated reports
  // are ignored.
  asio::awaitable<common::Result<bool>> delivery_report(std::string_view message_id,
                                                        std::string_view reference, int result_code,
                                                        DeliveryOutcome outcome,
                                                        domain::Timestamp now);

  asio::awaitable<common::Result<std::optional<OrderRef>>> order_of(std::string_view session_id);
  // Records the provider's view in one transaction that locks the session first; `paid` moves an
  // open session to paid (once), a payment seen on a cancelled session is flagged
  // (paid_after_close), and on an invoiced session its invoice is voided or flagged for a credit
  // note. Because the lock comes first, an invoice created a moment earlier is always seen.
  asio::awaitable<common::Result<OrderStatusResult>> record_order_status(
      std::string_view session_id, const OrderStatusUpdate& update, domain::Timestamp now);

  // A provider callback for `order_id`: queues a status check. False when the order is unknown.
  asio::awaitable<common::Result<bool>> callback_received(std::string_view order_id,
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
                                   domain::Ore fee, domain::Timestamp deadline,
                                   domain::Timestamp now);
  static PgParams sms_accepted_params(std::int64_t sms_id, std::string_view message_id,
                                      int segments, domain::Timestamp now);
  static PgParams update_order_params(std::string_view session_id, const OrderStatusUpdate& update,
                                      domain::Timestamp now, bool paid_after_close);
  static PgParams status_checked_params(std::string_view session_id, domain::Timestamp now);

 private:
  PgPool& pool_;
  LifecycleStore lifecycle_;
};

}  // namespace visitpay::store
