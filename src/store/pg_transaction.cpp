#include "store/pg_transaction.hpp"

#include <utility>

namespace visitpay::store {

namespace {
constexpr std::string_view kBegin = "BEGIN";
constexpr std::string_view kCommit = "COMMIT";
}  // namespace

asio::awaitable<common::Result<PgTransaction>> PgTransaction::begin(PgPool& pool) {
  auto conn = co_await pool.acquire();
  if (!conn) co_return std::move(conn).error();
  co_return PgTransaction(std::move(conn.value()));
}

std::string_view PgTransaction::take_begin() {
  return std::exchange(begun_, true) ? std::string_view{} : kBegin;
}

asio::awaitable<common::Result<void>> PgTransaction::open() {
  const std::string_view before = take_begin();
  if (before.empty()) co_return common::Ok{};
  auto begun = co_await conn_->command(before);
  if (!begun) co_return std::move(begun).error();
  co_return common::Ok{};
}

asio::awaitable<common::Result<PgResult>> PgTransaction::execute(const Statement& statement,
                                                                 const PgParams& params) {
  if (begun_) co_return co_await conn_->execute(statement, params);
  co_return co_await send_one(statement, params, {});
}

asio::awaitable<common::Result<PgResult>> PgTransaction::execute_and_commit(
    const Statement& statement, const PgParams& params) {
  co_return co_await send_one(statement, params, kCommit);
}

asio::awaitable<common::Result<std::vector<PgResult>>> PgTransaction::execute(
    std::span<const PgCall> calls) {
  const std::string_view before = take_begin();
  co_return co_await conn_->execute_between(before, calls, {});
}

asio::awaitable<common::Result<std::vector<PgResult>>> PgTransaction::execute_and_commit(
    std::span<const PgCall> calls) {
  const std::string_view before = take_begin();
  co_return co_await conn_->execute_between(before, calls, kCommit);
}

asio::awaitable<common::Result<PgResult>> PgTransaction::send_one(const Statement& statement,
                                                                  const PgParams& params,
                                                                  std::string_view after) {
  const std::string_view before = take_begin();
  const PgCall call{statement, params};
  auto results = co_await conn_->execute_between(before, std::span<const PgCall>(&call, 1), after);
  if (!results) co_return std::move(results).error();
  co_return std::move(results->front());
}

asio::awaitable<common::Result<PgResult>> PgTransaction::copy_in(const Statement& statement,
                                                                 std::string_view rows) {
  auto opened = co_await open();
  if (!opened) co_return std::move(opened).error();
  co_return co_await conn_->copy_in(statement, rows);
}

asio::awaitable<common::Result<void>> PgTransaction::commit() {
  if (!begun_) co_return common::Ok{};  // nothing was sent: nothing to commit
  auto done = co_await conn_->command(kCommit);
  if (!done) co_return std::move(done).error();
  co_return common::Ok{};
}

asio::awaitable<common::Result<void>> PgTransaction::rollback() {
  if (!begun_) co_return common::Ok{};
  auto done = co_await conn_->command("ROLLBACK");
  if (!done) co_return std::move(done).error();
  co_return common::Ok{};
}

}  // namespace visitpay::store
