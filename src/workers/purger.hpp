#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "ports/clock.hpp"
#include "store/privacy_store.hpp"
#include "workers/periodic_task.hpp"

namespace visitpay::workers {

// Applies the retention policy every `interval` on each instance (the rules claim rows with
// SKIP LOCKED, so instances share the work); a full batch goes on soon.
class Purger {
 public:
  Purger(const asio::any_io_executor& executor, store::PrivacyStore& privacy,
         store::RetentionPolicy policy, std::chrono::milliseconds interval, int batch,
         const ports::Clock& clock, common::Logger& log, common::Metrics& metrics);

  void start() { task_.start(); }
  void stop() { task_.stop(); }
  void nudge() { task_.nudge(); }  // look now (tests moving a manual clock)
  asio::awaitable<void> ended() { return task_.ended(); }
  asio::awaitable<std::int64_t> run_once();  // sessions purged

 private:
  store::PrivacyStore& privacy_;
  store::RetentionPolicy policy_;
  int batch_;
  const ports::Clock& clock_;
  common::Logger& log_;
  common::Metrics& metrics_;
  std::atomic<std::int64_t> held_{0};  // past the policy, as of the last count
  int passes_ = 0;                     // on the task's strand
  PeriodicTask task_;                  // last: its pass uses the members above
};

}  // namespace visitpay::workers
