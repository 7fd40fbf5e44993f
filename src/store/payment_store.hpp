#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "domain/sealed_payer.hpp"
#include "store/pg_pool.hpp"

namespace visitpay::store {

// Outbox kinds of the payment-link flow.
namespace work {
inline constexpr std::string_view create_payment_order = "create_payment_order";
inline constexpr std::string_view send_payment_sms = "send_payment_sms";
inline constexpr std::string_view payment_callback = "payment_callback";  // a provider hint
inline constexpr std::string_view sync_payment = "sync_payment";          // the reconciler's poll
inline constexpr std::string_view abort_payment = "abort_payment";        // after a cancel
}  // namespace work

// What creating the payment order needs to know about a session.
struct OrderContext {
  std::string state;
  std::string clinic_id;
  domain::Ore amount = 0;
  domain::Ore vat_amount = 0;
  std::optional<std::string> order_id;              // set once an order was saved
  std::optional<domain::WrappedKey> transient_key;  // seals the payment link; nullopt once purged
};

// What sending the payment-link SMS needs. The phone number is encrypted (under the session's
// transient key); decrypted it is personal data: never log it.
struct SmsContext {
  std::string state;
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
  std::string session_state;
  std::string clinic_id;
  std::string account;
  std::string order_id;
  domain::Ore vat_amount = 0;
};

struct OrderStatusUpdate {
  std::string status;  // the provider's: Initialized, Paid, Aborted, ...
  std::string instrument;
  std::string transaction_type;
  domain::Ore captured = 0;
};

struct OrderStatusResult {
  std::string state;             // the session's state after the update
  bool became_paid = false;      // this update moved the session to paid
  bool invoice_flagged = false;  // paid after invoicing: this update flagged the invoice
};

enum class CancelOutcome { cancelled, already_cancelled, not_cancellable, not_found };

enum class DeliveryOutcome { in_progress, delivered, failed };

// The statements of the payment-link flow. Each is one statement (atomic); the ones that change
// a session's state lock its row so they serialise with a concurrent cancel.
class PaymentStore {
 public:
  explicit PaymentStore(PgPool& pool) : pool_(pool) {}

  asio::awaitable<common::Result<std::optional<OrderContext>>> order_context(
      std::string_view session_id);
  // Saves the order (at most one per session) and queues what follows: the SMS, or an abort if
  // the session was cancelled meanwhile. Repeating it after success changes nothing.
  asio::awaitable<common::Result<void>> save_order(std::string_view session_id,
                                                   std::string_view account,
                                                   std::string_view order_id,
                                                   const common::Bytes& payment_url_enc,
                                                   std::string_view status, domain::Timestamp now);

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
  // The outcome is unknown (transport failure): a retry may send a second SMS.
  asio::awaitable<common::Result<void>> sms_unknown(std::int64_t sms_id, std::string_view error);
  // Not sent (a definite failure answer): rejected permanently marks the session for the invoice
  // path ("sms_rejected"), otherwise the attempt is only recorded.
  asio::awaitable<common::Result<void>> sms_not_sent(std::int64_t sms_id,
                                                     std::string_view session_id,
                                                     std::string_view error, bool permanent,
                                                     domain::Timestamp now);
  // A delivery report, found by the gateway's message id or else by our reference. False when
  // the message is unknown. A report for an attempt whose answer was lost accepts it (the session
  // awaits payment); a final failure marks the session for the invoice path
  // ("sms_undeliverable"); later or repeated reports are ignored.
  asio::awaitable<common::Result<bool>> delivery_report(std::string_view message_id,
                                                        std::string_view reference, int result_code,
                                                        DeliveryOutcome outcome,
                                                        domain::Timestamp now);

  asio::awaitable<common::Result<std::optional<OrderRef>>> order_of(std::string_view session_id);
  // Records the provider's view; `Paid` moves an open session to paid (once), and a payment
  // seen on a cancelled session is flagged (paid_after_close), never dropped.
  asio::awaitable<common::Result<OrderStatusResult>> record_order_status(
      std::string_view session_id, const OrderStatusUpdate& update, domain::Timestamp now);

  // A provider callback for `order_id`: queues a status check. False when the order is unknown.
  asio::awaitable<common::Result<bool>> callback_received(std::string_view order_id,
                                                          domain::Timestamp now);
  // Queues a status check for up to `limit` awaiting sessions not checked since `before`.
  asio::awaitable<common::Result<std::int64_t>> enqueue_stale(domain::Timestamp before, int limit,
                                                              domain::Timestamp now);

  // Orders paid after their session was cancelled: money finance must return.
  asio::awaitable<common::Result<std::int64_t>> count_paid_after_close();

  asio::awaitable<common::Result<CancelOutcome>> cancel(std::string_view session_id,
                                                        domain::Timestamp now);

 private:
  PgPool& pool_;
};

}  // namespace visitpay::store
