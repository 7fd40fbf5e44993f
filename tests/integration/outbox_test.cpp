// The durable outbox against a real PostgreSQL with a manual clock: de-duplication, due times,
// backoff and Retry-After, retry budgets as time horizons (waits spend none; a throwing handler
// spends it; poison work is dead-lettered at claim), dead letters and their retry, fenced leases
// (database time) taken over after a crash, batched claims with items in flight together, the
// janitor, several dispatchers sharing one queue with every item done exactly once, and the
// pool's repeat rule for statements whose connection died.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <csignal>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "common/time_format.hpp"
#include "common/uuid.hpp"
#include "store/outbox_store.hpp"
#include "store/pg_transaction.hpp"
#include "test_service.hpp"
#include "workers/outbox_dispatcher.hpp"

namespace visitpay::testing {
namespace {

namespace asio = boost::asio;
using workers::OutboxOutcome;

// Any kind the schema knows (outbox.kind is checked against domain::WorkKind); the handler here is
// the test's own.
constexpr const char* kKind = "sync_payment";

// A handler whose outcomes a test scripts, counting calls per item.
class ScriptedHandler final : public workers::OutboxHandler {
 public:
  asio::awaitable<OutboxOutcome> handle(const store::OutboxItem& item) override {
    std::lock_guard lock(mutex_);
    calls_[item.id]++;
    last_ = item;
    if (!script_.empty()) {
      auto next = script_.front();
      script_.erase(script_.begin());
      co_return next;
    }
    co_return OutboxOutcome::success();
  }
  store::OutboxItem last() const {
    std::lock_guard lock(mutex_);
    return last_;
  }
  void then(OutboxOutcome outcome) {
    std::lock_guard lock(mutex_);
    script_.push_back(std::move(outcome));
  }
  std::map<std::int64_t, int> calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<OutboxOutcome> script_;
  std::map<std::int64_t, int> calls_;
  store::OutboxItem last_;
};

// Throws from every call (a bug in a handler): the dispatcher must survive and count it.
class ThrowingHandler final : public workers::OutboxHandler {
 public:
  asio::awaitable<OutboxOutcome> handle(const store::OutboxItem&) override {
    calls++;
    throw std::runtime_error("boom");
    co_return OutboxOutcome::success();
  }
  std::atomic<int> calls{0};
};

// Takes a while, and remembers how many calls ran at once.
class SlowHandler final : public workers::OutboxHandler {
 public:
  asio::awaitable<OutboxOutcome> handle(const store::OutboxItem&) override {
    const int now = ++running;
    int seen = most.load();
    while (now > seen && !most.compare_exchange_weak(seen, now)) {
    }
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(150));
    co_await t.async_wait(asio::use_awaitable);
    --running;
    co_return OutboxOutcome::success();
  }
  std::atomic<int> running{0};
  std::atomic<int> most{0};
};

class Outbox : public ::testing::Test {
 protected:
  void SetUp() override {
    conninfo_ = migrated_database();
    store::PgPool::Options o;
    o.connection.conninfo = conninfo_;
    o.max_size = 8;
    pool_ = std::make_unique<store::PgPool>(ioc_.get_executor(), o, log_);
    outbox_ = std::make_unique<store::OutboxStore>(*pool_);
    for (int i = 0; i < 2; ++i)
      threads_.emplace_back([this] { ioc_.run(); });
  }
  void TearDown() override {
    for (auto& d : dispatchers_)
      d->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    pool_->close();
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_)
      t.join();
  }

  template <typename T>
  T run(asio::awaitable<T> op) {
    return asio::co_spawn(ioc_, std::move(op), asio::use_future).get();
  }

  static workers::DispatcherOptions options(const std::string& owner) {
    workers::DispatcherOptions o;
    o.owner = owner;
    o.claim_batch = 1;
    o.max_in_flight = 4;
    o.lease = std::chrono::seconds(10);
    o.poll_interval = std::chrono::milliseconds(20);
    o.base_backoff = std::chrono::seconds(2);
    o.max_backoff = std::chrono::minutes(1);
    o.budgets.fallback = std::chrono::seconds(60);
    return o;
  }

  workers::OutboxDispatcher& dispatcher(workers::DispatcherOptions o) {
    dispatchers_.push_back(std::make_unique<workers::OutboxDispatcher>(
        ioc_.get_executor(), *outbox_, clock_, log_, metrics_, o));
    dispatchers_.back()->add_handler(kKind, handler_);
    return *dispatchers_.back();
  }
  workers::OutboxDispatcher& dispatcher(const std::string& owner, int in_flight = 1) {
    auto o = options(owner);
    o.max_in_flight = in_flight;
    return dispatcher(o);
  }

  std::int64_t enqueue_new() {
    const auto s = new_session();
    EXPECT_TRUE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())).value());
    return std::stoll(row("SELECT id FROM outbox WHERE session_id = '" + s + "'"));
  }

  std::string new_session() {
    auto db = store::PgSyncConnection::open(conninfo_);
    const auto id = common::new_uuid_v7(std::chrono::system_clock::now());
    auto r = db->exec(
        "INSERT INTO sessions (id, clinic_id, visit_id, state, currency, amount_ore, "
        "vat_amount_ore, checked_out_at, has_phone, request_fingerprint, created_at, "
        "updated_at, state_since) VALUES ('" +
        id + "', 'oslo-sentrum', '" + id +
        "', 'pending', 'NOK', 100, 0, now(), true, '\\x00', now(), now(), now())");
    EXPECT_TRUE(r) << (r ? "" : r.error().detail);
    return id;
  }

  std::string row(const std::string& sql) {
    auto db = store::PgSyncConnection::open(conninfo_);
    auto r = db->exec(sql);
    return r && !r->empty() ? r->string(0, 0) : std::string("<none>");
  }

  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(ioc_);
  std::vector<std::thread> threads_;
  common::Logger log_{common::LogLevel::error};
  common::Metrics metrics_;
  ports::ManualClock clock_{*common::parse_rfc3339("2026-11-22T13:00:00Z")};
  std::string conninfo_;
  std::unique_ptr<store::PgPool> pool_;
  std::unique_ptr<store::OutboxStore> outbox_;
  ScriptedHandler handler_;
  std::vector<std::unique_ptr<workers::OutboxDispatcher>> dispatchers_;
};

constexpr store::Statement kSelectOne{"test.select_one", "SELECT 1"};

// A connection given back inside a transaction (its user returned before COMMIT) is dropped, not
// reused; with a caller waiting for the pool's only slot, that caller opens a fresh connection.
TEST_F(Outbox, PoolDropsAConnectionLeftInATransactionAndServesTheWaiter) {
  store::PgPool::Options o;
  o.connection.conninfo = conninfo_;
  o.max_size = 1;
  store::PgPool small(ioc_.get_executor(), o, log_);
  auto tx = std::make_optional(run(store::PgTransaction::begin(small)));
  ASSERT_TRUE(*tx) << tx->error().detail;
  const store::PgParams none;
  auto waiter = asio::co_spawn(ioc_, small.execute(kSelectOne, none), asio::use_future);
  for (int i = 0; i < 100 && small.stats().waiting == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(small.stats().waiting, 1u);
  tx.reset();  // back to the pool inside the transaction
  auto result = waiter.get();
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_EQ(result->string(0, 0), "1");
  EXPECT_EQ(small.stats().open, 1u);
  small.close();
}

// The pool's repeat rule. A connection killed while idle fails before the statement reaches a
// server: any statement is sent again on a fresh one. A connection whose server stops answering
// after the statement was sent (the backend is frozen with SIGSTOP, then thawed: it commits
// late) may have committed: a Repeat::safe statement is sent again, a Repeat::once one reports
// database_outcome_unknown and is not repeated.
TEST_F(Outbox, PoolRepeatsOnlySafeStatementsWhoseAnswerWasLost) {
  {
    auto db = store::PgSyncConnection::open(conninfo_);
    ASSERT_TRUE(db->exec("CREATE TABLE repeat_probe (what text NOT NULL)"));
  }
  static constexpr store::Statement kPid{"test.pid", "SELECT pg_backend_pid()"};
  static constexpr store::Statement kOnce{
      "test.insert_once", "INSERT INTO repeat_probe VALUES ('once')", store::Repeat::once};
  static constexpr store::Statement kSafe{"test.insert_safe",
                                          "INSERT INTO repeat_probe VALUES ('safe')"};
  store::PgPool::Options o;
  o.connection.conninfo = conninfo_;
  o.connection.statement_timeout = std::chrono::milliseconds(300);  // client gives up at +2 s
  o.max_size = 1;  // one connection: the one whose backend the test freezes or kills
  store::PgPool pool(ioc_.get_executor(), o, log_);
  const store::PgParams none;
  auto backend = [&] {
    return static_cast<pid_t>(run(pool.execute(kPid, none)).value().int64(0, 0));
  };
  auto count = [&](const std::string& what) {
    return row("SELECT count(*) FROM repeat_probe WHERE what = '" + what + "'");
  };

  ASSERT_TRUE(run(pool.execute(kOnce, none)));  // prepared on the pool's connection now
  EXPECT_EQ(count("once"), "1");

  // Killed while idle: the once statement is sent again on a fresh connection, and runs once.
  const auto idle = backend();
  ASSERT_EQ(row("SELECT pg_terminate_backend(" + std::to_string(idle) + ")"), "t");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto again = run(pool.execute(kOnce, none));
  ASSERT_TRUE(again) << again.error().detail;
  EXPECT_EQ(count("once"), "2");

  // Sent, then no answer: not repeated; the caller hears that it may have committed.
  const auto frozen = backend();
  ASSERT_EQ(kill(frozen, SIGSTOP), 0);
  auto unknown = run(pool.execute(kOnce, none));
  ASSERT_EQ(kill(frozen, SIGCONT), 0);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, common::ErrorCode::database_outcome_unknown);
  for (int i = 0; i < 100 && count("once") != "3"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(count("once"), "3");  // it did commit, late: a repeat would have made it four

  // The same loss for a safe statement: sent again on a fresh connection, and it succeeds.
  const auto frozen_again = backend();
  ASSERT_EQ(kill(frozen_again, SIGSTOP), 0);
  auto repeated = run(pool.execute(kSafe, none));
  ASSERT_EQ(kill(frozen_again, SIGCONT), 0);
  ASSERT_TRUE(repeated) << repeated.error().detail;
  pool.close();
}

TEST_F(Outbox, OneLiveItemPerSessionAndKind) {
  const auto s = new_session();
  EXPECT_TRUE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())).value());
  EXPECT_FALSE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())).value());
  auto& d = dispatcher("a");
  EXPECT_EQ(run(d.run_once()), 1);
  EXPECT_TRUE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())).value());
}

// Work queued while the session's item of that kind runs: its handler may have read its inputs
// already, so the completion puts the item back instead of finishing it; a wait or a failure
// needs no mark (the next run reads afresh).
TEST_F(Outbox, WorkQueuedWhileTheItemRunsRunsItAgain) {
  const auto s = new_session();
  ASSERT_TRUE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())).value());
  const auto lease = std::chrono::seconds(10);
  auto claimed = run(outbox_->claim("worker-a", 10, clock_.now(), lease, {})).value();
  ASSERT_EQ(claimed.items.size(), 1u);
  const auto id = claimed.items[0].id;
  EXPECT_FALSE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())).value());
  EXPECT_EQ(row("SELECT count(*) || ' ' || bool_and(rerun) FROM outbox"), "1 true");
  clock_.advance(std::chrono::seconds(3));
  EXPECT_TRUE(run(outbox_->complete(id, "worker-a", clock_.now())).value());
  EXPECT_EQ(row("SELECT status || ' ' || rerun || ' ' || attempts || ' ' || (lease_owner IS "
                "NULL) || ' ' || (next_attempt_at = '" +
                common::format_rfc3339_utc(clock_.now()) + "') FROM outbox"),
            "pending false 0 true true");
  auto& d = dispatcher("b");
  EXPECT_EQ(run(d.run_once()), 1);
  EXPECT_EQ(row("SELECT status FROM outbox"), "done");

  // Claimed again, the work queued meanwhile, then a wait: no second run is owed after it.
  ASSERT_TRUE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())).value());
  claimed = run(outbox_->claim("worker-a", 10, clock_.now(), lease, {})).value();
  ASSERT_EQ(claimed.items.size(), 1u);
  EXPECT_FALSE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())).value());
  const auto later = clock_.now() + std::chrono::minutes(5);
  EXPECT_TRUE(
      run(outbox_->wait(claimed.items[0].id, "worker-a", "quiet hours", later, clock_.now()))
          .value());
  EXPECT_EQ(row("SELECT count(*) FILTER (WHERE status = 'pending') || ' ' || bool_or(rerun) "
                "FROM outbox"),
            "1 false");
}

TEST_F(Outbox, ItemsWaitUntilTheyAreDue) {
  const auto s = new_session();
  ASSERT_TRUE(
      run(outbox_->enqueue(s, kKind, clock_.now() + std::chrono::minutes(5), clock_.now())));
  auto& d = dispatcher("a");
  EXPECT_EQ(run(d.run_once()), 0);
  clock_.advance(std::chrono::minutes(5));
  EXPECT_EQ(run(d.run_once()), 1);
  EXPECT_EQ(row("SELECT status FROM outbox"), "done");
}

TEST_F(Outbox, FailuresBackOffHonourRetryAfterAndEndInTheDeadLettersWhenTheBudgetIsSpent) {
  const auto s = new_session();
  ASSERT_TRUE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())));
  auto& d = dispatcher("a");  // budget: 60 s of failing
  const auto first_failure = clock_.now();
  handler_.then(OutboxOutcome::retry_later("provider 503"));
  ASSERT_EQ(run(d.run_once()), 1);
  EXPECT_FALSE(handler_.last().last_chance);
  // Backoff after attempt 1: between 1 s and 2 s (base 2 s, equal jitter).
  const auto due1 = *common::parse_pg_timestamptz(
      row("SELECT next_attempt_at FROM outbox WHERE status = 'pending'"));
  EXPECT_GE(due1, clock_.now() + std::chrono::seconds(1));
  EXPECT_LE(due1, clock_.now() + std::chrono::seconds(2));
  EXPECT_EQ(run(d.run_once()), 0);  // not due yet

  clock_.set(due1);
  handler_.then(OutboxOutcome::retry_later("provider 429", std::chrono::seconds(30)));
  ASSERT_EQ(run(d.run_once()), 1);
  const auto due2 = *common::parse_pg_timestamptz(row("SELECT next_attempt_at FROM outbox"));
  EXPECT_GE(due2, clock_.now() + std::chrono::seconds(30));  // Retry-After wins over backoff
  EXPECT_EQ(row("SELECT last_error FROM outbox"), "provider 429");
  EXPECT_EQ(*common::parse_pg_timestamptz(row("SELECT failing_since FROM outbox")), first_failure);

  // Still inside the budget: more attempts, however many; the backoff never passes the horizon.
  clock_.set(due2);
  handler_.then(OutboxOutcome::retry_later("provider 500"));
  ASSERT_EQ(run(d.run_once()), 1);
  EXPECT_EQ(row("SELECT status FROM outbox"), "pending");
  const auto due3 = *common::parse_pg_timestamptz(row("SELECT next_attempt_at FROM outbox"));
  EXPECT_LE(due3, first_failure + std::chrono::seconds(60));

  // At the horizon the attempt is told it is the last chance; failing it ends the item.
  clock_.set(first_failure + std::chrono::seconds(60));
  handler_.then(OutboxOutcome::retry_later("provider 500 again"));
  ASSERT_EQ(run(d.run_once()), 1);
  EXPECT_TRUE(handler_.last().last_chance);
  EXPECT_EQ(row("SELECT status FROM outbox"), "dead");
  EXPECT_EQ(d.dead_letters(), 1);
  auto dead = run(outbox_->dead(10)).value();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 4);  // still counted, for ops
  EXPECT_EQ(dead[0].last_error, "provider 500 again");
  EXPECT_EQ(run(outbox_->count_dead()).value(), 1);

  // An operator puts it back with a fresh budget; it runs at once and succeeds.
  EXPECT_TRUE(run(outbox_->retry(dead[0].id, clock_.now())).value());
  EXPECT_FALSE(run(outbox_->retry(dead[0].id, clock_.now())).value());  // no longer dead
  EXPECT_EQ(row("SELECT coalesce(failing_since::text, 'none') FROM outbox"), "none");
  EXPECT_EQ(run(d.run_once()), 1);
  EXPECT_EQ(row("SELECT status FROM outbox"), "done");
}

TEST_F(Outbox, WaitsDoNotSpendTheBudget) {
  enqueue_new();
  auto& d = dispatcher("a");  // budget: 60 s of failing
  handler_.then(OutboxOutcome::retry_later("provider 503"));
  ASSERT_EQ(run(d.run_once()), 1);
  clock_.advance(std::chrono::seconds(50));
  // Quiet hours: a deliberate wait clears the failing streak.
  handler_.then(OutboxOutcome::wait_until(clock_.now() + std::chrono::hours(8), "quiet hours"));
  ASSERT_EQ(run(d.run_once()), 1);
  EXPECT_EQ(row("SELECT status || ' ' || coalesce(failing_since::text, 'none') FROM outbox"),
            "pending none");
  EXPECT_EQ(run(d.run_once()), 0);  // waits until the end of quiet hours
  clock_.advance(std::chrono::hours(8));
  // The provider refuses "right now" and the handler says so: another wait, no failure.
  handler_.then(OutboxOutcome::look_again(std::chrono::minutes(2), "payer in the Vipps app"));
  ASSERT_EQ(run(d.run_once()), 1);
  EXPECT_FALSE(handler_.last().last_chance);
  const auto due = *common::parse_pg_timestamptz(row("SELECT next_attempt_at FROM outbox"));
  EXPECT_EQ(due, clock_.now() + std::chrono::minutes(2));
  // 8 h after the first failure a new failure starts a new budget instead of ending the item.
  clock_.advance(std::chrono::minutes(2));
  handler_.then(OutboxOutcome::retry_later("provider 503"));
  ASSERT_EQ(run(d.run_once()), 1);
  EXPECT_EQ(row("SELECT status FROM outbox"), "pending");
  EXPECT_EQ(*common::parse_pg_timestamptz(row("SELECT failing_since FROM outbox")), clock_.now());
}

TEST_F(Outbox, AThrowingHandlerIsAFailedAttemptAndEndsInTheDeadLetters) {
  ThrowingHandler thrower;
  auto& d = dispatcher("a");
  d.add_handler(kKind, thrower);
  enqueue_new();
  ASSERT_EQ(run(d.run_once()), 1);
  EXPECT_EQ(row("SELECT status || ' ' || last_error FROM outbox"), "pending exception: boom");
  EXPECT_EQ(metrics_.value("visitpay_worker_failures_total", "worker=\"outbox.sync_payment\""), 1);
  // Not claimed again before its backoff, then again until the budget (60 s) is spent.
  EXPECT_EQ(run(d.run_once()), 0);
  for (int i = 0; i < 20 && row("SELECT status FROM outbox") == "pending"; ++i) {
    clock_.advance(std::chrono::seconds(10));
    run(d.run_once());
  }
  EXPECT_EQ(row("SELECT status || ' ' || last_error FROM outbox"), "dead exception: boom");
  EXPECT_GE(thrower.calls.load(), 2);
  EXPECT_EQ(d.dead_letters(), 1);
}

TEST_F(Outbox, PoisonWorkIsDeadLetteredAtClaimInsteadOfHandedOutAgain) {
  const auto id = enqueue_new();
  // A handler that crashes the process each time: claims whose leases (database time, short
  // here) run out with no record.
  const auto lease = std::chrono::milliseconds(300);
  for (int crash = 0; crash < 2; ++crash) {
    auto claimed = run(outbox_->claim("crashing", 10, clock_.now(), lease, {}));
    ASSERT_EQ(claimed.value().items.size(), 1u);
    std::this_thread::sleep_for(lease + std::chrono::milliseconds(100));
  }
  // The second claim found the first abandoned: failing since then.
  EXPECT_NE(row("SELECT coalesce(failing_since::text, 'none') FROM outbox"), "none");
  auto o = options("healthy");
  o.budgets.by_kind[kKind] = std::chrono::seconds(30);
  auto& d = dispatcher(o);
  clock_.advance(std::chrono::seconds(30) + o.lease + std::chrono::seconds(1));
  EXPECT_EQ(run(d.run_once()), 0);  // not handed out
  EXPECT_TRUE(handler_.calls().empty());
  EXPECT_EQ(row("SELECT status || ' ' || attempts || ' ' || last_error FROM outbox WHERE id = " +
                std::to_string(id)),
            "dead 2 budget spent while claimed (worker crashed or timed out)");
  EXPECT_EQ(d.dead_letters(), 1);
}

TEST_F(Outbox, ABatchIsClaimedAtOnceAndItsItemsRunTogether) {
  SlowHandler slow;
  auto o = options("batch");
  o.claim_batch = 3;
  o.max_in_flight = 8;
  auto& d = dispatcher(o);
  d.add_handler(kKind, slow);
  for (int i = 0; i < 5; ++i)
    enqueue_new();
  EXPECT_EQ(run(d.run_once()), 3);
  EXPECT_EQ(slow.most.load(), 3);  // in flight together, each under its own lease
  EXPECT_EQ(row("SELECT count(*) FROM outbox WHERE status = 'done'"), "3");
  EXPECT_EQ(run(d.run_once()), 2);
  EXPECT_EQ(run(d.run_once()), 0);
  EXPECT_EQ(row("SELECT count(*) FROM outbox WHERE status = 'done' AND attempts = 1"), "5");
}

TEST_F(Outbox, ItemsThatFinishTogetherAreCompletedByOneStatement) {
  SlowHandler slow;  // every item ends after the same 150 ms
  auto o = options("together");
  o.claim_batch = 6;
  o.max_in_flight = 6;
  auto& d = dispatcher(o);
  d.add_handler(kKind, slow);
  for (int i = 0; i < 6; ++i)
    enqueue_new();
  EXPECT_EQ(run(d.run_once()), 6);
  EXPECT_EQ(row("SELECT count(*) FROM outbox WHERE status = 'done' AND lease_owner = 'together'"),
            "6");
  EXPECT_LT(d.completion_statements(), 6);  // the ones that finished meanwhile went together
  EXPECT_GE(d.completion_statements(), 1);
  EXPECT_EQ(metrics_.value("visitpay_outbox_attempts_total",
                           "kind=\"" + std::string(kKind) + "\",outcome=\"done\""),
            6);
}

TEST_F(Outbox, WorkAnItemQueuesIsClaimedWhenTheItemEndsNotAtTheNextPoll) {
  const auto first = new_session();
  const auto next = new_session();
  ASSERT_TRUE(run(outbox_->enqueue(first, kKind, clock_.now(), clock_.now())));
  auto o = options("chain");
  o.poll_interval = std::chrono::seconds(30);  // a poll would come far too late
  o.claim_batch = 4;                           // the first claim is not full either
  auto& d = dispatcher(o);
  // The first item's handler queues the next step (as the order step queues the SMS).
  d.add_handler(kKind, [&](const store::OutboxItem& item) -> asio::awaitable<OutboxOutcome> {
    if (item.session_id == first) {
      auto queued = co_await outbox_->enqueue(next, kKind, clock_.now(), clock_.now());
      if (!queued) co_return OutboxOutcome::from_error(queued.error());
    }
    co_return OutboxOutcome::success();
  });
  d.start();
  for (int i = 0; i < 250 && row("SELECT count(*) FROM outbox WHERE status = 'done'") != "2"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(row("SELECT count(*) FROM outbox WHERE status = 'done'"), "2");  // within 5 s, not 30
}

TEST_F(Outbox, ABatchCompletionLeavesItemsAnotherWorkerTookOver) {
  const auto a = enqueue_new();
  const auto b = enqueue_new();
  auto claimed = run(outbox_->claim("worker-a", 10, clock_.now(), std::chrono::seconds(30), {}));
  ASSERT_EQ(claimed.value().items.size(), 2u);
  {
    auto db = store::PgSyncConnection::open(conninfo_);  // b's lease ran out; worker-b holds it
    ASSERT_TRUE(
        db->exec("UPDATE outbox SET lease_owner = 'worker-b' WHERE id = " + std::to_string(b)));
  }
  const std::vector<std::int64_t> both{a, b};
  auto done = run(outbox_->complete(both, "worker-a", clock_.now()));
  ASSERT_TRUE(done);
  EXPECT_EQ(*done, std::vector<std::int64_t>{a});
  EXPECT_EQ(row("SELECT string_agg(status, ',' ORDER BY id) FROM outbox"), "done,pending");
  // A repeat (the answer lost) reports the same: the done row still names its owner.
  EXPECT_EQ(run(outbox_->complete(both, "worker-a", clock_.now())).value(),
            std::vector<std::int64_t>{a});
}

TEST_F(Outbox, TheJanitorDeletesOldFinishedRowsInBatchesAndKeepsDeadOnes) {
  for (int i = 0; i < 5; ++i)
    enqueue_new();
  {
    auto db = store::PgSyncConnection::open(conninfo_);
    ASSERT_TRUE(
        db->exec("UPDATE outbox SET status = CASE WHEN id % 5 = 0 THEN 'dead' WHEN id % 5 = 1 "
                 "THEN 'cancelled' ELSE 'done' END, updated_at = '2026-11-01T00:00:00Z'"));
    ASSERT_TRUE(
        db->exec("UPDATE outbox SET updated_at = now() WHERE id = (SELECT max(id) FROM "
                 "outbox WHERE status = 'done')"));  // a fresh one stays
  }
  auto o = options("janitor");
  o.retention = std::chrono::hours(24 * 7);
  o.janitor_batch = 2;
  auto& d = dispatcher(o);
  EXPECT_EQ(run(d.clean_once()), 2);
  EXPECT_EQ(run(d.clean_once()), 1);
  EXPECT_EQ(run(d.clean_once()), 0);
  EXPECT_EQ(row("SELECT string_agg(status, ',' ORDER BY status) FROM outbox"), "dead,done");
  EXPECT_EQ(metrics_.value("visitpay_outbox_deleted_total", ""), 3);
}

TEST_F(Outbox, PermanentFailuresGoStraightToTheDeadLetters) {
  const auto s = new_session();
  ASSERT_TRUE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())));
  auto& d = dispatcher("a");
  handler_.then(OutboxOutcome::give_up("provider rejected: 400 inputerror"));
  ASSERT_EQ(run(d.run_once()), 1);
  EXPECT_EQ(row("SELECT status || ' ' || attempts FROM outbox"), "dead 1");
}

TEST_F(Outbox, ACrashedWorkersLeaseRunsOutAndItsLateResultIsFencedOff) {
  const auto s = new_session();
  ASSERT_TRUE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())));
  // Worker A claims the item and then "crashes" (never reports). Leases run on the database's
  // clock: moving the manual clock does not end one, real time does (a short lease here).
  const auto lease = std::chrono::milliseconds(300);
  auto claimed = run(outbox_->claim("worker-a", 10, clock_.now(), lease, {}));
  ASSERT_EQ(claimed.value().items.size(), 1u);
  const auto id = claimed.value().items[0].id;
  auto& b = dispatcher("worker-b");
  clock_.advance(std::chrono::hours(1));
  EXPECT_EQ(run(b.run_once()), 0);  // still leased to A
  std::this_thread::sleep_for(lease + std::chrono::milliseconds(100));
  EXPECT_EQ(run(b.run_once()), 1);  // B takes over
  EXPECT_EQ(row("SELECT status || ' ' || attempts FROM outbox"), "done 2");
  // A wakes up and reports: fenced off, the item stays done.
  EXPECT_FALSE(run(outbox_->complete(id, "worker-a", clock_.now())).value());
  EXPECT_EQ(run(outbox_->fail(id, "worker-a", "late", clock_.now(), std::chrono::hours(1), false,
                              clock_.now()))
                .value(),
            store::FailRecord::lost_lease);
  EXPECT_FALSE(run(outbox_->wait(id, "worker-a", "late", clock_.now(), clock_.now())).value());
  EXPECT_EQ(row("SELECT status FROM outbox"), "done");
  // B's completion is idempotent: a repeat (its answer lost) still finds it done by B.
  EXPECT_TRUE(run(outbox_->complete(id, "worker-b", clock_.now())).value());
}

TEST_F(Outbox, SeveralDispatchersDoEveryItemExactlyOnce) {
  constexpr int kItems = 300;
  {
    // Sessions and their items in one statement: the test is about the dispatchers.
    auto db = store::PgSyncConnection::open(conninfo_);
    ASSERT_TRUE(db->exec(
        "WITH s AS (INSERT INTO sessions (id, clinic_id, visit_id, state, currency, amount_ore, "
        "vat_amount_ore, checked_out_at, has_phone, request_fingerprint, created_at, updated_at) "
        "SELECT gen_random_uuid(), 'oslo-sentrum', 'bulk-' || g, 'pending', 'NOK', 100, 0, now(), "
        "true, '\\x00', now(), now() FROM generate_series(1, " +
        std::to_string(kItems) +
        ") g RETURNING id) INSERT INTO outbox (session_id, kind, next_attempt_at, created_at, "
        "updated_at) SELECT id, 'sync_payment', '2026-11-22T13:00:00Z', now(), now() FROM s"));
  }
  for (const char* owner : {"one", "two", "three"}) {
    auto o = options(owner);
    o.claim_batch = 5;
    o.max_in_flight = 8;
    dispatcher(o).start();
  }
  for (int i = 0; i < 500; ++i) {
    if (row("SELECT count(*) FROM outbox WHERE status = 'done'") == std::to_string(kItems)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(row("SELECT count(*) FROM outbox WHERE status = 'done'"), std::to_string(kItems));
  const auto calls = handler_.calls();
  EXPECT_EQ(calls.size(), static_cast<std::size_t>(kItems));
  for (const auto& [id, n] : calls)
    EXPECT_EQ(n, 1) << "item " << id;
  EXPECT_EQ(row("SELECT count(*) FROM outbox WHERE attempts <> 1"), "0");
}

}  // namespace
}  // namespace visitpay::testing
