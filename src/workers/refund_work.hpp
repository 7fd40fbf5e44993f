#pragma once

#include <boost/asio/awaitable.hpp>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "ports/clock.hpp"
#include "store/payment_store.hpp"
#include "store/refund_store.hpp"
#include "workers/outbox_dispatcher.hpp"
#include "workers/payment_work.hpp"

namespace visitpay::workers {

struct RefundWorkDeps {
  store::RefundStore& refunds;
  store::PaymentStore& payments;
  const ProviderDirectory& providers;
  const ports::Clock& clock;
  common::Logger& log;
  common::Metrics& metrics;
};

// The outbox work that returns money (cancel_payment after a payment on a cancelled session,
// reverse_payment after finance's refund): the session's requested payment operations, oldest
// first, each carried out at the provider by app::carry_out. Safe to repeat: an operation the
// order already lists (by its payeeReference) is recorded as done, never sent again. No answer
// -> the work is tried again (and stops at that operation, so they happen in order); a refusal
// for good -> that operation fails, audited and counted, and finance sees why. Once the retry
// budget is spent the operation fails too, rather than waiting forever in the dead letters.
class RefundWork {
 public:
  explicit RefundWork(RefundWorkDeps deps);
  RefundWork(const RefundWork&) = delete;
  RefundWork& operator=(const RefundWork&) = delete;

  void register_with(OutboxDispatcher& dispatcher);
  asio::awaitable<OutboxOutcome> carry_out(const store::OutboxItem& item);

 private:
  // Records the end of one operation (done or failed), logged and counted.
  asio::awaitable<common::Result<void>> finish(const store::PaymentOperationRecord& op,
                                               domain::PaymentOperationStatus status,
                                               std::optional<std::string> provider_reference,
                                               std::optional<std::string> error);
  asio::awaitable<OutboxOutcome> fail_all(const std::vector<store::PaymentOperationRecord>& ops,
                                          std::string why);

  RefundWorkDeps d_;
};

}  // namespace visitpay::workers
