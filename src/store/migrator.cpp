#include <algorithm>
#include <map>

#include "common/crypto.hpp"
#include "store/migrations.hpp"

namespace visitpay::store {

using common::ErrorCode;
using common::make_error;
using common::Result;

namespace {

// "visitpay" as eight ASCII bytes read as a bigint, so every instance takes the same lock.
constexpr std::string_view kLockKey = "8532477865792397689";

constexpr std::string_view kCreateTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  version    integer PRIMARY KEY,
  name       text NOT NULL,
  checksum   text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
))sql";

std::string checksum(std::string_view sql) {
  return common::to_hex(common::sha256(sql));
}

// Unlocks on every path out of migrate().
class AdvisoryLock {
 public:
  explicit AdvisoryLock(PgSyncConnection& db) : db_(db) {}
  Result<void> lock() {
    auto r = db_.exec("SELECT pg_advisory_lock(" + std::string(kLockKey) + ")");
    if (!r) return std::move(r).error();
    locked_ = true;
    return {};
  }
  ~AdvisoryLock() {
    if (locked_) (void)db_.exec("SELECT pg_advisory_unlock(" + std::string(kLockKey) + ")");
  }
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

 private:
  PgSyncConnection& db_;
  bool locked_ = false;
};

}  // namespace

int latest_schema_version(const std::vector<Migration>& migrations) {
  int latest = 0;
  for (const auto& m : migrations)
    latest = std::max(latest, m.version);
  return latest;
}

Result<int> applied_schema_version(PgSyncConnection& db) {
  auto exists = db.exec("SELECT to_regclass('schema_migrations') IS NOT NULL");
  if (!exists) return std::move(exists).error();
  if (!exists->boolean(0, 0)) return 0;
  auto r = db.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
  if (!r) return std::move(r).error();
  return static_cast<int>(r->int64(0, 0));
}

Result<int> migrate(PgSyncConnection& db, common::Logger& log,
                    const std::vector<Migration>& migrations) {
  AdvisoryLock lock(db);
  if (auto r = lock.lock(); !r) return std::move(r).error();
  if (auto r = db.exec(kCreateTable); !r) return std::move(r).error();

  auto applied = db.exec("SELECT version, checksum FROM schema_migrations ORDER BY version");
  if (!applied) return std::move(applied).error();
  std::map<int, std::string> done;
  for (int i = 0; i < applied->rows(); ++i) {
    done[static_cast<int>(applied->int64(i, 0))] = applied->string(i, 1);
  }
  const int latest = latest_schema_version(migrations);
  if (!done.empty() && done.rbegin()->first > latest) {
    return make_error(ErrorCode::internal_error, "the database schema (version " +
                                                     std::to_string(done.rbegin()->first) +
                                                     ") is newer than this build knows (" +
                                                     std::to_string(latest) + "); refusing to run");
  }

  std::vector<Migration> ordered = migrations;
  std::sort(ordered.begin(), ordered.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (const auto& m : ordered) {
    const std::string sum = checksum(m.sql);
    if (auto it = done.find(m.version); it != done.end()) {
      if (it->second != sum) {
        return make_error(ErrorCode::internal_error,
                          "migration " + std::string(m.name) +
                              " was changed after it was applied; migrations are forward-only");
      }
      continue;
    }
    if (auto r = db.exec("BEGIN"); !r) return std::move(r).error();
    auto applied_now = db.exec(m.sql);
    if (!applied_now) {
      (void)db.exec("ROLLBACK");
      auto error = std::move(applied_now).error();
      error.detail = "migration " + std::string(m.name) + ": " + error.detail;
      return error;
    }
    PgParams params;
    params.add(m.version).add(std::string(m.name)).add(sum);
    if (auto r = db.exec("INSERT INTO schema_migrations (version, name, checksum) "
                         "VALUES ($1::int, $2, $3)",
                         params);
        !r) {
      (void)db.exec("ROLLBACK");
      return std::move(r).error();
    }
    if (auto r = db.exec("COMMIT"); !r) return std::move(r).error();
    log.info("db.migrated", {{"version", m.version}, {"name", m.name}});
  }
  return latest;
}

}  // namespace visitpay::store

namespace visitpay::store {

namespace {
constexpr Statement kSchemaVersion{"schema.version",
                                   "SELECT coalesce(max(version), 0) FROM schema_migrations"};
}  // namespace

asio::awaitable<Result<int>> applied_schema_version(PgPool& pool) {
  auto r = co_await pool.execute(kSchemaVersion, PgParams{});
  if (!r) co_return std::move(r).error();
  co_return static_cast<int>(r->int64(0, 0));
}

}  // namespace visitpay::store
