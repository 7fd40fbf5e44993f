#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "ports/clock.hpp"
#include "store/outbox_store.hpp"
#include "workers/outbox_completions.hpp"
#include "workers/periodic_task.hpp"

namespace visitpay::workers {

namespace asio = boost::asio;

// What became of one attempt at an outbox item. A failure (retry_later, from_error) spends the
// kind's retry budget; a wait (wait_until, look_again) is deliberate and does not.
struct OutboxOutcome {
  enum class Kind { done, retry, wait, dead };
  Kind kind = Kind::done;
  std::string error;  // or why it waits; no personal data
  // retry: the provider's Retry-After, if any; wait: how long from now (look_again).
  std::optional<std::chrono::milliseconds> retry_after;
  std::optional<domain::Timestamp> not_before;  // wait: e.g. the end of quiet hours

  static OutboxOutcome success() { return {}; }
  // A failed attempt: tried again after a backoff until the budget is spent.
  static OutboxOutcome retry_later(std::string error,
                                   std::optional<std::chrono::milliseconds> retry_after = {}) {
    return {Kind::retry, std::move(error), retry_after, std::nullopt};
  }
  // Nothing failed; the work is due again at `when` (quiet hours, a delivery report, a window
  // still open).
  static OutboxOutcome wait_until(domain::Timestamp when, std::string why) {
    return {Kind::wait, std::move(why), std::nullopt, when};
  }
  // Nothing failed; look again after `delay` (e.g. the provider refuses the abort while the
  // payer is in the Vipps app). The handler vouches that this is not a failure in disguise.
  static OutboxOutcome look_again(std::chrono::milliseconds delay, std::string why) {
    return {Kind::wait, std::move(why), delay, std::nullopt};
  }
  static OutboxOutcome give_up(std::string error) {
    return {Kind::dead, std::move(error), std::nullopt, std::nullopt};
  }
  // A provider's permanent refusal ends the item; anything else is tried again later, never
  // earlier than the provider's Retry-After.
  static OutboxOutcome from_error(const common::Error& e) {
    if (e.code == common::ErrorCode::provider_rejected) return give_up(e.detail);
    return retry_later(e.detail, e.retry_after);
  }
};

// Performs one kind of outbox work. Must be safe to repeat: delivery is at-least-once.
class OutboxHandler {
 public:
  virtual ~OutboxHandler() = default;
  virtual asio::awaitable<OutboxOutcome> handle(const store::OutboxItem& item) = 0;
};

struct DispatcherOptions {
  std::string owner;     // unique per instance, e.g. host:pid:random
  int claim_batch = 64;  // items per claim statement
  int max_in_flight = 128;
  std::chrono::milliseconds lease{15000};  // database time; renewed while a handler runs
  std::chrono::milliseconds poll_interval{500};
  // After a claim that filled its batch, or was asked for while it ran, the next claim comes
  // this soon: short enough not to cap throughput (claim_batch per pause), long enough that
  // the items finishing meanwhile are claimed for together.
  std::chrono::milliseconds claim_pause{5};
  std::chrono::milliseconds base_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(10)};
  store::RetryBudgets budgets;  // how long each kind may go on failing
  // Upkeep: done and cancelled rows older than this are deleted, janitor_batch per statement.
  std::chrono::seconds retention{std::chrono::hours(24 * 7)};
  std::chrono::milliseconds janitor_interval{std::chrono::minutes(5)};
  int janitor_batch = 1000;
};

// Claims due outbox items in batches (FOR UPDATE SKIP LOCKED, leases renewed while a handler
// runs), runs up to max_in_flight handlers at once and records each outcome: done (items that
// finish together share one statement, see OutboxCompletions), a wait, a failure tried again
// after exponential backoff with jitter (never earlier than a provider's Retry-After), or the
// dead letters once the kind's retry budget (a time horizon) is spent. Neither a throwing handler
// nor a failing claim ends the loops. Several instances may run against one database.
class OutboxDispatcher {
 public:
  OutboxDispatcher(const asio::any_io_executor& executor, store::OutboxStore& outbox,
                   const ports::Clock& clock, common::Logger& log, common::Metrics& metrics,
                   DispatcherOptions options);

  void add_handler(const std::string& kind, OutboxHandler& handler);
  // The same for a function (e.g. a member of a work class bound to it); the dispatcher keeps it.
  using HandlerFunction = std::function<asio::awaitable<OutboxOutcome>(const store::OutboxItem&)>;
  void add_handler(const std::string& kind, HandlerFunction handler);
  bool has_handler(std::string_view kind) const { return handlers_.count(kind) > 0; }
  void start();
  void stop();   // no new claims; items in flight run on (see shutdown)
  void nudge();  // new work was committed: look now instead of at the next poll
  // Stops claiming, waits up to `grace` for the items in flight to be recorded and for the
  // loops to end. False if items were still running at the deadline (their leases run out and
  // another instance takes them over).
  asio::awaitable<bool> shutdown(std::chrono::milliseconds grace);

  // One claim of a batch, processed to completion; the items handed out (tests drive the
  // dispatcher with it and a manual clock).
  asio::awaitable<int> run_once();
  // One statement of the janitor: rows deleted (at most janitor_batch).
  asio::awaitable<std::int64_t> clean_once();

  std::int64_t dead_letters() const { return dead_letters_.load(); }
  int in_flight() const { return in_flight_.load(); }
  // Completion statements sent (several finished items share one under load).
  std::int64_t completion_statements() const { return completions_.statements(); }

  // The delay before attempt `attempt + 1` (attempt counts from 1), before jitter.
  static std::chrono::milliseconds backoff(const DispatcherOptions& options, int attempt);

 private:
  asio::awaitable<PassResult> claim_pass();
  asio::awaitable<PassResult> janitor_pass();
  // Claims up to `limit` items; poisoned ones are logged and counted here.
  asio::awaitable<std::vector<store::OutboxItem>> claim(int limit);
  asio::awaitable<void> process_all(std::vector<store::OutboxItem> items);
  void spawn(store::OutboxItem item);  // counted in flight until recorded
  // The exception barrier around one item: never throws.
  asio::awaitable<void> process(store::OutboxItem item);
  struct Attempt {
    OutboxOutcome outcome;
    std::optional<std::string> thrown;  // what() of an exception that escaped the handler
  };
  static asio::awaitable<Attempt> attempt(OutboxHandler& handler, const store::OutboxItem& item);
  asio::awaitable<Attempt> run_handler(const store::OutboxItem& item);
  asio::awaitable<std::string> record(const store::OutboxItem& item, const OutboxOutcome& outcome);
  asio::awaitable<void> keep_lease(std::int64_t id);
  domain::Timestamp next_attempt(const store::OutboxItem& item, const OutboxOutcome& outcome);
  void item_finished();

  asio::strand<asio::any_io_executor> strand_;  // handlers and the in-flight bookkeeping
  store::OutboxStore& outbox_;
  const ports::Clock& clock_;
  common::Logger& log_;
  common::Metrics& metrics_;
  DispatcherOptions options_;
  std::map<std::string, OutboxHandler*, std::less<>> handlers_;
  std::vector<std::unique_ptr<OutboxHandler>> owned_handlers_;
  asio::steady_timer idle_;        // cancelled (on the strand) when the last item in flight ends
  OutboxCompletions completions_;  // on the strand
  std::atomic<int> in_flight_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<std::int64_t> dead_letters_{0};
  PeriodicTask claimer_;
  PeriodicTask janitor_;
};

}  // namespace visitpay::workers
