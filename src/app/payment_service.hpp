#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "common/result.hpp"
#include "ports/clock.hpp"
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
                 const ports::Clock& clock, common::Logger& log, std::function<void()> nudge);

  // Cancelled now or before: Ok. Paid or invoiced: invalid_state. Unknown: not_found.
  asio::awaitable<common::Result<void>> cancel(std::string_view session_id);

  // A payment provider's callback for `order_id`: queues a status check. not_found if unknown.
  asio::awaitable<common::Result<void>> payment_callback(std::string_view order_id);

  // An SMS delivery report. not_found if the message is unknown.
  asio::awaitable<common::Result<void>> delivery_report(std::string_view message_id,
                                                        std::string_view reference, int result_code,
                                                        store::DeliveryOutcome outcome);

  asio::awaitable<common::Result<std::vector<store::DeadOutboxItem>>> dead_letters(int limit);
  // not_found when `id` is not a dead letter (or its session has live work of that kind).
  asio::awaitable<common::Result<void>> retry(std::int64_t id);

 private:
  store::PaymentStore& payments_;
  store::OutboxStore& outbox_;
  const ports::Clock& clock_;
  common::Logger& log_;
  std::function<void()> nudge_;
};

}  // namespace visitpay::app
