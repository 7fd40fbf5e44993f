#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "ports/clock.hpp"
#include "store/privacy_store.hpp"

namespace visitpay::workers {

namespace asio = boost::asio;

// Applies the retention policy every `interval` on each instance (the rules claim rows with
// SKIP LOCKED, so instances share the work); a full batch goes on at once.
class Purger {
 public:
  Purger(const asio::any_io_executor& executor, store::PrivacyStore& privacy,
         store::RetentionPolicy policy, std::chrono::milliseconds interval, int batch,
         const ports::Clock& clock, common::Logger& log, common::Metrics& metrics);

  void start();
  void stop();
  void nudge();  // look now instead of after the interval (tests moving a manual clock)
  asio::awaitable<std::int64_t> run_once();  // sessions purged

 private:
  asio::awaitable<void> loop();

  asio::steady_timer timer_;
  store::PrivacyStore& privacy_;
  store::RetentionPolicy policy_;
  std::chrono::milliseconds interval_;
  int batch_;
  const ports::Clock& clock_;
  common::Logger& log_;
  common::Metrics& metrics_;
  std::atomic<bool> stopping_{false};
};

}  // namespace visitpay::workers
