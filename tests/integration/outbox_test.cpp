// The durable outbox against a real PostgreSQL with a manual clock: de-duplication, due times,
// backoff and Retry-After, dead letters and their retry, fenced leases taken over after a crash,
// and several dispatchers sharing one queue with every item done exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <map>
#include <mutex>
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
    if (!script_.empty()) {
      auto next = script_.front();
      script_.erase(script_.begin());
      co_return next;
    }
    co_return OutboxOutcome::success();
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

  workers::OutboxDispatcher& dispatcher(const std::string& owner, int concurrency = 1) {
    workers::DispatcherOptions o;
    o.owner = owner;
    o.concurrency = concurrency;
    o.lease = std::chrono::seconds(10);
    o.poll_interval = std::chrono::milliseconds(20);
    o.max_attempts = 3;
    o.base_backoff = std::chrono::seconds(2);
    o.max_backoff = std::chrono::minutes(1);
    dispatchers_.push_back(std::make_unique<workers::OutboxDispatcher>(
        ioc_.get_executor(), *outbox_, clock_, log_, metrics_, o));
    dispatchers_.back()->add_handler(kKind, handler_);
    return *dispatchers_.back();
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

TEST_F(Outbox, OneLiveItemPerSessionAndKind) {
  const auto s = new_session();
  EXPECT_TRUE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())).value());
  EXPECT_FALSE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())).value());
  auto& d = dispatcher("a");
  EXPECT_EQ(run(d.run_once()), 1);
  EXPECT_TRUE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())).value());
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

TEST_F(Outbox, FailuresBackOffHonourRetryAfterAndEndInTheDeadLetters) {
  const auto s = new_session();
  ASSERT_TRUE(run(outbox_->enqueue(s, kKind, clock_.now(), clock_.now())));
  auto& d = dispatcher("a");
  handler_.then(OutboxOutcome::retry_later("provider 503"));
  ASSERT_EQ(run(d.run_once()), 1);
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

  clock_.set(due2);
  handler_.then(OutboxOutcome::retry_later("provider 500"));
  ASSERT_EQ(run(d.run_once()), 1);  // the third attempt of three
  EXPECT_EQ(row("SELECT status FROM outbox"), "dead");
  EXPECT_EQ(d.dead_letters(), 1);
  auto dead = run(outbox_->dead(10)).value();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0].attempts, 3);
  EXPECT_EQ(dead[0].last_error, "provider 500");
  EXPECT_EQ(run(outbox_->count_dead()).value(), 1);

  // An operator puts it back; it runs at once and succeeds.
  EXPECT_TRUE(run(outbox_->retry(dead[0].id, clock_.now())).value());
  EXPECT_FALSE(run(outbox_->retry(dead[0].id, clock_.now())).value());  // no longer dead
  EXPECT_EQ(run(d.run_once()), 1);
  EXPECT_EQ(row("SELECT status FROM outbox"), "done");
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
  // Worker A claims the item and then "crashes" (never reports).
  auto claimed = run(outbox_->claim("worker-a", 10, clock_.now(), std::chrono::seconds(10)));
  ASSERT_EQ(claimed.value().size(), 1u);
  auto& b = dispatcher("worker-b");
  EXPECT_EQ(run(b.run_once()), 0);  // still leased to A
  clock_.advance(std::chrono::seconds(11));
  EXPECT_EQ(run(b.run_once()), 1);  // B takes over
  EXPECT_EQ(row("SELECT status || ' ' || attempts FROM outbox"), "done 2");
  // A wakes up and reports: fenced off, the item stays done.
  EXPECT_FALSE(run(outbox_->complete(claimed.value()[0].id, "worker-a", clock_.now())).value());
  EXPECT_FALSE(run(outbox_->fail(claimed.value()[0].id, "worker-a", "late", clock_.now(), 3, false,
                                 clock_.now()))
                   .value());
  EXPECT_EQ(row("SELECT status FROM outbox"), "done");
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
  for (const char* owner : {"one", "two", "three"})
    dispatcher(owner, 4).start();
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
