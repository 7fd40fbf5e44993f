#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"
#include "config/config.hpp"
#include "ports/clock.hpp"
#include "ports/payment_provider.hpp"
#include "store/payment_store.hpp"

namespace visitpay::app {

namespace asio = boost::asio;

// The payment adapters of the configured accounts, by account name.
using PaymentProviders = std::map<std::string, ports::PaymentProvider*, std::less<>>;

// The payer pages' token of a session: HMAC-SHA256 under the look-up key of a fixed label and the
// session id, base64url (43 characters). Unguessable without the key, the same every time (so
// every order of the session carries the same pages), and never stored: the database holds only
// its SHA-256 (payer_page_tokens).
std::string payer_page_token(const common::Bytes& lookup_key, std::string_view session_id);
common::Sha256Digest payer_page_token_digest(std::string_view token);

// What an order is created for.
struct OrderSubject {
  std::string session_id;
  domain::Ore amount = 0;
  domain::Ore vat_amount = 0;
};

struct AttemptedOrder {
  int attempt = 0;
  ports::PaymentOrder order;
};

// Creating a session's payment order, for the first link (workers::PaymentWork) and for a fresh
// payment the payer starts from our page (PayerPages). Every create is a numbered attempt with
// its own payeeReference, recorded before it is sent; its failure is recorded as refused or, with
// no usable answer, unknown (an orphan order may exist: never sent to anyone, left to expire, or
// aborted once a callback names it). The caller saves a created order.
class PaymentOrders {
 public:
  PaymentOrders(store::PaymentStore& payments, const config::Config& config,
                const ports::Clock& clock, common::Logger& log, common::Metrics& metrics);

  asio::awaitable<common::Result<AttemptedOrder>> create(const OrderSubject& subject,
                                                         const config::Clinic& clinic,
                                                         ports::PaymentProvider& provider);

  // The payer pages the provider sends the payer back to (completeUrl, cancelUrl).
  std::string complete_url(std::string_view session_id) const;
  std::string cancel_url(std::string_view session_id) const;

 private:
  store::PaymentStore& payments_;
  const config::Config& config_;
  const ports::Clock& clock_;
  common::Logger& log_;
  common::Metrics& metrics_;
};

}  // namespace visitpay::app
