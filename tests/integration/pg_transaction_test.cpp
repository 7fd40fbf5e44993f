// Transactions against a real PostgreSQL. The round trips saved: the BEGIN goes with the first
// statement and execute_and_commit() sends the last one with the COMMIT (pipeline mode), with the
// same outcome as one statement at a time: all or nothing, the first error reported with its
// SQLSTATE, a failed transaction's connection never handed out again. COPY FROM STDIN (how a
// bank file's payments are staged): the rows arrive as sent, escapes and NULLs included, also
// when they are far larger than one piece of libpq's buffer; a refused COPY fails with its
// SQLSTATE and leaves nothing behind.
#include "store/pg_transaction.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <string_view>

#include "common/log.hpp"
#include "pg_cluster.hpp"
#include "store/pg_pool.hpp"

namespace visitpay::testing {
namespace {

namespace asio = boost::asio;
using common::Result;

constexpr store::Statement kCreate{"test.copy_create",
                                   "CREATE TEMP TABLE copied (n bigint, t text) ON COMMIT DROP"};
constexpr store::Statement kCopy{"test.copy_in", "COPY copied (n, t) FROM STDIN"};
constexpr store::Statement kCopyNowhere{"test.copy_nowhere", "COPY no_such_table FROM STDIN"};
constexpr store::Statement kRows{"test.copy_rows",
                                 "SELECT count(*), coalesce(sum(n), 0) FROM copied WHERE n > 100"};
constexpr store::Statement kText{"test.copy_text",
                                 "SELECT t IS NULL, coalesce(t, '') FROM copied WHERE n = $1"};

constexpr std::array<std::string_view, 8> kAwkward = {
    "tab\there", "new\nline", "back\\slash", "cr\rhere", "\\.", "\\N", "", "plain"};
constexpr std::int64_t kMany = 50000;

class PgCopyTest : public ::testing::Test {
 protected:
  template <typename T>
  T run(asio::awaitable<T> work) {
    auto f = asio::co_spawn(io_, std::move(work), asio::use_future);
    io_.restart();
    io_.run();
    return f.get();
  }

  store::PgPool::Options options() const {
    store::PgPool::Options o;
    o.connection.conninfo = shared_cluster().conninfo();
    o.max_size = 1;
    return o;
  }

  asio::io_context io_;
  common::Logger log_{common::LogLevel::error};
  store::PgPool pool_{io_.get_executor(), options(), log_};
};

// What the test reads back: kAwkward[i] as stored (nullopt for NULL), and the bulk rows' count
// and sum.
struct ReadBack {
  std::vector<std::optional<std::string>> awkward;
  std::int64_t bulk_rows = 0, bulk_sum = 0;
};

asio::awaitable<Result<ReadBack>> copy_and_read(store::PgPool& pool) {
  auto tx = co_await store::PgTransaction::begin(pool);
  if (!tx) co_return std::move(tx).error();
  auto created = co_await tx->execute(kCreate, store::PgParams{});
  if (!created) co_return std::move(created).error();
  store::PgCopyRows rows;
  for (std::size_t i = 0; i < kAwkward.size(); ++i)
    rows.add(static_cast<std::int64_t>(i)).add(kAwkward[i]).end_row();
  rows.add(std::int64_t{99}).add_null().end_row();
  for (std::int64_t n = 101; n < 101 + kMany; ++n)
    rows.add(n).add(std::string(40, 'x')).end_row();
  auto copied = co_await tx->copy_in(kCopy, rows.data());
  if (!copied) co_return std::move(copied).error();
  ReadBack out;
  for (std::int64_t i = 0; i <= static_cast<std::int64_t>(kAwkward.size()); ++i) {
    store::PgParams p;
    p.add(i == static_cast<std::int64_t>(kAwkward.size()) ? std::int64_t{99} : i);
    auto r = co_await tx->execute(kText, p);
    if (!r) co_return std::move(r).error();
    if (r->empty()) co_return common::make_error(common::ErrorCode::internal_error, "row missing");
    out.awkward.push_back(r->boolean(0, 0) ? std::nullopt : r->optional_string(0, 1));
  }
  auto bulk = co_await tx->execute(kRows, store::PgParams{});
  if (!bulk) co_return std::move(bulk).error();
  out.bulk_rows = bulk->int64(0, 0);
  out.bulk_sum = bulk->int64(0, 1);
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  co_return out;
}

asio::awaitable<Result<void>> copy_nowhere(store::PgPool& pool) {
  auto tx = co_await store::PgTransaction::begin(pool);
  if (!tx) co_return std::move(tx).error();
  auto copied = co_await tx->copy_in(kCopyNowhere, "1\n");
  if (!copied) co_return std::move(copied).error();
  co_return common::Ok{};
}

TEST_F(PgCopyTest, RowsArriveAsSentEscapesAndNullsIncluded) {
  const auto read = run(copy_and_read(pool_));
  ASSERT_TRUE(read) << read.error().detail;
  ASSERT_EQ(read->awkward.size(), kAwkward.size() + 1);
  for (std::size_t i = 0; i < kAwkward.size(); ++i) {
    EXPECT_EQ(read->awkward[i], std::optional<std::string>(std::string(kAwkward[i])))
        << "row " << i;
  }
  EXPECT_EQ(read->awkward.back(), std::nullopt);  // \N
  EXPECT_EQ(read->bulk_rows, kMany);              // about 2.4 MB: many pieces
  EXPECT_EQ(read->bulk_sum, (101 + 100 + kMany) * kMany / 2);
}

TEST_F(PgCopyTest, ARefusedCopyFailsWithItsSqlstateAndTheNextUserIsServed) {
  const auto refused = run(copy_nowhere(pool_));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().detail.find("42P01"), std::string::npos) << refused.error().detail;
  // The failed transaction's connection was dropped; the pool serves the next one.
  const auto read = run(copy_and_read(pool_));
  ASSERT_TRUE(read) << read.error().detail;
  EXPECT_EQ(read->bulk_rows, kMany);
}

constexpr store::Statement kTable{"test.tx_table",
                                  "CREATE TABLE IF NOT EXISTS tx_probe (n int PRIMARY KEY)"};
constexpr store::Statement kInsert{"test.tx_insert",
                                   "INSERT INTO tx_probe VALUES ($1) RETURNING n"};
constexpr store::Statement kCount{"test.tx_count",
                                  "SELECT count(*), coalesce(sum(n), 0) FROM tx_probe"};
constexpr store::Statement kInTransaction{"test.tx_xid",
                                          "SELECT pg_current_xact_id_if_assigned() IS NOT NULL"};

asio::awaitable<Result<std::string>> count_rows(store::PgPool& pool) {
  const store::PgParams none;
  auto r = co_await pool.execute(kCount, none);
  if (!r) co_return std::move(r).error();
  co_return r->string(0, 0) + " " + r->string(0, 1);
}

// Three inserts in one transaction: the first carries the BEGIN, the last the COMMIT. `last`
// may repeat an earlier value (a unique violation at the end).
asio::awaitable<Result<std::string>> insert_three(store::PgPool& pool, int first, int last) {
  const store::PgParams none;
  auto made = co_await pool.execute(kTable, none);
  if (!made) co_return std::move(made).error();
  auto tx = co_await store::PgTransaction::begin(pool);
  if (!tx) co_return std::move(tx).error();
  store::PgParams a;
  a.add(first);
  auto one = co_await tx->execute(kInsert, a);
  if (!one) co_return std::move(one).error();
  // The BEGIN went ahead of the first statement: the insert is inside a transaction.
  auto xid = co_await tx->execute(kInTransaction, none);
  if (!xid) co_return std::move(xid).error();
  if (xid->string(0, 0) != "t")
    co_return common::make_error(common::ErrorCode::internal_error, "no transaction");
  store::PgParams b;
  b.add(first + 1);
  auto two = co_await tx->execute(kInsert, b);
  if (!two) co_return std::move(two).error();
  store::PgParams c;
  c.add(last);
  auto three = co_await tx->execute_and_commit(kInsert, c);
  if (!three) co_return std::move(three).error();
  co_return three->string(0, 0);
}

TEST_F(PgCopyTest, TheBeginAndTheCommitTravelWithTheStatementsAndTheOutcomeIsTheSame) {
  auto inserted = run(insert_three(pool_, 1, 3));
  ASSERT_TRUE(inserted) << inserted.error().detail;
  EXPECT_EQ(*inserted, "3");  // the last statement's own result, sent with the COMMIT
  EXPECT_EQ(run(count_rows(pool_)).value(), "3 6");

  // The last statement fails: nothing of the transaction stays, the error names its SQLSTATE
  // and constraint, and the pool's next user gets a clean connection.
  auto refused = run(insert_three(pool_, 10, 10));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().detail.find("23505"), std::string::npos) << refused.error().detail;
  EXPECT_EQ(run(count_rows(pool_)).value(), "3 6");

  // The first statement fails (the one that carries the BEGIN): the same.
  auto first_refused = run(insert_three(pool_, 1, 20));
  ASSERT_FALSE(first_refused);
  EXPECT_NE(first_refused.error().detail.find("23505"), std::string::npos);
  EXPECT_EQ(run(count_rows(pool_)).value(), "3 6");

  auto after = run(insert_three(pool_, 30, 32));
  ASSERT_TRUE(after) << after.error().detail;
  EXPECT_EQ(run(count_rows(pool_)).value(), "6 99");
}

asio::awaitable<Result<void>> nothing_sent(store::PgPool& pool) {
  auto tx = co_await store::PgTransaction::begin(pool);
  if (!tx) co_return std::move(tx).error();
  co_return co_await tx->commit();  // no statement: no BEGIN was ever sent
}

TEST_F(PgCopyTest, ATransactionWithoutStatementsCommitsNothingAndKeepsItsConnection) {
  ASSERT_TRUE(run(nothing_sent(pool_)));
  ASSERT_TRUE(run(nothing_sent(pool_)));
  EXPECT_EQ(pool_.stats().open, 1u);
}

}  // namespace
}  // namespace visitpay::testing
