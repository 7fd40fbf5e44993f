#include "workers/outbox_dispatcher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <random>

namespace visitpay::workers {

using namespace boost::asio::experimental::awaitable_operators;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr const char* kAttempts = "visitpay_outbox_attempts_total";
constexpr std::size_t kMaxWhat = 200;  // of an exception's message, in logs and last_error

double jitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

class FunctionHandler final : public OutboxHandler {
 public:
  explicit FunctionHandler(OutboxDispatcher::HandlerFunction f) : f_(std::move(f)) {}
  asio::awaitable<OutboxOutcome> handle(const store::OutboxItem& item) override {
    co_return co_await f_(item);
  }

 private:
  OutboxDispatcher::HandlerFunction f_;
};

PeriodicTaskOptions claimer_options(const DispatcherOptions& o) {
  auto t = every("outbox_dispatcher", o.poll_interval);
  t.first_backoff = std::min(o.poll_interval * 2, t.max_backoff);
  t.pause_after_full = std::min(o.claim_pause, o.poll_interval);
  return t;
}

}  // namespace

OutboxDispatcher::OutboxDispatcher(const asio::any_io_executor& executor,
                                   store::OutboxStore& outbox, const ports::Clock& clock,
                                   common::Logger& log, common::Metrics& metrics,
                                   DispatcherOptions options)
    : strand_(asio::make_strand(executor)),
      outbox_(outbox),
      clock_(clock),
      log_(log),
      metrics_(metrics),
      options_(std::move(options)),
      idle_(strand_),
      completions_(strand_, outbox_, clock_, options_.owner),
      claimer_(
          executor, claimer_options(options_), [this] { return claim_pass(); }, log, metrics),
      janitor_(
          executor, every("outbox_janitor", options_.janitor_interval),
          [this] { return janitor_pass(); }, log, metrics) {
  metrics_.describe(kAttempts, common::Metrics::Type::counter,
                    "Outbox work attempts by kind and outcome (done, wait, retry, dead, poisoned, "
                    "lost_lease, record_failed)");
  metrics_.describe("visitpay_outbox_deleted_total", common::Metrics::Type::counter,
                    "Finished (done, cancelled) outbox rows deleted after outbox.retention");
}

void OutboxDispatcher::add_handler(const std::string& kind, HandlerFunction handler) {
  owned_handlers_.push_back(std::make_unique<FunctionHandler>(std::move(handler)));
  add_handler(kind, *owned_handlers_.back());
}

void OutboxDispatcher::add_handler(const std::string& kind, OutboxHandler& handler) {
  handlers_[kind] = &handler;
}

void OutboxDispatcher::start() {
  claimer_.start();
  janitor_.start();
}

void OutboxDispatcher::stop() {
  stopping_ = true;
  claimer_.stop();
  janitor_.stop();
}

void OutboxDispatcher::nudge() {
  claimer_.nudge();
}

std::chrono::milliseconds OutboxDispatcher::backoff(const DispatcherOptions& o, int attempt) {
  const int doublings = std::min(std::max(attempt - 1, 0), 30);
  const auto delay = o.base_backoff * (std::int64_t{1} << doublings);
  return std::min(delay, o.max_backoff);
}

domain::Timestamp OutboxDispatcher::next_attempt(const store::OutboxItem& item,
                                                 const OutboxOutcome& outcome) {
  const auto now = clock_.now();
  if (outcome.kind == OutboxOutcome::Kind::wait) {
    if (outcome.not_before) return *outcome.not_before;
    return now + std::chrono::microseconds(outcome.retry_after.value_or(options_.base_backoff));
  }
  // Equal jitter: at least half the backoff, the rest random, so attempts that failed together
  // spread out while the delay still grows.
  const auto base = backoff(options_, item.attempts);
  auto next =
      now + std::chrono::duration_cast<std::chrono::microseconds>(base / 2 + base * jitter() / 2);
  // The last attempt comes when the budget ends (and is told it is the last chance) rather
  // than a backoff after it; a provider's Retry-After still wins.
  const auto horizon = item.failing_since.value_or(now) + options_.budgets.of(item.kind);
  next = std::max(std::min(next, horizon), now);
  if (outcome.retry_after)
    next = std::max(next, now + std::chrono::microseconds(*outcome.retry_after));
  return next;
}

asio::awaitable<void> OutboxDispatcher::keep_lease(std::int64_t id) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(options_.lease / 3);
    auto [ec] = co_await timer.async_wait(kAwait);
    if (ec) co_return;
    auto renewed = co_await outbox_.renew(id, options_.owner, options_.lease);
    if (renewed && !*renewed) co_return;  // lost: the handler's result will be fenced off
  }
}

// Catches inside the race below: Asio's `||` waits for the first operand to *succeed*, so an
// exception escaping the handler would leave it waiting for keep_lease, which never ends.
asio::awaitable<OutboxDispatcher::Attempt> OutboxDispatcher::attempt(
    OutboxHandler& handler, const store::OutboxItem& item) {
  // One named result, returned once: GCC 12 mishandles braced temporaries in co_await and
  // co_return expressions (double destruction, and at -O3 "maybe uninitialized" strings).
  Attempt result;
  try {
    result.outcome = co_await handler.handle(item);
  } catch (const std::exception& e) {
    result.thrown = std::string(e.what()).substr(0, kMaxWhat);
  } catch (...) {
    result.thrown = "unknown exception";
  }
  co_return result;
}

asio::awaitable<OutboxDispatcher::Attempt> OutboxDispatcher::run_handler(
    const store::OutboxItem& item) {
  auto found = handlers_.find(item.kind);
  if (found == handlers_.end()) {
    Attempt refused;
    refused.outcome = OutboxOutcome::give_up("no handler for kind " + item.kind);
    co_return refused;
  }
  auto raced = co_await (attempt(*found->second, item) || keep_lease(item.id));
  if (raced.index() == 0) co_return std::get<0>(std::move(raced));
  Attempt lapsed;
  lapsed.outcome = OutboxOutcome::retry_later("lease renewal ended early");
  co_return lapsed;
}

asio::awaitable<std::string> OutboxDispatcher::record(const store::OutboxItem& item,
                                                      const OutboxOutcome& outcome) {
  const auto now = clock_.now();
  using Kind = OutboxOutcome::Kind;
  if (outcome.kind == Kind::done || outcome.kind == Kind::wait) {
    const bool done = outcome.kind == Kind::done;
    common::Result<bool> recorded = false;
    // (No co_await inside ?: here: GCC 12 miscompiles that in coroutines.)
    if (done) {
      recorded = co_await completions_.complete(item.id);
    } else {
      recorded = co_await outbox_.wait(item.id, options_.owner, outcome.error,
                                       next_attempt(item, outcome), now);
    }
    if (!recorded) {
      log_.warn("outbox.record_failed", {{"outbox_id", static_cast<long long>(item.id)},
                                         {"detail", recorded.error().detail}});
      co_return "record_failed";
    }
    co_return !*recorded ? "lost_lease" : done ? "done" : "wait";
  }
  const bool permanent = outcome.kind == Kind::dead;
  auto recorded =
      co_await outbox_.fail(item.id, options_.owner, outcome.error, next_attempt(item, outcome),
                            options_.budgets.of(item.kind), permanent, now);
  if (!recorded) {
    log_.warn("outbox.record_failed", {{"outbox_id", static_cast<long long>(item.id)},
                                       {"detail", recorded.error().detail}});
    co_return "record_failed";
  }
  switch (*recorded) {
    case store::FailRecord::lost_lease:
      co_return "lost_lease";
    case store::FailRecord::retry:
      co_return "retry";
    case store::FailRecord::dead:
      break;
  }
  dead_letters_++;
  log_.warn("outbox.dead_letter", {{"outbox_id", static_cast<long long>(item.id)},
                                   {"session_id", item.session_id},
                                   {"kind", item.kind},
                                   {"attempts", item.attempts},
                                   {"reason", permanent ? "given up" : "budget spent"},
                                   {"error", outcome.error}});
  co_return "dead";
}

asio::awaitable<void> OutboxDispatcher::process(store::OutboxItem item) {
  Attempt attempted;
  try {
    attempted = co_await run_handler(item);
  } catch (const std::exception& e) {  // e.g. bad_alloc around the handler
    attempted.thrown = std::string(e.what()).substr(0, kMaxWhat);
  }
  auto& outcome = attempted.outcome;
  const auto& thrown = attempted.thrown;
  if (thrown) {
    // A failed attempt like any other: it spends the budget, so a handler that always throws
    // ends in the dead letters instead of being claimed forever. Exceptions carry no personal
    // data (our code and libraries put none in them).
    metrics_.add("visitpay_worker_failures_total",
                 common::Metrics::label("worker", "outbox." + item.kind));
    log_.error("worker.failed", {{"worker", "outbox_dispatcher"},
                                 {"kind", item.kind},
                                 {"outbox_id", static_cast<long long>(item.id)},
                                 {"session_id", item.session_id},
                                 {"error", *thrown}});
    outcome = OutboxOutcome::retry_later("exception: " + *thrown);
  }
  std::string result = "record_failed";
  try {
    result = co_await record(item, outcome);
  } catch (const std::exception& e) {
    log_.error("outbox.record_failed", {{"outbox_id", static_cast<long long>(item.id)},
                                        {"error", std::string(e.what()).substr(0, kMaxWhat)}});
  }
  metrics_.add(kAttempts, common::Metrics::label("kind", item.kind) + "," +
                              common::Metrics::label("outcome", result));
}

asio::awaitable<std::vector<store::OutboxItem>> OutboxDispatcher::claim(int limit) {
  auto claimed =
      co_await outbox_.claim(options_.owner, limit, clock_.now(), options_.lease, options_.budgets);
  if (!claimed) {
    log_.warn("outbox.claim_failed", {{"detail", claimed.error().detail}});
    co_return std::vector<store::OutboxItem>{};
  }
  for (const auto& p : claimed->poisoned) {
    dead_letters_++;
    metrics_.add(kAttempts, common::Metrics::label("kind", p.kind) + "," +
                                common::Metrics::label("outcome", "poisoned"));
    log_.warn("outbox.poisoned", {{"outbox_id", static_cast<long long>(p.id)},
                                  {"session_id", p.session_id},
                                  {"kind", p.kind},
                                  {"attempts", p.attempts},
                                  {"reason",
                                   "budget spent while claimed (worker crashed or "
                                   "timed out)"}});
  }
  co_return std::move(claimed->items);
}

asio::awaitable<void> OutboxDispatcher::process_all(std::vector<store::OutboxItem> items) {
  // On the strand: the count and the timer are touched only here and in the completions.
  auto remaining = std::make_shared<std::size_t>(items.size());
  auto all_done =
      std::make_shared<asio::steady_timer>(strand_, asio::steady_timer::time_point::max());
  for (auto& item : items) {
    asio::co_spawn(strand_, process(std::move(item)),
                   [remaining, all_done](const std::exception_ptr&) {
                     if (--*remaining == 0) all_done->cancel();
                   });
  }
  if (*remaining > 0) co_await all_done->async_wait(kAwait);
}

asio::awaitable<int> OutboxDispatcher::run_once() {
  auto items = co_await claim(std::max(1, options_.claim_batch));
  const int n = static_cast<int>(items.size());
  co_await asio::co_spawn(strand_, process_all(std::move(items)), asio::use_awaitable);
  co_return n;
}

void OutboxDispatcher::spawn(store::OutboxItem item) {
  in_flight_++;
  asio::co_spawn(strand_, process(std::move(item)),
                 [this](const std::exception_ptr&) { item_finished(); });
}

void OutboxDispatcher::item_finished() {
  const int before = in_flight_--;
  // A slot opened, and the item may have queued the next step (the SMS after the order): claim
  // again soon. Nudges that come while a claim runs make one more pass, not one each.
  claimer_.nudge();
  if (before == 1) idle_.cancel();  // for shutdown()
}

asio::awaitable<PassResult> OutboxDispatcher::claim_pass() {
  if (stopping_) co_return PassResult{};
  const int limit = std::min(options_.claim_batch, options_.max_in_flight - in_flight_.load());
  if (limit <= 0) co_return PassResult{};  // the item that frees a slot nudges
  auto items = co_await claim(limit);
  const bool full = static_cast<int>(items.size()) == limit;
  for (auto& item : items)
    spawn(std::move(item));
  co_return PassResult{full};
}

asio::awaitable<std::int64_t> OutboxDispatcher::clean_once() {
  // Business time, like the rows' updated_at.
  auto deleted =
      co_await outbox_.delete_finished(clock_.now() - options_.retention, options_.janitor_batch);
  if (!deleted) {
    log_.warn("outbox.janitor_failed", {{"detail", deleted.error().detail}});
    co_return 0;
  }
  if (*deleted > 0) {
    metrics_.add("visitpay_outbox_deleted_total", "", static_cast<double>(*deleted));
    log_.info("outbox.deleted", {{"rows", static_cast<long long>(*deleted)}});
  }
  co_return *deleted;
}

asio::awaitable<PassResult> OutboxDispatcher::janitor_pass() {
  const auto deleted = co_await clean_once();
  co_return PassResult{deleted >= options_.janitor_batch};
}

asio::awaitable<bool> OutboxDispatcher::shutdown(std::chrono::milliseconds grace) {
  const auto deadline = asio::steady_timer::clock_type::now() + grace;
  stop();
  co_await claimer_.ended();
  co_await janitor_.ended();
  const bool drained = co_await asio::co_spawn(
      strand_,
      [this, deadline]() -> asio::awaitable<bool> {
        while (in_flight_ > 0 && asio::steady_timer::clock_type::now() < deadline) {
          idle_.expires_at(deadline);
          co_await idle_.async_wait(kAwait);  // cancelled when the last item ends
        }
        co_return in_flight_ == 0;
      },
      asio::use_awaitable);
  if (!drained) {
    // Their leases run out and another instance (or this one, restarted) takes them over.
    log_.warn("outbox.shutdown_abandoned", {{"in_flight", in_flight_.load()}});
  }
  co_return drained;
}

}  // namespace visitpay::workers
