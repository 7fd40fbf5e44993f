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
            // What is still held past the policy after a pass is the purge lag (a gauge that
            // needs no per-pass freshness).
            if (passes_++ % 12 == 0) {
              const auto now = clock_.now();
              if (auto held = co_await privacy_.held_past_policy(policy_, now)) held_ = *held;
            }
            co_return PassResult{};
          },
          log, metrics) {
  metrics_.describe("visitpay_purged_sessions_total", common::Metrics::Type::counter,
                    "Sessions whose payer data (a key class or both) was destroyed");
  metrics_.add_collector([this](std::string& out) {
    out +=
        "# HELP visitpay_privacy_held_past_policy_sessions Sessions holding payer data past the "
        "retention policy after the last purge pass (all instances)\n"
        "# TYPE visitpay_privacy_held_past_policy_sessions gauge\n"
        "visitpay_privacy_held_past_policy_sessions " +
        std::to_string(held_.load()) + "\n";
  });
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
