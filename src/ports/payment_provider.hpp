#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "domain/order_status.hpp"

namespace visitpay::ports {

// What the core asks a payment provider to create: one payment order for one session.
struct PaymentOrderRequest {
  // Unique per create attempt (domain::order_payee_reference); no personal data.
  std::string payee_reference;
  std::string order_reference;  // the session id
  domain::Ore amount = 0;
  domain::Ore vat_amount = 0;
  std::string currency = "NOK";
  std::string description;  // <= 40 characters, no personal data
  std::string language = "nb-NO";
  std::string callback_url;
  std::string complete_url;
  std::string cancel_url;
  std::string terms_of_service_url;  // the clinic's terms; "" = none sent
  std::vector<std::string> host_urls;
};

// A capture, cancel or reversal the provider lists on an order.
struct ProviderTransaction {
  std::string id;  // the provider's, opaque
  std::string payee_reference;
};

// Adapters map their provider's statuses onto the core's own (domain::OrderStatus).
using PaymentStatus = domain::OrderStatus;
enum class TransactionType { none, authorization, sale };

// The provider's view of an order. `id` is opaque to the core (the adapter's own form).
struct PaymentOrder {
  std::string id;
  std::string payment_url;  // the payer-facing link (redirect-checkout)
  // The reference the order was created with, when the provider's answer shows it ("" if not):
  // how an order nobody kept (an orphan) is told to be one of ours.
  std::string payee_reference;
  PaymentStatus status = PaymentStatus::unknown;
  std::string instrument;  // how it was paid (the provider's name for it), when paid
  TransactionType transaction_type = TransactionType::none;
  domain::Ore amount = 0;
  domain::Ore remaining_capture_amount = 0;
  domain::Ore remaining_reversal_amount = 0;
  bool can_abort = false;    // the provider offers the abort operation now
  bool can_capture = false;  // the provider offers the capture operation now
  bool can_cancel = false;   // ... the cancel operation (an authorisation not yet captured)
  bool can_reverse = false;  // ... the reversal operation (captured or sold money)
  // The order's financial transactions (captures, cancels, reversals), as far as the provider's
  // answer lists them: how an operation whose answer was lost is found (by payee_reference).
  std::vector<ProviderTransaction> transactions;
};

struct CaptureRequest {
  std::string payee_reference;  // unique per capture
  domain::Ore amount = 0;
  domain::Ore vat_amount = 0;
  std::string description;
};

// Releases an authorisation nothing was captured of (the provider's cancel has no amount).
struct CancelRequest {
  std::string payee_reference;  // unique per operation (domain::operation_payee_reference)
  std::string description;      // no personal data
};

// Returns captured (or sold) money, in full or in part.
struct ReversalRequest {
  std::string payee_reference;  // unique per operation
  domain::Ore amount = 0;
  domain::Ore vat_amount = 0;
  std::string description;  // no personal data
};

// Failures come back as common::Error with
//   provider_unavailable  transient (timeouts, 5xx, 429; retry_after set when the provider said)
//   provider_rejected     permanent for this request (4xx other than the cases below)
//   provider_conflict     the operation is not possible in the order's current state (e.g. abort
//                         refused while the payer is in a wallet app)
// A create is never repeated with the same payee_reference (each attempt has its own), so a
// refusal of a used one is provider_rejected like any other: the provider's answer does not name
// the existing order (providers.md §9).
class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;
  // The callbackUrl to give the provider in create_order: this service's webhook route for the
  // adapter (the adapter knows which route parses its callbacks; the core does not).
  virtual std::string callback_url() const = 0;
  virtual boost::asio::awaitable<common::Result<PaymentOrder>> create_order(
      const PaymentOrderRequest& request) = 0;
  virtual boost::asio::awaitable<common::Result<PaymentOrder>> get_order(
      const std::string& order_id) = 0;
  virtual boost::asio::awaitable<common::Result<PaymentOrder>> abort_order(
      const std::string& order_id) = 0;
  virtual boost::asio::awaitable<common::Result<PaymentOrder>> capture(
      const std::string& order_id, const CaptureRequest& request) = 0;
  // cancel and reverse answer with the order as it is afterwards. An error answer to one whose
  // reference the order's transactions already show (a resend after a lost answer) is success.
  virtual boost::asio::awaitable<common::Result<PaymentOrder>> cancel(
      const std::string& order_id, const CancelRequest& request) = 0;
  virtual boost::asio::awaitable<common::Result<PaymentOrder>> reverse(
      const std::string& order_id, const ReversalRequest& request) = 0;
};

}  // namespace visitpay::ports
