#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>

#include "adapters/http/http_client.hpp"
#include "adapters/payment/swedbankpay/swedbankpay_wire.hpp"
#include "common/result.hpp"
#include "ports/payment_provider.hpp"

namespace visitpay::adapters::payment::swedbankpay {

struct SwedbankPayConfig {
  std::string base_url;  // https://api.externalintegration.payex.com (no trailing slash)
  std::string token;     // secret: never logged
  std::string payee_id;
  std::string payee_name;
  std::string callback_url;  // our webhook route for this adapter (ports::AdapterContext)
  std::string user_agent = "visitpay/0.1";
  std::chrono::milliseconds timeout{10000};
  // For GETs only (idempotent); creates, aborts and captures are single attempts.
  http::RetryPolicy read_retry{3, std::chrono::milliseconds(200), std::chrono::milliseconds(5000)};
};

// `payment.swedbankpay`: Payment Order v3.1 (providers.md §1). Operation URLs always come from
// the order's `operations[]` (fetched fresh before an abort or capture), never built by hand.
// create_order fails with provider_outcome_unknown when no usable answer came (transport failure,
// timeout, 5xx, an unreadable 2xx body): the order may exist.
class SwedbankPayProvider final : public ports::PaymentProvider {
 public:
  SwedbankPayProvider(http::HttpClient& client, SwedbankPayConfig config);

  std::string callback_url() const override { return config_.callback_url; }
  boost::asio::awaitable<common::Result<ports::PaymentOrder>> create_order(
      const ports::PaymentOrderRequest& request) override;
  boost::asio::awaitable<common::Result<ports::PaymentOrder>> get_order(
      const std::string& order_id) override;
  boost::asio::awaitable<common::Result<ports::PaymentOrder>> abort_order(
      const std::string& order_id) override;
  boost::asio::awaitable<common::Result<ports::PaymentOrder>> capture(
      const std::string& order_id, const ports::CaptureRequest& request) override;
  boost::asio::awaitable<common::Result<ports::PaymentOrder>> cancel(
      const std::string& order_id, const ports::CancelRequest& request) override;
  boost::asio::awaitable<common::Result<ports::PaymentOrder>> reverse(
      const std::string& order_id, const ports::ReversalRequest& request) override;

 private:
  // A post-purchase operation (`rel` cancel or reversal, providers.md §7): its href from a fresh
  // GET, one POST (never resent over a reused connection). Done when the order's transactions
  // already show `reference`, before or after an error answer (a resend after a lost answer).
  // No usable answer: provider_outcome_unknown (the caller looks again before a new try).
  boost::asio::awaitable<common::Result<ports::PaymentOrder>> post_purchase(std::string order_id,
                                                                            std::string rel,
                                                                            std::string body,
                                                                            std::string reference);
  http::HttpRequest make_request(std::string method, std::string url, std::string body) const;
  // GET {base}{id}?$expand=paid,payeeinfo,financialtransactions, with retries (payeeinfo: the
  // payeeReference that tells whether an order nobody kept is one of ours; the transactions:
  // whether a cancel or reversal whose answer was lost happened).
  boost::asio::awaitable<common::Result<ParsedOrder>> fetch(std::string order_id);
  // The URL of an operation's href, which must point at the API host we hold the token for.
  common::Result<std::string> operation_url(const Operation& operation) const;

  http::HttpClient& client_;
  SwedbankPayConfig config_;
};

}  // namespace visitpay::adapters::payment::swedbankpay
