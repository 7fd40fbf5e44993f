#include "workers/periodic_task.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>

namespace visitpay::workers {

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr const char* kFailures = "visitpay_worker_failures_total";
}  // namespace

PeriodicTask::PeriodicTask(const asio::any_io_executor& executor, PeriodicTaskOptions options,
                           Pass pass, common::Logger& log, common::Metrics& metrics)
    : strand_(asio::make_strand(executor)),
      timer_(strand_),
      ended_(strand_, asio::steady_timer::time_point::max()),
      options_(std::move(options)),
      pass_(std::move(pass)),
      log_(log),
      metrics_(metrics),
      backoff_(options_.first_backoff) {
  metrics_.describe(kFailures, common::Metrics::Type::counter,
                    "Passes of a background worker that ended in an exception");
}

void PeriodicTask::start() {
  if (running_.exchange(true)) return;
  asio::co_spawn(strand_, loop(), asio::detached);
}

void PeriodicTask::stop() {
  stopping_ = true;
  asio::post(strand_, [this] { timer_.cancel(); });
}

void PeriodicTask::nudge() {
  nudged_ = true;
  asio::post(strand_, [this] {
    if (!backing_off_) timer_.cancel();
  });
}

asio::awaitable<void> PeriodicTask::ended() {
  // Checked and awaited on the strand, where the loop clears running_ and cancels ended_.
  co_await asio::co_spawn(
      strand_,
      [this]() -> asio::awaitable<void> {
        if (running_) co_await ended_.async_wait(kAwait);
      },
      asio::use_awaitable);
}

void PeriodicTask::record_failure(std::string_view what) {
  failures_++;
  metrics_.add(kFailures, common::Metrics::label("worker", options_.name));
  // what() comes from our own code and libraries (no personal data is put into exceptions).
  log_.error("worker.failed", {{"worker", options_.name},
                               {"error", what},
                               {"retry_in_ms", static_cast<long long>(backoff_.count())}});
}

asio::awaitable<std::chrono::milliseconds> PeriodicTask::guarded_pass() {
  nudged_ = false;  // a nudge from here on asks for another pass
  try {
    const auto result = co_await pass_();
    passes_++;
    backoff_ = options_.first_backoff;
    backing_off_ = false;
    if (result.more || nudged_.exchange(false)) co_return options_.pause_after_full;
    co_return options_.interval;
  } catch (const std::exception& e) {
    record_failure(e.what());
  } catch (...) {
    record_failure("unknown exception");
  }
  const auto wait = backoff_;
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
  backing_off_ = true;
  co_return wait;
}

asio::awaitable<void> PeriodicTask::loop() {
  while (!stopping_) {
    const auto wait = co_await guarded_pass();
    if (stopping_) break;
    timer_.expires_after(wait);
    co_await timer_.async_wait(kAwait);  // cut short by nudge() and stop()
  }
  running_ = false;
  ended_.cancel();
}

}  // namespace visitpay::workers
