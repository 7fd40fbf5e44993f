#include "workers/purger.hpp"

namespace visitpay::workers {

Purger::Purger(const asio::any_io_executor& executor, store::PrivacyStore& privacy,
               store::RetentionPolicy policy, std::chrono::milliseconds interval, int batch,
               const ports::Clock& clock, common::Logger& log, common::Metrics& metrics)
    : privacy_(privacy),
      policy_(policy),
      batch_(batch),
      clock_(clock),
      log_(log),
      metrics_(metrics),
      task_(
          executor, every("purger", interval),
          [this]() -> asio::awaitable<PassResult> {
            co_await run_once();  // purge_due drains what is due: nothing left for now
            co_return PassResult{};
          },
          log, metrics) {
  metrics_.describe("visitpay_purged_sessions_total", common::Metrics::Type::counter,
                    "Sessions whose payer data (a key class or both) was destroyed");
}

asio::awaitable<std::int64_t> Purger::run_once() {
  auto purged = co_await privacy_.purge_due(policy_, clock_.now(), batch_);
  if (!purged) {
    log_.warn("privacy.purge_failed", {{"detail", purged.error().detail}});
    co_return 0;
  }
  if (*purged > 0) {
    metrics_.add("visitpay_purged_sessions_total", "", static_cast<double>(*purged));
    log_.info("privacy.purged", {{"sessions", static_cast<long long>(*purged)}});
  }
  co_return *purged;
}

}  // namespace visitpay::workers
