#pragma once

#include <libpq-fe.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/result.hpp"
#include "store/pg_result.hpp"
#include "store/statement.hpp"

namespace visitpay::store {

// A blocking libpq connection for start-up and admin commands only (migrate, clients add).
// Never used on an I/O thread.
class PgSyncConnection {
 public:
  static common::Result<PgSyncConnection> open(const std::string& conninfo);

  common::Result<PgResult> exec(std::string_view sql);
  common::Result<PgResult> exec(std::string_view sql, const PgParams& params);

 private:
  explicit PgSyncConnection(PGconn* conn) : conn_(conn, &PQfinish) {}
  common::Result<PgResult> check(PGresult* result);
  std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

}  // namespace visitpay::store
