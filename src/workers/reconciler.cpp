#include "workers/reconciler.hpp"

namespace visitpay::workers {

Reconciler::Reconciler(const asio::any_io_executor& executor, store::PaymentStore& payments,
                       store::OutboxStore& outbox, const config::ReconcileConfig& config,
                       const ports::Clock& clock, common::Logger& log, common::Metrics& metrics,
                       std::function<void()> nudge)
    : payments_(payments),
      outbox_(outbox),
      config_(config),
      clock_(clock),
      log_(log),
      nudge_(std::move(nudge)),
      task_(
          executor, every("reconciler", config_.interval),
          [this]() -> asio::awaitable<PassResult> {
            // A full batch means more are due: go on soon.
            const auto queued = co_await run_once();
            co_return PassResult{queued >= config_.batch};
          },
          log, metrics) {}

asio::awaitable<std::int64_t> Reconciler::run_once() {
  const auto now = clock_.now();
  auto queued = co_await payments_.enqueue_due_checks(config_.batch, now);
  if (!queued) {
    log_.warn("reconcile.failed", {{"detail", queued.error().detail}});
    co_return 0;
  }
  // Orders left open behind an ended session are asked about hourly.
  if (auto open = co_await payments_.enqueue_open_orders_of_ended(std::chrono::hours(1),
                                                                  config_.batch, now)) {
    *queued += *open;
  } else {
    log_.warn("reconcile.failed", {{"detail", open.error().detail}});
  }
  if (*queued > 0) {
    log_.info("reconcile.queued", {{"sessions", static_cast<long long>(*queued)}});
    if (nudge_) nudge_();
  }
  if (auto dead = co_await outbox_.count_dead()) dead_ = *dead;
  if (auto lag = co_await outbox_.oldest_due_seconds(now)) oldest_due_seconds_ = *lag;
  if (auto late = co_await payments_.count_paid_after_close()) paid_after_close_ = *late;
  co_return *queued;
}

}  // namespace visitpay::workers
