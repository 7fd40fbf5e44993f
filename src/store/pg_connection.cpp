#include "store/pg_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "store/pg_conninfo.hpp"

namespace visitpay::store {

using common::ErrorCode;
using common::make_error;
using common::Result;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
}  // namespace

bool is_connection_failure(const PgFailure& f) {
  return f.sqlstate.empty() || f.sqlstate.rfind("08", 0) == 0 || f.sqlstate == "57P01" ||
         f.sqlstate == "57P02" || f.sqlstate == "57P03";
}

std::string pg_text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string pg_text_array(const std::vector<std::optional<std::string>>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i] ? pg_text_array(std::vector<std::string>{*items[i]}).substr(1) : "NULL}";
    out.pop_back();
  }
  out += '}';
  return out;
}

std::string pg_int_array(const std::vector<std::int64_t>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(items[i]);
  }
  out += '}';
  return out;
}

std::string pg_bytea_array(const std::vector<std::vector<std::uint8_t>>& items) {
  std::vector<std::string> hex;
  hex.reserve(items.size());
  for (const auto& item : items)
    hex.push_back(pg_bytea_hex(item.data(), item.size()));
  return pg_text_array(hex);
}

void PgCopyRows::separate() {
  if (row_open_) data_ += '\t';
  row_open_ = true;
}

PgCopyRows& PgCopyRows::add(std::string_view value) {
  separate();
  for (char c : value) {
    switch (c) {
      case '\\':
        data_ += "\\\\";
        break;
      case '\t':
        data_ += "\\t";
        break;
      case '\n':
        data_ += "\\n";
        break;
      case '\r':
        data_ += "\\r";
        break;
      default:
        data_ += c;
    }
  }
  return *this;
}

PgCopyRows& PgCopyRows::add(std::int64_t value) {
  separate();
  data_ += std::to_string(value);
  return *this;
}

PgCopyRows& PgCopyRows::add_null() {
  separate();
  data_ += "\\N";
  return *this;
}

void PgCopyRows::end_row() {
  data_ += '\n';
  row_open_ = false;
}

std::string pg_bytea_hex(const std::uint8_t* data, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\\x";
  out.reserve(2 + 2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 0xf];
  }
  return out;
}

PgConnection::PgConnection(const asio::any_io_executor& executor, PGconn* conn,
                           const Options& options)
    : conn_(conn), socket_(executor), deadline_(executor), options_(options) {}

PgConnection::~PgConnection() {
  // libpq owns the file descriptor; only deregister it from the reactor.
  if (socket_.is_open()) socket_.release();
  PQfinish(conn_);
}

void PgConnection::assign_socket() {
  // Always registered afresh: while connecting, libpq closes a socket that failed and opens the
  // next host's, which usually gets the same descriptor number. Keeping the old registration
  // would leave the reactor waiting on a socket the kernel no longer knows (no fail-over).
  if (socket_.is_open()) socket_.release();
  const int fd = PQsocket(conn_);
  if (fd >= 0) socket_.assign(fd);
}

asio::awaitable<bool> PgConnection::wait(Wait what) {
  const auto type = what == Wait::read ? asio::posix::stream_descriptor::wait_read
                                       : asio::posix::stream_descriptor::wait_write;
  // The two operations race in a group, which cancels the loser; unlike the awaitable
  // operators, it spawns no coroutine per wait (this runs a few times for every query).
  auto [order, socket_ec, deadline_ec] =
      co_await asio::experimental::make_parallel_group(socket_.async_wait(type, asio::deferred),
                                                       deadline_.async_wait(asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  if (order[0] == 1) co_return false;  // the deadline passed first
  co_return !socket_ec;
}

common::Error PgConnection::fail(std::string_view what, PGresult* result) {
  last_failure_ = {};
  if (result) {
    if (const char* s = PQresultErrorField(result, PG_DIAG_SQLSTATE)) last_failure_.sqlstate = s;
    if (const char* c = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME)) {
      last_failure_.constraint = c;
    }
  }
  if (!result || PQstatus(conn_) != CONNECTION_OK) broken_ = true;
  const bool unavailable =
      is_connection_failure(last_failure_) || last_failure_.sqlstate == "57014";
  std::string detail(what);
  if (!last_failure_.sqlstate.empty()) detail += " (SQLSTATE " + last_failure_.sqlstate + ")";
  return make_error(unavailable ? ErrorCode::database_unavailable : ErrorCode::internal_error,
                    detail);
}

asio::awaitable<Result<std::unique_ptr<PgConnection>>> PgConnection::connect(
    asio::any_io_executor executor, const Options& options) {
  // Host names are looked up here, off the I/O threads; libpq gets addresses only.
  auto conninfo = co_await resolve_conninfo(executor, options.conninfo, options.connect_timeout);
  if (!conninfo) co_return std::move(conninfo).error();
  PGconn* raw = PQconnectStart(conninfo->c_str());
  if (!raw) co_return make_error(ErrorCode::database_unavailable, "out of memory");
  std::unique_ptr<PgConnection> c(new PgConnection(executor, raw, options));
  if (PQstatus(raw) == CONNECTION_BAD) {
    co_return make_error(ErrorCode::database_unavailable, "cannot start a database connection");
  }
  PQsetnonblocking(raw, 1);
  c->deadline_.expires_after(options.connect_timeout);
  PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
  while (poll != PGRES_POLLING_OK) {
    if (poll == PGRES_POLLING_FAILED) {
      co_return make_error(ErrorCode::database_unavailable, "cannot connect to the database");
    }
    c->assign_socket();
    if (!co_await c->wait(poll == PGRES_POLLING_READING ? Wait::read : Wait::write)) {
      co_return make_error(ErrorCode::database_unavailable, "database connect timed out");
    }
    poll = PQconnectPoll(raw);
  }
  c->assign_socket();
  // Session settings every statement relies on: UTC text timestamps, a server-side timeout.
  const std::string setup =
      "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET statement_timeout = " +
      std::to_string(options.statement_timeout.count()) + "; SET application_name = 'visitpay'";
  auto r = co_await c->command(setup);
  if (!r) co_return std::move(r).error();
  co_return c;
}

common::Error PgConnection::lost(std::string_view what, bool sent) {
  broken_ = true;
  auto error = fail(what);
  last_failure_.maybe_executed = sent;
  return error;
}

asio::awaitable<bool> PgConnection::flush() {
  for (;;) {
    const int flushed = PQflush(conn_);
    if (flushed == 0) co_return true;
    if (flushed < 0 || !co_await wait(Wait::write)) co_return false;
  }
}

asio::awaitable<Result<PgResult>> PgConnection::finish_query(bool takes_effect) {
  // Flush what libpq buffered, then read until every result of the query arrived. Until the
  // flush is complete the server lacks the closing Sync message, and an implicit transaction
  // only commits at Sync: a failure up to here cannot have changed anything.
  if (!co_await flush()) co_return fail("sending the query failed");
  const bool sent = takes_effect;
  PgResult first_error;
  PgResult last;
  bool have_error = false;
  // The answer cannot be there yet: wait for the socket before the first read (saves a recv).
  if (!co_await wait(Wait::read)) co_return lost("the database did not answer in time", sent);
  for (;;) {
    if (PQconsumeInput(conn_) == 0) {
      // The server's error (e.g. 57P01, terminated while idle) arrived before the connection
      // closed: the statement did not commit, and the caller may send it again.
      if (have_error) co_return fail("statement failed", first_error.raw());
      co_return lost("the database connection was lost", sent);
    }
    bool done = false;
    while (!PQisBusy(conn_)) {
      PGresult* r = PQgetResult(conn_);
      if (!r) {
        done = true;
        break;
      }
      const auto status = PQresultStatus(r);
      if ((status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE) && !have_error) {
        first_error = PgResult(r);
        have_error = true;
      } else {
        last = PgResult(r);
      }
    }
    if (done) break;
    // On a timeout a query is still in flight: lost() marks the connection broken.
    if (!co_await wait(Wait::read)) co_return lost("the database did not answer in time", sent);
  }
  if (have_error) co_return fail("statement failed", first_error.raw());
  co_return last;
}

asio::awaitable<Result<void>> PgConnection::prepare(const Statement& statement) {
  if (prepared_.count(statement.name)) co_return common::Ok{};
  const std::string name(statement.name);
  const std::string sql(statement.sql);
  if (PQsendPrepare(conn_, name.c_str(), sql.c_str(), 0, nullptr) == 0) {
    co_return fail("preparing the statement failed");
  }
  auto prepared = co_await finish_query(/*takes_effect=*/false);
  if (!prepared) co_return std::move(prepared).error();
  prepared_.insert(statement.name);
  co_return common::Ok{};
}

namespace {

std::vector<const char*> raw_values(const PgParams& params) {
  const auto& values = params.values();
  std::vector<const char*> raw(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    raw[i] = values[i] ? values[i]->c_str() : nullptr;
  }
  return raw;
}

}  // namespace

asio::awaitable<Result<std::vector<PgResult>>> PgConnection::finish_pipeline(int first, int count,
                                                                             bool takes_effect) {
  // Each query's results end with a null result; the Sync's own result ends the pipeline. After
  // an error the server skips to the Sync, and the queries after it read PIPELINE_ABORTED.
  if (!co_await flush()) co_return lost("sending the query failed", takes_effect);
  PgResult first_error;
  std::vector<PgResult> answers(static_cast<std::size_t>(count));
  int query = 0;
  for (;;) {
    if (!co_await wait(Wait::read)) {
      co_return lost("the database did not answer in time", takes_effect);
    }
    if (PQconsumeInput(conn_) == 0)
      co_return lost("the database connection was lost", takes_effect);
    while (!PQisBusy(conn_)) {
      PGresult* r = PQgetResult(conn_);
      if (r == nullptr) {
        ++query;
        continue;
      }
      const auto status = PQresultStatus(r);
      if (status == PGRES_PIPELINE_SYNC) {
        PQclear(r);
        if (PQexitPipelineMode(conn_) == 0) broken_ = true;
        if (first_error.raw()) co_return fail("statement failed", first_error.raw());
        co_return answers;
      }
      if ((status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE) && !first_error.raw()) {
        first_error = PgResult(r);
      } else if (query >= first && query < first + count && status != PGRES_PIPELINE_ABORTED) {
        answers[static_cast<std::size_t>(query - first)] = PgResult(r);
      } else {
        PQclear(r);
      }
    }
  }
}

asio::awaitable<Result<PgResult>> PgConnection::execute(const Statement& statement,
                                                        const PgParams& params) {
  if (!healthy()) co_return fail("the database connection is broken");
  // The server enforces statement_timeout; the client deadline only catches a dead peer.
  deadline_.expires_after(options_.statement_timeout + std::chrono::seconds(2));
  auto prepared = co_await prepare(statement);
  if (!prepared) co_return std::move(prepared).error();
  const std::string name(statement.name);
  const auto raw = raw_values(params);
  if (PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(raw.size()), raw.data(), nullptr,
                          nullptr, 0) == 0) {
    co_return fail("sending the statement failed");
  }
  co_return co_await finish_query(/*takes_effect=*/true);
}

asio::awaitable<Result<std::vector<PgResult>>> PgConnection::execute_between(
    std::string_view before, std::span<const PgCall> calls, std::string_view after) {
  if (!healthy()) co_return fail("the database connection is broken");
  deadline_.expires_after(options_.statement_timeout + std::chrono::seconds(2));
  for (const auto& call : calls) {
    auto prepared = co_await prepare(call.statement);
    if (!prepared) co_return std::move(prepared).error();
  }
  if (PQenterPipelineMode(conn_) == 0) co_return fail("entering pipeline mode failed");
  const auto send_command = [this](std::string_view command) {
    const std::string text(command);
    return PQsendQueryParams(conn_, text.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
  };
  bool sent = before.empty() || send_command(before);
  for (const auto& call : calls) {
    const std::string name(call.statement.name);
    const auto raw = raw_values(call.params);
    sent = sent && PQsendQueryPrepared(conn_, name.c_str(), static_cast<int>(raw.size()),
                                       raw.data(), nullptr, nullptr, 0) == 1;
  }
  sent = sent && (after.empty() || send_command(after)) && PQpipelineSync(conn_) == 1;
  if (!sent) {
    broken_ = true;  // part of a pipeline may be queued: the connection cannot be trusted
    co_return fail("sending the statement failed");
  }
  // Only a COMMIT behind them can make the statements take effect before the answer arrives.
  co_return co_await finish_pipeline(before.empty() ? 0 : 1, static_cast<int>(calls.size()),
                                     /*takes_effect=*/!after.empty());
}

asio::awaitable<Result<PgResult>> PgConnection::command(std::string_view sql) {
  if (!healthy()) co_return fail("the database connection is broken");
  deadline_.expires_after(options_.statement_timeout + std::chrono::seconds(2));
  const std::string text(sql);
  if (PQsendQuery(conn_, text.c_str()) == 0) co_return fail("sending the command failed");
  co_return co_await finish_query(/*takes_effect=*/true);
}

asio::awaitable<Result<void>> PgConnection::await_copy_in() {
  if (!co_await flush()) co_return fail("sending the COPY failed");
  PgResult error;
  for (;;) {
    if (!co_await wait(Wait::read)) co_return lost("the database did not answer in time", true);
    if (PQconsumeInput(conn_) == 0) co_return lost("the database connection was lost", true);
    while (!PQisBusy(conn_)) {
      PGresult* r = PQgetResult(conn_);
      // A refused COPY ends with its error, then no more results.
      if (!r) co_return fail("COPY refused", error.raw());
      PgResult result(r);
      if (PQresultStatus(r) == PGRES_COPY_IN) co_return common::Ok{};
      if (!error.raw()) error = std::move(result);
    }
  }
}

asio::awaitable<Result<PgResult>> PgConnection::copy_in(const Statement& statement,
                                                        std::string_view rows) {
  if (!healthy()) co_return fail("the database connection is broken");
  deadline_.expires_after(options_.statement_timeout + std::chrono::seconds(2));
  const std::string sql(statement.sql);
  if (PQsendQuery(conn_, sql.c_str()) == 0) co_return fail("sending the COPY failed");
  auto ready = co_await await_copy_in();
  if (!ready) co_return std::move(ready).error();
  // In pieces, each sent before the next is queued, so libpq's buffer stays small.
  constexpr std::size_t kPiece = std::size_t{64} << 10;
  for (std::size_t at = 0; at < rows.size(); at += kPiece) {
    const auto piece = rows.substr(at, kPiece);
    if (PQputCopyData(conn_, piece.data(), static_cast<int>(piece.size())) != 1 ||
        !co_await flush()) {
      co_return lost("sending the COPY data failed", true);
    }
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) co_return lost("ending the COPY failed", true);
  co_return co_await finish_query(/*takes_effect=*/true);
}

}  // namespace visitpay::store
