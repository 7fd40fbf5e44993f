#include "workers/purger.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace visitpay::workers {

Purger::Purger(const asio::any_io_executor& executor, store::PrivacyStore& privacy,
               store::RetentionPolicy policy, std::chrono::milliseconds interval, int batch,
               const ports::Clock& clock, common::Logger& log, common::Metrics& metrics)
    : timer_(asio::make_strand(executor)),
      privacy_(privacy),
      policy_(policy),
      interval_(interval),
      batch_(batch),
      clock_(clock),
      log_(log),
      metrics_(metrics) {
  metrics_.describe("visitpay_purged_sessions_total", common::Metrics::Type::counter,
                    "Sessions whose payer data (a key class or both) was destroyed");
}

void Purger::start() {
  asio::co_spawn(timer_.get_executor(), loop(), asio::detached);
}

void Purger::stop() {
  stopping_ = true;
  asio::post(timer_.get_executor(), [this] { timer_.cancel(); });
}

void Purger::nudge() {
  asio::post(timer_.get_executor(), [this] { timer_.cancel(); });
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

asio::awaitable<void> Purger::loop() {
  while (!stopping_) {
    co_await run_once();  // drains what is due
    if (stopping_) break;
    timer_.expires_after(interval_);
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace visitpay::workers
