#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "common/result.hpp"
#include "config/config.hpp"
#include "ports/clock.hpp"
#include "ports/webhooks.hpp"
#include "store/outbox_store.hpp"
#include "store/payment_store.hpp"

namespace visitpay::app {

namespace asio = boost::asio;

// Use cases around the payment flow that arrive over HTTP: a clinic cancelling a check-out,
// provider callbacks and delivery reports, and operators looking at and retrying dead letters.
// The work itself happens in the outbox (workers/payment_work); `nudge` wakes the dispatcher.
class PaymentService {
 public:
  PaymentService(store::PaymentStore& payments, store::OutboxStore& outbox,
                 const config::Config& config, const ports::Clock& clock, common::Logger& log,
                 std::function<void()> nudge);

  // Cancelled now or before: Ok. Paid or invoiced: invalid_state. Unknown: not_found.
  asio::awaitable<common::Result<void>> cancel(std::string_view session_id);

  // A payment provider's callback for `order_id` (with the callback's `order_reference`, the
  // session id we gave, when it carries one): queues a status check. not_found if unknown.
  asio::awaitable<common::Result<void>> payment_callback(std::string_view order_id,
                                                         std::string_view order_reference = {});

  // An SMS delivery report (about one part of a message). not_found if no attempt matches it
  // (store::PaymentStore::find_reported_sms says how reports are matched). A report for an
  // attempt that no longer waits for reports (final, never sent, past the account's
  // report_max_age) is answered Ok but changes nothing.
  asio::awaitable<common::Result<void>> delivery_report(const ports::SmsReport& report);

  asio::awaitable<common::Result<std::vector<store::DeadOutboxItem>>> dead_letters(int limit);
  // not_found when `id` is not a dead letter (or its session has live work of that kind).
  asio::awaitable<common::Result<void>> retry(std::int64_t id);

 private:
  store::PaymentStore& payments_;
  store::OutboxStore& outbox_;
  const config::Config& config_;
  const ports::Clock& clock_;
  common::Logger& log_;
  std::function<void()> nudge_;
};

}  // namespace visitpay::app
