#pragma once

#include <atomic>
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "common/log.hpp"
#include "store/pg_connection.hpp"

namespace visitpay::store {

class PgPool;

// A connection borrowed from the pool; returns itself (or its slot, if broken) on destruction.
class PooledConnection {
 public:
  PooledConnection(PgPool* pool, std::unique_ptr<PgConnection> conn)
      : pool_(pool), conn_(std::move(conn)) {}
  PooledConnection(PooledConnection&& other) noexcept = default;
  PooledConnection& operator=(PooledConnection&&) = delete;
  PooledConnection(const PooledConnection&) = delete;
  PooledConnection& operator=(const PooledConnection&) = delete;
  ~PooledConnection();

  PgConnection* operator->() { return conn_.get(); }
  PgConnection& operator*() { return *conn_; }

 private:
  PgPool* pool_;
  std::unique_ptr<PgConnection> conn_;
};

// A bounded pool of non-blocking connections. acquire() never blocks a thread: when every
// connection is in use the caller's coroutine waits (up to acquire_timeout) for one to return.
class PgPool {
 public:
  struct Options {
    PgConnection::Options connection;
    std::size_t max_size = 8;
    std::chrono::milliseconds acquire_timeout{3000};
    // After a failed connect, the next attempt waits this long (doubling per failure in a row,
    // up to the max, jittered by up to half); meanwhile acquires fail at once.
    std::chrono::milliseconds reconnect_backoff_min{100};
    std::chrono::milliseconds reconnect_backoff_max{2000};
  };

  struct Stats {
    std::size_t open = 0;
    std::size_t idle = 0;
    std::size_t waiting = 0;
    std::size_t max_size = 0;
    std::uint64_t acquire_timeouts = 0;
    std::uint64_t connect_failures = 0;
  };

  PgPool(asio::any_io_executor executor, Options options, common::Logger& log);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  asio::awaitable<common::Result<PooledConnection>> acquire();

  // Runs one statement on a pooled connection. When the connection turns out to be dead (the
  // server restarted while it sat idle) the statement is tried once more on a fresh one. If
  // the connection was lost after the statement was sent, only a Repeat::safe statement is
  // tried again; a Repeat::once one fails with database_outcome_unknown (it may have
  // committed).
  asio::awaitable<common::Result<PgResult>> execute(const Statement& statement,
                                                    const PgParams& params);

  Stats stats() const;
  // Drops idle connections and makes further acquires fail (shutdown).
  void close();

 private:
  friend class PooledConnection;

  // What a waiter receives: an idle connection, or permission to open a new one.
  struct Grant {
    std::unique_ptr<PgConnection> conn;
    bool permit = false;
    bool timed_out = false;
  };
  struct Waiter;

  // Under mutex_: an idle connection, a permit to open one, a refusal (closed), or nullopt when
  // the caller must wait.
  std::optional<Grant> take_locked();
  template <typename Token>
  auto async_grant(Token&& token);
  void release(std::unique_ptr<PgConnection> conn);
  void hand_over(std::unique_lock<std::mutex>& lock, Grant grant);
  // The reconnect damper: whether this caller may open a connection now, and its outcome.
  bool may_connect();
  void connected(const common::Error* failure);

  asio::any_io_executor executor_;
  Options options_;
  common::Logger& log_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  std::deque<std::shared_ptr<Waiter>> waiters_;
  std::size_t open_ = 0;  // connections in use + idle + being opened
  bool closed_ = false;
  std::uint64_t failures_in_row_ = 0;  // failed connects since the last success
  bool probing_ = false;               // a connect is in flight while failing
  std::chrono::steady_clock::time_point next_attempt_{};
  std::atomic<std::uint64_t> acquire_timeouts_{0};
  std::atomic<std::uint64_t> connect_failures_{0};
};

}  // namespace visitpay::store
