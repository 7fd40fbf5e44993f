#pragma once

#include <boost/asio/awaitable.hpp>

#include "store/pg_pool.hpp"

namespace visitpay::store {

// A transaction on one pooled connection, for work that needs several statements to commit
// together (a gapless number with its invoice). Dropping it without commit() rolls back: the pool
// discards a connection returned inside a transaction. Unlike PgPool::execute, nothing here is
// retried on a fresh connection; the caller's unit of work is retried as a whole.
class PgTransaction {
 public:
  static asio::awaitable<common::Result<PgTransaction>> begin(PgPool& pool);

  asio::awaitable<common::Result<PgResult>> execute(const Statement& statement,
                                                    const PgParams& params);
  // COPY ... FROM STDIN of `rows` (PgCopyRows::data()) into a table.
  asio::awaitable<common::Result<PgResult>> copy_in(const Statement& statement,
                                                    std::string_view rows);
  asio::awaitable<common::Result<void>> commit();
  // Ends it without changes and keeps the connection for the pool (cheaper than dropping it).
  asio::awaitable<common::Result<void>> rollback();

 private:
  explicit PgTransaction(PooledConnection conn) : conn_(std::move(conn)) {}
  PooledConnection conn_;
};

}  // namespace visitpay::store
