#pragma once

// A runnable mock of Swedbank Pay's Payment Order API v3.1 (Checkout v3 "Payments Only",
// Redirect integration), speaking the real wire protocol over real HTTP, with a payer page,
// unsigned v3.1 callbacks retried on the real (scaled) schedule, and fault injection.
// Facts: ../shared/reference/providers.md section 1 and 5. Used embedded by the integration tests
// and as the executable `mock-swedbankpay` by the local run.
//
// HTTP surface (details at the top of swedbankpay_mock.cpp):
//   /psp/...       the provider API (bearer token, `application/json;version=3.1`)
//   /checkout/<t>  the payer page behind the `redirect-checkout` operation
//   /_mock/...     test controls without auth; `/` an HTML index of orders

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace visitpay::mocks {

struct SwedbankPayMockOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;            // 0 = a free port
  std::string token = "test-token";  // expected `Authorization: Bearer <token>`
  int create_status = 200;           // 200 or 201 (the docs show 200)
  // Duplicate payeeReference: status unknown in reality (providers.md §9); the problem's
  // `instance` is a trace id, as for every problem, never the existing order.
  int duplicate_status = 409;
  double callback_time_scale = 0.001;         // retries at 30,60,360,432,864,1265 s times this
  std::chrono::milliseconds status_lag{300};  // for the callback_before_status fault
  std::string public_url;  // base of operation hrefs and links; empty = base_url()
  // Refuse creates without callbackUrl and termsOfServiceUrl too (the documented required
  // fields are always checked); the flow tests run strict.
  bool strict = false;
};

class SwedbankPayMock {
 public:
  explicit SwedbankPayMock(SwedbankPayMockOptions options = {});
  ~SwedbankPayMock();  // stops the server and the callback threads
  SwedbankPayMock(const SwedbankPayMock&) = delete;
  SwedbankPayMock& operator=(const SwedbankPayMock&) = delete;

  std::string base_url() const;  // http://127.0.0.1:PORT (or options.public_url)
  std::uint16_t port() const;

  // Arms `fault` for the next `count` matching events. HTTP faults (http_500, http_502, http_504,
  // rate_limit, timeout, lose_response, invalid_json) each consume one authorised /psp request,
  // in the order they were armed; abort_refused_in_app consumes one abort of an Initialized
  // order; paid_after_abort one abort of an Initialized order, which answers Aborted while a
  // payment is in flight: pay() can still complete it afterwards; duplicate_callback one callback;
  // callback_before_status one payment; out_of_order_callbacks one pair of callbacks;
  // lose_post_purchase_response one capture, cancel or reversal, which is carried out but whose
  // answer is lost (the connection drops).
  // `retry_after_s` is the Retry-After of rate_limit. Throws std::invalid_argument for an unknown
  // fault or count < 1.
  void inject(const std::string& fault, int count = 1, std::optional<int> retry_after_s = {});

  // Pays an Initialized order as the payer page does (and sends the callback). `instrument` is
  // CreditCard, Vipps, Swish, Trustly, ...; `transaction_type` "", "Authorization" or "Sale"
  // ("" = Authorization for two-phase instruments such as CreditCard and Vipps, Sale for Swish
  // and Trustly). False when the order is unknown or not payable (an Aborted order is payable
  // only after the paid_after_abort fault).
  bool pay(const std::string& order_id_or_guid, const std::string& instrument = "CreditCard",
           const std::string& transaction_type = "");
  // Drives an order to Failed or Aborted (from Initialized), Cancelled (an authorization with
  // nothing captured) or Reversed (everything captured or sold is reversed; an uncaptured rest is
  // cancelled first), or Paid (= pay with CreditCard), and sends the callback. False when the
  // order is unknown or the transition is not possible.
  bool set_status(const std::string& order_id_or_guid, const std::string& status);

  // A capture, cancellation or reversal the order holds (its financial transactions).
  struct TransactionSnapshot {
    std::string kind;  // Capture, Cancellation, Reversal
    std::int64_t amount = 0, vat_amount = 0;
    std::string payee_reference;
    std::string description;
  };
  struct OrderSnapshot {
    std::string id;      // "/psp/paymentorders/<guid>"
    std::string status;  // as a GET shows it now
    std::string payee_reference;
    std::string instrument;        // "" until paid
    std::string transaction_type;  // "", "Authorization" or "Sale"
    std::string callback_url;
    std::int64_t amount, vat_amount;
    std::int64_t captured;                  // captured amount (the whole amount for a Sale)
    std::int64_t remaining_capture;         // remainingCaptureAmount
    int creates_with_same_payee_reference;  // 1 + duplicates rejected
    int callbacks_sent;                     // POSTs made to callbackUrl (incl. retries, copies)
    int callbacks_acknowledged;             // of those, answered 2xx
    std::string checkout_path;              // the payer page's path, as in the redirect URL
    std::int64_t cancelled, reversed;       // amounts cancelled and reversed so far
    std::int64_t remaining_reversal;        // remainingReversalAmount
    std::vector<TransactionSnapshot> transactions;  // in the order they were made
    int post_purchase_refusals;  // cancel/reversal/capture requests answered with a problem
  };
  std::vector<OrderSnapshot> orders() const;  // in creation order
  // Every POST /psp/paymentorders received (including rejected, duplicate and faulted ones).
  std::size_t create_calls() const;
  // Disarms every fault still armed (the end of an outage); orders stay.
  void clear_faults();
  // Forgets orders, faults, counters and pending callbacks.
  void reset();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace visitpay::mocks
