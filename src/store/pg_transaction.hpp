#pragma once

#include <boost/asio/awaitable.hpp>
#include <span>
#include <vector>

#include "store/pg_pool.hpp"

namespace visitpay::store {

// A transaction on one pooled connection, for work that needs several statements to commit
// together (a gapless number with its invoice). Dropping it without commit() rolls back: the pool
// discards a connection returned inside a transaction. Unlike PgPool::execute, nothing here is
// retried on a fresh connection; the caller's unit of work is retried as a whole.
//
// The BEGIN travels with the first statement, and execute_and_commit() sends the last one with
// the COMMIT: a transaction of n statements costs n round trips, not n + 2.
class PgTransaction {
 public:
  static asio::awaitable<common::Result<PgTransaction>> begin(PgPool& pool);

  asio::awaitable<common::Result<PgResult>> execute(const Statement& statement,
                                                    const PgParams& params);
  // Statements that need nothing from each other's answers, in one round trip; their results.
  asio::awaitable<common::Result<std::vector<PgResult>>> execute(std::span<const PgCall> calls);
  // The last statement and the COMMIT together; the statement's result. After an error nothing
  // is committed (and the transaction is over, as after a failed commit()).
  asio::awaitable<common::Result<PgResult>> execute_and_commit(const Statement& statement,
                                                               const PgParams& params);
  // The last statements (none needing another's answer) and the COMMIT in one round trip.
  asio::awaitable<common::Result<std::vector<PgResult>>> execute_and_commit(
      std::span<const PgCall> calls);
  // COPY ... FROM STDIN of `rows` (PgCopyRows::data()) into a table.
  asio::awaitable<common::Result<PgResult>> copy_in(const Statement& statement,
                                                    std::string_view rows);
  asio::awaitable<common::Result<void>> commit();
  // Ends it without changes and keeps the connection for the pool (cheaper than dropping it).
  asio::awaitable<common::Result<void>> rollback();

 private:
  explicit PgTransaction(PooledConnection conn) : conn_(std::move(conn)) {}
  // One statement with what it needs around it: the BEGIN if not yet sent, then `after`.
  asio::awaitable<common::Result<PgResult>> send_one(const Statement& statement,
                                                     const PgParams& params,
                                                     std::string_view after);
  // "BEGIN" the first time (it goes ahead of the statements sent now), "" after that.
  std::string_view take_begin();
  // Sends the BEGIN on its own (before a COPY, which cannot share a round trip).
  asio::awaitable<common::Result<void>> open();
  PooledConnection conn_;
  bool begun_ = false;  // the BEGIN has been sent
};

}  // namespace visitpay::store
