#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "app/payment_orders.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"
#include "config/config.hpp"
#include "ports/clock.hpp"
#include "store/payment_store.hpp"

namespace visitpay::app {

// What the payer's page after Swedbank Pay's page can truthfully say. The redirect itself proves
// nothing (completeUrl only means the payer is done there, providers.md §1.4): the page asks the
// provider about the session's current order.
enum class PayerPageKind {
  unknown_link,   // no session behind the token
  paid,           // the provider shows the order paid (or the session is paid)
  processing,     // not shown paid yet, or the provider did not answer: look again
  not_completed,  // the order was aborted or failed: pay now until the deadline, else an invoice
  invoice,        // the window is over: an invoice follows (or exists)
  withdrawn,      // the clinic withdrew the check-out: nothing to pay
};

// No personal data: the amount, the clinic's name and the dates only.
struct PayerPageView {
  PayerPageKind kind = PayerPageKind::unknown_link;
  std::string clinic_name;
  domain::Ore amount = 0;
  std::optional<domain::Timestamp> deadline;
  std::optional<domain::Ore> invoice_fee;  // the fee the delivered SMS stated
  bool can_pay_now = false;                // a fresh payment may be started from the page
  bool link_still_pays = false;            // the current order is open: the SMS link pays
};

// The payer pages' use cases: what the page says (view) and a fresh payment after the payer
// cancelled (pay_again: a new order with a new payeeReference, never a second SMS).
class PayerPages {
 public:
  PayerPages(store::PaymentStore& payments, PaymentOrders& orders, const config::Config& config,
             const PaymentProviders& providers, const ports::Clock& clock, common::Logger& log,
             common::Metrics& metrics, std::function<void()> nudge);

  asio::awaitable<PayerPageView> view(std::string_view token);
  // The new order's payment page. not_found: no such session; invalid_state: not possible now
  // (paid, past the deadline, the current order still open); provider errors as they came.
  asio::awaitable<common::Result<std::string>> pay_again(std::string_view token);

 private:
  PayerPageView base_view(const store::PayerSession& session) const;
  ports::PaymentProvider* provider_for(std::string_view account) const;

  store::PaymentStore& payments_;
  PaymentOrders& orders_;
  const config::Config& config_;
  const PaymentProviders& providers_;
  const ports::Clock& clock_;
  common::Logger& log_;
  common::Metrics& metrics_;
  std::function<void()> nudge_;
};

}  // namespace visitpay::app
