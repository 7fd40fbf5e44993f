#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "common/log.hpp"
#include "common/metrics.hpp"

namespace visitpay::workers {

namespace asio = boost::asio;

// What one pass of a periodic task found.
struct PassResult {
  bool more = false;  // the batch was full: more work is due now
};

struct PeriodicTaskOptions {
  std::string name;  // log field and metric label: "reconciler", "deadline_sweeper", ...
  std::chrono::milliseconds interval{1000};
  // After a full batch the next pass starts this soon: drains a backlog quickly while leaving
  // the strand, the pool and the other instances a breath (never a hot loop).
  std::chrono::milliseconds pause_after_full{50};
  // After a pass threw: the first wait, doubled per failure in a row up to max_backoff.
  std::chrono::milliseconds first_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(1)};
};

// The usual options: a name and an interval, the rest as defaulted above.
inline PeriodicTaskOptions every(std::string name, std::chrono::milliseconds interval) {
  PeriodicTaskOptions o;
  o.name = std::move(name);
  o.interval = interval;
  return o;
}

// Runs a named pass every interval on its own strand, for the life of the service. The loop
// cannot die quietly: an exception escaping a pass is caught, logged (`worker.failed`), counted
// in visitpay_worker_failures_total{worker=...}, and the loop goes on after a growing backoff.
class PeriodicTask {
 public:
  using Pass = std::function<asio::awaitable<PassResult>()>;

  PeriodicTask(const asio::any_io_executor& executor, PeriodicTaskOptions options, Pass pass,
               common::Logger& log, common::Metrics& metrics);
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

  void start();
  void stop();   // the loop ends after the pass in progress, if any
  void nudge();  // pass now instead of after the interval (not while backing off a failure)
  // Completes once the loop has ended (at once when it never started). For shutdown: the
  // caller closes what the pass uses (the pool) only after this.
  asio::awaitable<void> ended();

  const std::string& name() const { return options_.name; }
  std::int64_t failures() const { return failures_.load(); }
  std::int64_t passes() const { return passes_.load(); }

 private:
  asio::awaitable<void> loop();
  // The exception barrier around one pass: the wait before the next one.
  asio::awaitable<std::chrono::milliseconds> guarded_pass();
  void record_failure(std::string_view what);

  asio::strand<asio::any_io_executor> strand_;
  asio::steady_timer timer_;  // the wait between passes
  asio::steady_timer ended_;  // never expires; cancelled when the loop ends
  PeriodicTaskOptions options_;
  Pass pass_;
  common::Logger& log_;
  common::Metrics& metrics_;
  std::chrono::milliseconds backoff_;
  bool backing_off_ = false;  // on the strand
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> nudged_{false};
  std::atomic<std::int64_t> failures_{0};
  std::atomic<std::int64_t> passes_{0};
};

}  // namespace visitpay::workers
