#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <functional>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "ports/clock.hpp"
#include "store/reminder_store.hpp"
#include "workers/periodic_task.hpp"

namespace visitpay::workers {

// The reminder schedule (domain/dunning.hpp): every invoices.reminder_interval on each instance,
// looks at the issued invoices of clinics with reminders whose next look is due on the Clock's
// Oslo date, and takes each one's next step (purring, inkassovarsel, hand-off to collection) in
// one transaction with its history event and delivery work. A paid invoice is no longer issued,
// so the schedule stops by itself; instances share the work (SKIP LOCKED).
class ReminderScheduler {
 public:
  ReminderScheduler(const asio::any_io_executor& executor, store::ReminderStore& reminders,
                    const config::Config& config, const ports::Clock& clock, common::Logger& log,
                    common::Metrics& metrics, std::function<void()> nudge);

  void start() { task_.start(); }
  void stop() { task_.stop(); }
  void nudge() { task_.nudge(); }
  asio::awaitable<void> ended() { return task_.ended(); }
  asio::awaitable<std::int64_t> run_once();  // steps taken

 private:
  asio::awaitable<PassResult> pass();

  store::ReminderStore& reminders_;
  const config::Config& config_;
  const ports::Clock& clock_;
  common::Logger& log_;
  common::Metrics& metrics_;
  std::function<void()> nudge_;
  std::vector<std::string> clinics_;  // those with reminders enabled
  std::atomic<bool> full_{false};     // the last pass's batch was full
  PeriodicTask task_;                 // last: its pass uses the members above
};

}  // namespace visitpay::workers
