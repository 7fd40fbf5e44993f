#pragma once

#include <string_view>
#include <vector>

#include "common/log.hpp"
#include "common/result.hpp"
#include "store/pg_pool.hpp"
#include "store/pg_sync.hpp"

namespace visitpay::store {

// A numbered, forward-only schema change from schemas/migrations/NNNN_name.sql.
struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;
};

// Compiled into the binary from schemas/migrations (see embed_migrations.cmake).
const std::vector<Migration>& embedded_migrations();
int latest_schema_version(const std::vector<Migration>& migrations = embedded_migrations());

// Applies pending migrations under an advisory lock, so several instances may start at once.
// Refuses a database whose schema is newer than this build, or whose applied migrations differ
// from the files this build carries. Returns the schema version afterwards.
common::Result<int> migrate(PgSyncConnection& db, common::Logger& log,
                            const std::vector<Migration>& migrations = embedded_migrations());

// The highest applied version (0 for an empty database).
common::Result<int> applied_schema_version(PgSyncConnection& db);

}  // namespace visitpay::store

namespace visitpay::store {
class PgPool;
// The applied schema version through the pool (for /readyz; never blocks an I/O thread).
asio::awaitable<common::Result<int>> applied_schema_version(PgPool& pool);
}  // namespace visitpay::store
