#include "store/pg_transaction.hpp"

namespace visitpay::store {

asio::awaitable<common::Result<PgTransaction>> PgTransaction::begin(PgPool& pool) {
  auto conn = co_await pool.acquire();
  if (!conn) co_return std::move(conn).error();
  auto begun = co_await (*conn)->command("BEGIN");
  if (!begun) co_return std::move(begun).error();
  co_return PgTransaction(std::move(conn.value()));
}

asio::awaitable<common::Result<PgResult>> PgTransaction::execute(const Statement& statement,
                                                                 const PgParams& params) {
  co_return co_await conn_->execute(statement, params);
}

asio::awaitable<common::Result<PgResult>> PgTransaction::copy_in(const Statement& statement,
                                                                 std::string_view rows) {
  co_return co_await conn_->copy_in(statement, rows);
}

asio::awaitable<common::Result<void>> PgTransaction::commit() {
  auto done = co_await conn_->command("COMMIT");
  if (!done) co_return std::move(done).error();
  co_return common::Ok{};
}

asio::awaitable<common::Result<void>> PgTransaction::rollback() {
  auto done = co_await conn_->command("ROLLBACK");
  if (!done) co_return std::move(done).error();
  co_return common::Ok{};
}

}  // namespace visitpay::store
