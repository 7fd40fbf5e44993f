#include "workers/deadline_sweeper.hpp"

namespace visitpay::workers {

DeadlineSweeper::DeadlineSweeper(const asio::any_io_executor& executor,
                                 store::InvoiceStore& invoices, const config::InvoiceConfig& config,
                                 const ports::Clock& clock, common::Logger& log,
                                 common::Metrics& metrics, std::function<void()> nudge)
    : invoices_(invoices),
      config_(config),
      clock_(clock),
      log_(log),
      nudge_(std::move(nudge)),
      task_(
          executor, every("deadline_sweeper", config_.sweep_interval), [this] { return pass(); },
          log, metrics) {}

asio::awaitable<std::int64_t> DeadlineSweeper::run_once() {
  auto queued = co_await invoices_.sweep(clock_.now(), config_.sweep_batch);
  if (!queued) {
    log_.warn("invoice.sweep_failed", {{"detail", queued.error().detail}});
    co_return 0;
  }
  if (*queued > 0) {
    log_.info("invoice.sweep", {{"sessions", static_cast<long long>(*queued)}});
    if (nudge_) nudge_();
  }
  co_return *queued;
}

asio::awaitable<PassResult> DeadlineSweeper::pass() {
  const auto queued = co_await run_once();
  // The gauge needs no per-second freshness.
  if (passes_++ % 10 == 0) {
    if (auto backlog = co_await invoices_.review_backlog(clock_.now())) {
      pending_review_ = backlog->pending;
      oldest_review_seconds_ = backlog->oldest_seconds;
    }
  }
  co_return PassResult{queued >= config_.sweep_batch};  // more are due: go on soon
}

}  // namespace visitpay::workers
