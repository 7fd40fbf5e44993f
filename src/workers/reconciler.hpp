#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "ports/clock.hpp"
#include "store/outbox_store.hpp"
#include "store/payment_store.hpp"
#include "workers/periodic_task.hpp"

namespace visitpay::workers {

// Polls the provider for awaiting sessions whose status was not checked for a while (callbacks
// are a fail-safe, not the truth), and keeps the gauges of dead letters and of payments on
// cancelled sessions fresh for /metrics.
class Reconciler {
 public:
  Reconciler(const asio::any_io_executor& executor, store::PaymentStore& payments,
             store::OutboxStore& outbox, const config::ReconcileConfig& config,
             const ports::Clock& clock, common::Logger& log, common::Metrics& metrics,
             std::function<void()> nudge);

  void start() { task_.start(); }
  void stop() { task_.stop(); }
  asio::awaitable<void> ended() { return task_.ended(); }
  asio::awaitable<std::int64_t> run_once();  // sync items queued

  // Gauges over all instances, as of the last pass.
  std::int64_t dead_letters() const { return dead_.load(); }
  std::int64_t oldest_due_seconds() const { return oldest_due_seconds_.load(); }
  std::int64_t paid_after_close() const { return paid_after_close_.load(); }

 private:
  store::PaymentStore& payments_;
  store::OutboxStore& outbox_;
  config::ReconcileConfig config_;
  const ports::Clock& clock_;
  common::Logger& log_;
  std::function<void()> nudge_;
  std::atomic<std::int64_t> dead_{0};
  std::atomic<std::int64_t> oldest_due_seconds_{0};
  std::atomic<std::int64_t> paid_after_close_{0};
  PeriodicTask task_;  // last: its pass uses the members above
};

}  // namespace visitpay::workers
