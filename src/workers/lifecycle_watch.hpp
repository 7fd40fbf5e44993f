#pragma once

#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "ports/clock.hpp"
#include "store/lifecycle_store.hpp"

namespace visitpay::workers {

namespace asio = boost::asio;

// The lifecycle's watchdog, on every instance: each pass gives stranded sessions their exit
// (an open session with no live work that could move it, e.g. after a dead letter, gets the
// `stranded` event) and counts the sessions past their state's bound for
// visitpay_sessions_overdue{state}.
class LifecycleWatch {
 public:
  LifecycleWatch(const asio::any_io_executor& executor, store::LifecycleStore& lifecycle,
                 const config::LifecycleConfig& config, const ports::Clock& clock,
                 common::Logger& log, common::Metrics& metrics, std::function<void()> nudge);

  void start();
  void stop();
  asio::awaitable<std::int64_t> run_once();  // sessions repaired

  // Sessions past their bound by state (pending, awaiting_payment, invoicing), as of the last
  // pass, over all instances.
  std::int64_t overdue(domain::SessionState state) const;

 private:
  asio::awaitable<void> loop();

  asio::steady_timer timer_;
  store::LifecycleStore& lifecycle_;
  config::LifecycleConfig config_;
  const ports::Clock& clock_;
  common::Logger& log_;
  common::Metrics& metrics_;
  std::function<void()> nudge_;
  std::atomic<bool> stopping_{false};
  std::array<std::atomic<std::int64_t>, 3> overdue_{};
};

}  // namespace visitpay::workers
