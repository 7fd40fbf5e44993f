#include "store/pg_pool.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>
#include <utility>

namespace visitpay::store {

using common::ErrorCode;
using common::make_error;
using common::Result;

// The handler is set in the constructor and only ever moved out by move construction: Boost
// 1.81's any_completion_handler move assignment recurses (fixed in later Boost releases).
struct PgPool::Waiter {
  template <typename Handler>
  Waiter(const asio::any_io_executor& ex, Handler&& h)
      : timer(ex),
        target(asio::get_associated_executor(h, ex)),
        handler(std::forward<Handler>(h)) {}
  asio::steady_timer timer;      // every member call on it is made under the pool mutex
  asio::any_io_executor target;  // where the waiter resumes (its strand)
  asio::any_completion_handler<void(Grant)> handler;
};

namespace {

// Never completes inline: one post, straight to the waiter's own executor (its strand), so it
// resumes on a fresh stack where it asked. A connection handed over sits unused until then, so
// there is no second hop through the pool's executor.
template <typename Handler, typename Value>
void complete_later(const asio::any_io_executor& target, Handler handler, Value value) {
  asio::post(target, [h = std::move(handler), v = std::move(value)]() mutable {
    std::move(h)(std::move(v));
  });
}

}  // namespace

PooledConnection::~PooledConnection() {
  if (pool_ && conn_) pool_->release(std::move(conn_));
}

PgPool::PgPool(asio::any_io_executor executor, Options options, common::Logger& log)
    : executor_(std::move(executor)), options_(std::move(options)), log_(log) {}

PgPool::~PgPool() {
  close();
}

template <typename Token>
auto PgPool::async_grant(Token&& token) {
  return asio::async_initiate<Token, void(Grant)>(
      [this](auto handler) {
        std::unique_lock lock(mutex_);
        if (auto g = take_locked()) {
          lock.unlock();
          const auto target = asio::get_associated_executor(handler, executor_);
          complete_later(target, std::move(handler), std::move(*g));
          return;
        }
        auto w = std::make_shared<Waiter>(executor_, std::move(handler));
        waiters_.push_back(w);
        w->timer.expires_after(options_.acquire_timeout);
        w->timer.async_wait([this, w](const boost::system::error_code& ec) {
          if (ec) return;  // cancelled: a connection was handed over
          std::unique_lock inner(mutex_);
          if (!w->handler) return;
          std::erase(waiters_, w);
          auto h = std::move(w->handler);
          inner.unlock();
          acquire_timeouts_++;
          complete_later(w->target, std::move(h), Grant{nullptr, false, true});
        });
      },
      token);
}

std::optional<PgPool::Grant> PgPool::take_locked() {
  if (closed_) return Grant{nullptr, false, true};
  if (!idle_.empty()) {
    Grant g{std::move(idle_.back()), false, false};
    idle_.pop_back();
    return g;
  }
  if (open_ < options_.max_size) {
    ++open_;
    return Grant{nullptr, true, false};
  }
  return std::nullopt;  // the caller has to wait
}

asio::awaitable<Result<PooledConnection>> PgPool::acquire() {
  std::optional<Grant> taken;
  {
    // Fast path: an idle connection or a free slot needs no trip through the scheduler.
    std::lock_guard lock(mutex_);
    taken = take_locked();
  }
  // (No co_await inside ?: here: GCC 12 miscompiles that in coroutines.)
  Grant g;
  if (taken) {
    g = std::move(*taken);
  } else {
    g = co_await async_grant(asio::use_awaitable);
  }
  if (g.timed_out) {
    co_return make_error(ErrorCode::database_unavailable,
                         "no database connection became free in time");
  }
  if (g.conn) co_return PooledConnection(this, std::move(g.conn));
  if (!may_connect()) {
    release(nullptr);  // give the slot back
    co_return make_error(ErrorCode::database_unavailable,
                         "the database could not be reached moments ago");
  }
  auto conn = co_await PgConnection::connect(executor_, options_.connection);
  connected(conn ? nullptr : &conn.error());
  if (!conn) {
    release(nullptr);
    co_return std::move(conn).error();
  }
  co_return PooledConnection(this, std::move(conn.value()));
}

bool PgPool::may_connect() {
  std::lock_guard lock(mutex_);
  if (failures_in_row_ == 0) return true;
  // While the database is unreachable one attempt at a time probes it, after a jittered,
  // growing pause: many instances and waiters do not storm a server that is starting up.
  if (probing_ || std::chrono::steady_clock::now() < next_attempt_) return false;
  probing_ = true;
  return true;
}

void PgPool::connected(const common::Error* failure) {
  std::unique_lock lock(mutex_);
  probing_ = false;
  if (!failure) {
    const auto after = std::exchange(failures_in_row_, 0);
    lock.unlock();
    if (after > 0) log_.info("db.connected", {{"after_failures", static_cast<long long>(after)}});
    return;
  }
  connect_failures_++;
  const auto n = ++failures_in_row_;
  const auto cap = options_.reconnect_backoff_max;
  auto pause =
      options_.reconnect_backoff_min * (std::int64_t{1} << std::min<std::uint64_t>(n - 1, 16));
  pause = std::min<std::chrono::milliseconds>(pause, cap);
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::int64_t> half(pause.count() / 2, pause.count());
  pause = std::chrono::milliseconds(half(rng));
  next_attempt_ = std::chrono::steady_clock::now() + pause;
  lock.unlock();
  // The first failure of a streak, then the 2nd, 4th, 8th...: bounded lines however long it lasts.
  if ((n & (n - 1)) == 0) {
    log_.warn("db.connect_failed", {{"detail", failure->detail},
                                    {"failures_in_row", static_cast<long long>(n)},
                                    {"next_attempt_in_ms", static_cast<long long>(pause.count())}});
  }
}

void PgPool::hand_over(std::unique_lock<std::mutex>& lock, Grant grant) {
  auto w = waiters_.front();
  waiters_.pop_front();
  w->timer.cancel();
  auto h = std::move(w->handler);
  lock.unlock();
  complete_later(w->target, std::move(h), std::move(grant));
}

void PgPool::release(std::unique_ptr<PgConnection> conn) {
  std::unique_lock lock(mutex_);
  const bool reusable = conn && conn->reusable() && !closed_;
  if (!reusable) {
    // The slot is free again: a waiter may open a fresh connection in its place.
    if (!waiters_.empty() && !closed_) {
      hand_over(lock, Grant{nullptr, true, false});  // unlocks
    } else {
      --open_;
      lock.unlock();
    }
    conn.reset();
    return;
  }
  if (!waiters_.empty()) {
    hand_over(lock, Grant{std::move(conn), false, false});
    return;
  }
  idle_.push_back(std::move(conn));
}

asio::awaitable<Result<PgResult>> PgPool::execute(const Statement& statement,
                                                  const PgParams& params) {
  for (int attempt = 0;; ++attempt) {
    auto conn = co_await acquire();
    if (!conn) co_return std::move(conn).error();
    auto result = co_await (*conn)->execute(statement, params);
    if (result) co_return result;
    const auto& failure = (*conn)->last_failure();
    // Sent whole and no answer: a second run of a Repeat::once statement could do its work
    // twice, so the caller learns that the first may have committed.
    if (failure.maybe_executed && statement.repeat == Repeat::once) {
      log_.warn("db.outcome_unknown", {{"statement", statement.name}});
      co_return make_error(ErrorCode::database_outcome_unknown,
                           std::string(statement.name) + ": " + result.error().detail);
    }
    // A connection that died before the statement reached it (it sat idle while the server
    // restarted) changed nothing: one more try on a fresh connection.
    const bool stale = !(*conn)->healthy() && is_connection_failure(failure) && attempt == 0;
    if (!stale) co_return result;
    log_.info("db.reconnect", {{"statement", statement.name}});
  }
}

PgPool::Stats PgPool::stats() const {
  std::lock_guard lock(mutex_);
  return Stats{open_,
               idle_.size(),
               waiters_.size(),
               options_.max_size,
               acquire_timeouts_.load(),
               connect_failures_.load()};
}

void PgPool::close() {
  std::vector<std::unique_ptr<PgConnection>> doomed;
  std::unique_lock lock(mutex_);
  closed_ = true;
  open_ -= idle_.size();
  doomed.swap(idle_);
  while (!waiters_.empty()) {
    hand_over(lock, Grant{nullptr, false, true});
    lock.lock();
  }
}

}  // namespace visitpay::store
