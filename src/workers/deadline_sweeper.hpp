#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "ports/clock.hpp"
#include "store/invoice_store.hpp"
#include "workers/periodic_task.hpp"

namespace visitpay::workers {

// Finds sessions whose payment window has closed (and those marked for an invoice at once) and
// queues their invoice work. Runs every invoices.sweep_interval on each instance; the claim
// (SKIP LOCKED) lets several instances share the work. Also keeps the review-queue gauge fresh.
class DeadlineSweeper {
 public:
  DeadlineSweeper(const asio::any_io_executor& executor, store::InvoiceStore& invoices,
                  const config::InvoiceConfig& config, const ports::Clock& clock,
                  common::Logger& log, common::Metrics& metrics, std::function<void()> nudge);

  void start() { task_.start(); }
  void stop() { task_.stop(); }
  asio::awaitable<void> ended() { return task_.ended(); }
  asio::awaitable<std::int64_t> run_once();  // sessions queued

  std::int64_t pending_review() const { return pending_review_.load(); }
  std::int64_t oldest_review_seconds() const { return oldest_review_seconds_.load(); }

 private:
  asio::awaitable<PassResult> pass();

  store::InvoiceStore& invoices_;
  config::InvoiceConfig config_;
  const ports::Clock& clock_;
  common::Logger& log_;
  std::function<void()> nudge_;
  std::atomic<std::int64_t> pending_review_{0};
  std::atomic<std::int64_t> oldest_review_seconds_{0};
  int passes_ = 0;     // on the task's strand
  PeriodicTask task_;  // last: its pass uses the members above
};

}  // namespace visitpay::workers
