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

namespace visitpay::workers {

namespace asio = boost::asio;

// What became of one attempt at an outbox item.
struct OutboxOutcome {
  enum class Kind { done, retry, dead };
  Kind kind = Kind::done;
  std::string error;                                     // no personal data
  std::optional<std::chrono::milliseconds> retry_after;  // the provider's wish, if any
  std::optional<domain::Timestamp> not_before;           // e.g. the end of quiet hours

  static OutboxOutcome success() { return {}; }
  static OutboxOutcome retry_later(std::string error,
                                   std::optional<std::chrono::milliseconds> retry_after = {}) {
    return {Kind::retry, std::move(error), retry_after, std::nullopt};
  }
  static OutboxOutcome wait_until(domain::Timestamp when, std::string why) {
    return {Kind::retry, std::move(why), std::nullopt, when};
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
  std::string owner;  // unique per instance, e.g. host:pid:random
  int concurrency = 4;
  std::chrono::milliseconds lease{15000};
  std::chrono::milliseconds poll_interval{500};
  int max_attempts = 8;
  std::chrono::milliseconds base_backoff{1000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(10)};
};

// Claims due outbox items (FOR UPDATE SKIP LOCKED, short leases renewed while a handler runs),
// runs their handler and records the outcome: done, another attempt with exponential backoff and
// jitter (never earlier than a provider's Retry-After), or the dead letters after
// max_attempts. Several instances may run against one database.
class OutboxDispatcher {
 public:
  OutboxDispatcher(const asio::any_io_executor& executor, store::OutboxStore& outbox,
                   const ports::Clock& clock, common::Logger& log, common::Metrics& metrics,
                   DispatcherOptions options);

  void add_handler(const std::string& kind, OutboxHandler& handler);
  // The same for a function (e.g. a member of a work class bound to it); the dispatcher keeps it.
  using HandlerFunction = std::function<asio::awaitable<OutboxOutcome>(const store::OutboxItem&)>;
  void add_handler(const std::string& kind, HandlerFunction handler);
  void start();
  void stop();   // loops end after their current item
  void nudge();  // new work was committed: look now instead of at the next poll

  // One claim-and-process pass (tests drive the dispatcher with it and a manual clock).
  asio::awaitable<int> run_once();

  std::int64_t dead_letters() const { return dead_letters_.load(); }

  // The delay before attempt `attempt + 1` (attempt counts from 1), before jitter.
  static std::chrono::milliseconds backoff(const DispatcherOptions& options, int attempt);

 private:
  asio::awaitable<void> loop(std::shared_ptr<asio::steady_timer> wake);
  asio::awaitable<void> process(const store::OutboxItem& item);
  asio::awaitable<void> keep_lease(std::int64_t id);
  domain::Timestamp next_attempt(const store::OutboxItem& item, const OutboxOutcome& outcome);

  asio::strand<asio::any_io_executor> strand_;
  store::OutboxStore& outbox_;
  const ports::Clock& clock_;
  common::Logger& log_;
  common::Metrics& metrics_;
  DispatcherOptions options_;
  std::map<std::string, OutboxHandler*, std::less<>> handlers_;
  std::vector<std::unique_ptr<OutboxHandler>> owned_handlers_;
  std::vector<std::shared_ptr<asio::steady_timer>> wakers_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::int64_t> dead_letters_{0};
};

}  // namespace visitpay::workers
