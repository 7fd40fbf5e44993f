#pragma once

#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <functional>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "ports/clock.hpp"
#include "store/lifecycle_store.hpp"
#include "workers/periodic_task.hpp"

namespace visitpay::workers {

namespace asio = boost::asio;

// The lifecycle's watchdog, on every instance (every lifecycle.watch_interval): each pass gives
// stranded sessions their exit (an open session with no live work that could move it, e.g. after a
// dead letter, gets the `stranded` event) and counts the sessions past their state's bound for
// visitpay_sessions_overdue{state}.
class LifecycleWatch {
 public:
  LifecycleWatch(const asio::any_io_executor& executor, store::LifecycleStore& lifecycle,
                 const config::LifecycleConfig& config, const ports::Clock& clock,
                 common::Logger& log, common::Metrics& metrics, std::function<void()> nudge);

  void start() { task_.start(); }
  void stop() { task_.stop(); }
  asio::awaitable<void> ended() { return task_.ended(); }
  asio::awaitable<std::int64_t> run_once();  // sessions repaired

  // Sessions past their bound by state (pending, awaiting_payment, invoicing), as of the last
  // pass, over all instances.
  std::int64_t overdue(domain::SessionState state) const;

 private:
  store::LifecycleStore& lifecycle_;
  config::LifecycleConfig config_;
  const ports::Clock& clock_;
  common::Logger& log_;
  common::Metrics& metrics_;
  std::function<void()> nudge_;
  std::array<std::atomic<std::int64_t>, 3> overdue_{};
  PeriodicTask task_;  // last: its pass uses the members above
};

}  // namespace visitpay::workers
