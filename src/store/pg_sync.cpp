#include "store/pg_sync.hpp"

#include <vector>

namespace visitpay::store {

using common::ErrorCode;
using common::make_error;
using common::Result;

Result<PgSyncConnection> PgSyncConnection::open(const std::string& conninfo) {
  PGconn* raw = PQconnectdb(conninfo.c_str());
  PgSyncConnection c(raw);
  if (!raw || PQstatus(raw) != CONNECTION_OK) {
    return make_error(ErrorCode::database_unavailable, "cannot connect to the database");
  }
  if (auto r = c.exec("SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'"); !r) {
    return std::move(r).error();
  }
  return c;
}

Result<PgResult> PgSyncConnection::check(PGresult* result) {
  PgResult owned(result);
  const auto status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return owned;
  std::string detail = "statement failed";
  if (result) {
    if (const char* s = PQresultErrorField(result, PG_DIAG_SQLSTATE)) {
      detail += std::string(" (SQLSTATE ") + s + ")";
    }
    // Admin commands run on operator-controlled data; the primary message helps fix a migration.
    if (const char* m = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY)) {
      detail += std::string(": ") + m;
    }
  }
  const bool down = PQstatus(conn_.get()) != CONNECTION_OK;
  return make_error(down ? ErrorCode::database_unavailable : ErrorCode::internal_error, detail);
}

Result<PgResult> PgSyncConnection::exec(std::string_view sql) {
  const std::string text(sql);
  return check(PQexec(conn_.get(), text.c_str()));
}

Result<PgResult> PgSyncConnection::exec(std::string_view sql, const PgParams& params) {
  const std::string text(sql);
  std::vector<const char*> raw;
  for (const auto& v : params.values())
    raw.push_back(v ? v->c_str() : nullptr);
  return check(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(raw.size()), nullptr,
                            raw.data(), nullptr, nullptr, 0));
}

}  // namespace visitpay::store
