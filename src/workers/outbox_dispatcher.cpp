#include "workers/outbox_dispatcher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

namespace visitpay::workers {

using namespace boost::asio::experimental::awaitable_operators;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

double jitter() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
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
      options_(std::move(options)) {
  metrics_.describe("visitpay_outbox_attempts_total", common::Metrics::Type::counter,
                    "Outbox work attempts by kind and outcome (done, retry, dead, lost_lease)");
}

namespace {

class FunctionHandler final : public OutboxHandler {
 public:
  explicit FunctionHandler(OutboxDispatcher::HandlerFunction f) : f_(std::move(f)) {}
  asio::awaitable<OutboxOutcome> handle(const store::OutboxItem& item) override {
    co_return co_await f_(item);
  }

 private:
  OutboxDispatcher::HandlerFunction f_;
};

}  // namespace

void OutboxDispatcher::add_handler(const std::string& kind, HandlerFunction handler) {
  owned_handlers_.push_back(std::make_unique<FunctionHandler>(std::move(handler)));
  add_handler(kind, *owned_handlers_.back());
}

void OutboxDispatcher::add_handler(const std::string& kind, OutboxHandler& handler) {
  handlers_[kind] = &handler;
}

void OutboxDispatcher::start() {
  for (int i = 0; i < options_.concurrency; ++i) {
    auto wake = std::make_shared<asio::steady_timer>(strand_);
    wakers_.push_back(wake);
    asio::co_spawn(strand_, loop(wake), asio::detached);
  }
}

void OutboxDispatcher::stop() {
  stopping_ = true;
  nudge();
}

void OutboxDispatcher::nudge() {
  asio::post(strand_, [this] {
    for (auto& w : wakers_)
      w->cancel();
  });
}

std::chrono::milliseconds OutboxDispatcher::backoff(const DispatcherOptions& o, int attempt) {
  const int doublings = std::min(std::max(attempt - 1, 0), 30);
  const auto delay = o.base_backoff * (std::int64_t{1} << doublings);
  return std::min(delay, o.max_backoff);
}

domain::Timestamp OutboxDispatcher::next_attempt(const store::OutboxItem& item,
                                                 const OutboxOutcome& outcome) {
  const auto now = clock_.now();
  if (outcome.not_before) return *outcome.not_before;
  // Equal jitter: at least half the backoff, the rest random, so attempts that failed together
  // spread out while the delay still grows.
  const auto base = backoff(options_, item.attempts);
  auto delay =
      std::chrono::duration_cast<std::chrono::microseconds>(base / 2 + base * jitter() / 2);
  if (outcome.retry_after) delay = std::max(delay, std::chrono::microseconds(*outcome.retry_after));
  return now + delay;
}

asio::awaitable<void> OutboxDispatcher::keep_lease(std::int64_t id) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(options_.lease / 3);
    auto [ec] = co_await timer.async_wait(kAwait);
    if (ec) co_return;
    auto renewed = co_await outbox_.renew(id, options_.owner,
                                          clock_.now() + std::chrono::microseconds(options_.lease));
    if (renewed && !*renewed) co_return;  // lost: the handler's result will be fenced off
  }
}

asio::awaitable<void> OutboxDispatcher::process(const store::OutboxItem& item) {
  auto found = handlers_.find(item.kind);
  OutboxOutcome outcome;
  if (found == handlers_.end()) {
    outcome = OutboxOutcome::give_up("no handler for kind " + item.kind);
  } else {
    auto raced = co_await (found->second->handle(item) || keep_lease(item.id));
    outcome = raced.index() == 0 ? std::get<0>(std::move(raced))
                                 : OutboxOutcome::retry_later("lease renewal ended early");
  }
  const auto now = clock_.now();
  common::Result<bool> recorded = false;
  std::string result;
  if (outcome.kind == OutboxOutcome::Kind::done) {
    recorded = co_await outbox_.complete(item.id, options_.owner, now);
    result = "done";
  } else {
    const bool permanent = outcome.kind == OutboxOutcome::Kind::dead;
    const bool last = permanent || item.attempts >= options_.max_attempts;
    recorded =
        co_await outbox_.fail(item.id, options_.owner, outcome.error, next_attempt(item, outcome),
                              options_.max_attempts, permanent, now);
    result = last ? "dead" : "retry";
    if (last && recorded && *recorded) {
      dead_letters_++;
      log_.warn("outbox.dead_letter", {{"outbox_id", static_cast<long long>(item.id)},
                                       {"session_id", item.session_id},
                                       {"kind", item.kind},
                                       {"error", outcome.error}});
    }
  }
  if (recorded && !*recorded) result = "lost_lease";
  if (!recorded) {
    log_.warn("outbox.record_failed", {{"outbox_id", static_cast<long long>(item.id)},
                                       {"detail", recorded.error().detail}});
  }
  metrics_.add("visitpay_outbox_attempts_total", common::Metrics::label("kind", item.kind) + "," +
                                                     common::Metrics::label("outcome", result));
}

asio::awaitable<int> OutboxDispatcher::run_once() {
  auto items = co_await outbox_.claim(options_.owner, 1, clock_.now(), options_.lease);
  if (!items) {
    log_.warn("outbox.claim_failed", {{"detail", items.error().detail}});
    co_return 0;
  }
  for (const auto& item : *items)
    co_await process(item);
  co_return static_cast<int>(items->size());
}

asio::awaitable<void> OutboxDispatcher::loop(std::shared_ptr<asio::steady_timer> wake) {
  while (!stopping_) {
    const int done = co_await run_once();
    if (done > 0 || stopping_) continue;
    wake->expires_after(options_.poll_interval);
    co_await wake->async_wait(kAwait);  // woken by nudge() or the poll interval
  }
}

}  // namespace visitpay::workers
