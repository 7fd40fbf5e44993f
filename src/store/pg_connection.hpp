#pragma once

#include <libpq-fe.h>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/result.hpp"
#include "store/pg_result.hpp"
#include "store/statement.hpp"

namespace visitpay::store {

namespace asio = boost::asio;

// Facts about a failed statement that are safe to log: SQLSTATE and constraint name only.
// PostgreSQL's message and DETAIL can quote row values (personal data), so they are dropped.
struct PgFailure {
  std::string sqlstate;    // empty when the connection failed before the server answered
  std::string constraint;  // PG_DIAG_CONSTRAINT_NAME, if any
  // The statement reached the server whole and then the connection was lost without an answer:
  // it may have committed. False when it failed before it was sent, or the server said it failed.
  bool maybe_executed = false;
};

// One statement of a pipeline (PgConnection::execute_between): what to run, with what. It only
// refers to both, so the parameters must outlive the call: a temporary is refused at compile time
// (`{kStatement, make_params()}` would dangle before the pipeline is sent).
struct PgCall {
  PgCall(const Statement& s, const PgParams& p) : statement(s), params(p) {}
  PgCall(const Statement&, PgParams&&) = delete;
  const Statement& statement;
  const PgParams& params;
};

// One libpq connection in non-blocking mode whose socket is driven by Asio. Used by one
// coroutine at a time (the pool guarantees this).
class PgConnection {
 public:
  struct Options {
    std::string conninfo;
    std::chrono::milliseconds connect_timeout{3000};
    std::chrono::milliseconds statement_timeout{5000};
  };

  static asio::awaitable<common::Result<std::unique_ptr<PgConnection>>> connect(
      asio::any_io_executor executor, const Options& options);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Prepares the statement on first use, then executes it with text parameters.
  asio::awaitable<common::Result<PgResult>> execute(const Statement& statement,
                                                    const PgParams& params);
  // Statements and the commands around them in one round trip (libpq's pipeline mode):
  // `before` ("BEGIN") is sent ahead of them and `after` ("COMMIT") behind them; either may be
  // empty. Returns the statements' results, or the first error (what followed it then did not
  // run). Saves a transaction the round trips of its BEGIN, its COMMIT and of statements that
  // need nothing from each other's answers.
  asio::awaitable<common::Result<std::vector<PgResult>>> execute_between(
      std::string_view before, std::span<const PgCall> calls, std::string_view after);
  // Simple-protocol command without parameters (BEGIN, COMMIT, SET ...).
  asio::awaitable<common::Result<PgResult>> command(std::string_view sql);
  // Runs `statement` (COPY ... FROM STDIN) and sends it `rows` (PgCopyRows::data()).
  asio::awaitable<common::Result<PgResult>> copy_in(const Statement& statement,
                                                    std::string_view rows);

  // False once the connection is known to be unusable (server gone, protocol desync).
  bool healthy() const { return !broken_ && PQstatus(conn_) == CONNECTION_OK; }
  // Healthy and outside any transaction: safe to hand to the next user. A connection given back
  // inside a transaction (its user failed before COMMIT) is dropped, which rolls it back.
  bool reusable() const { return healthy() && PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  const PgFailure& last_failure() const { return last_failure_; }

 private:
  PgConnection(const asio::any_io_executor& executor, PGconn* conn, const Options& options);

  enum class Wait { read, write };
  asio::awaitable<bool> wait(Wait what);
  // Sends what libpq buffered; false when the socket failed or the deadline passed.
  asio::awaitable<bool> flush();
  // After a COPY FROM STDIN was sent: until the server is ready for the data.
  asio::awaitable<common::Result<void>> await_copy_in();
  // `takes_effect`: false for PREPARE, whose loss cannot have changed anything.
  asio::awaitable<common::Result<PgResult>> finish_query(bool takes_effect);
  // Prepares `statement` on this connection unless it already is.
  asio::awaitable<common::Result<void>> prepare(const Statement& statement);
  // Reads a pipeline's results up to its Sync: those of queries first .. first + count - 1.
  asio::awaitable<common::Result<std::vector<PgResult>>> finish_pipeline(int first, int count,
                                                                         bool takes_effect);
  common::Error lost(std::string_view what, bool sent);
  common::Error fail(std::string_view what, PGresult* result = nullptr);
  void assign_socket();

  PGconn* conn_;
  asio::posix::stream_descriptor socket_;
  asio::steady_timer deadline_;
  Options options_;
  std::unordered_set<std::string_view> prepared_;
  PgFailure last_failure_;
  bool broken_ = false;
};

// True for SQLSTATEs that mean the server or the connection is unavailable (class 08, 57P0x).
bool is_connection_failure(const PgFailure& failure);

}  // namespace visitpay::store
