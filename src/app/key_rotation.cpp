#include "app/key_rotation.hpp"

#include "store/wrapped_key_column.hpp"

namespace visitpay::app {

namespace {

constexpr const char* kClaim = R"sql(
SELECT session_id::text, key_class, master_key_id, wrapped_key
FROM payer_keys WHERE master_key_id <> $1::text
LIMIT $2::int FOR UPDATE SKIP LOCKED)sql";

constexpr const char* kRewrap = R"sql(
UPDATE payer_keys SET master_key_id = $3::text, wrapped_key = $4::bytea, rewrapped_at = now()
WHERE session_id = $1::uuid AND key_class = $2::text)sql";

// Ends a transaction that failed part-way (its rows stay as they were).
void roll_back(store::PgSyncConnection& db) {
  (void)db.exec("ROLLBACK");
}

}  // namespace

common::Result<RotationReport> rotate_master_key(store::PgSyncConnection& db,
                                                 const PayerVault& vault,
                                                 const std::string& active_key_id,
                                                 common::Logger& log, int batch) {
  RotationReport report;
  report.active_key_id = active_key_id;
  while (true) {
    if (auto begun = db.exec("BEGIN"); !begun) return std::move(begun).error();
    store::PgParams claim;
    claim.add(active_key_id).add(batch);
    auto rows = db.exec(kClaim, claim);
    if (!rows) {
      roll_back(db);
      return std::move(rows).error();
    }
    for (int i = 0; i < rows->rows(); ++i) {
      const std::string session_id = rows->string(i, 0);
      const std::string key_class_text = rows->string(i, 1);
      const KeyClass key_class =
          key_class_text == "transient" ? KeyClass::transient : KeyClass::retained;
      auto old_key = store::wrapped_key(*rows, i, 2);
      if (!old_key) {
        roll_back(db);
        return common::make_error(common::ErrorCode::internal_error,
                                  "a wrapped data key is not valid bytea");
      }
      auto rewrapped = vault.rewrap(session_id, key_class, *old_key);
      if (!rewrapped) {
        roll_back(db);
        return std::move(rewrapped).error();
      }
      store::PgParams p;
      p.add(session_id)
          .add(key_class_text)
          .add(rewrapped->master_key_id)
          .add_bytea(rewrapped->wrapped);
      if (auto updated = db.exec(kRewrap, p); !updated) {
        roll_back(db);
        return std::move(updated).error();
      }
      ++report.from[old_key->master_key_id];
    }
    if (auto committed = db.exec("COMMIT"); !committed) return std::move(committed).error();
    report.rewrapped += rows->rows();
    // Rows another transaction holds (a purge deleting them) were skipped: they are looked at
    // again until none is left.
    if (rows->empty()) break;
  }
  log.info("keys.rotated", {{"active_key_id", active_key_id},
                            {"rewrapped", static_cast<long long>(report.rewrapped)}});
  return report;
}

common::Result<std::map<std::string, std::int64_t>> data_keys_per_master_key(
    store::PgSyncConnection& db) {
  auto rows = db.exec("SELECT master_key_id, count(*) FROM payer_keys GROUP BY 1 ORDER BY 1");
  if (!rows) return std::move(rows).error();
  std::map<std::string, std::int64_t> out;
  for (int i = 0; i < rows->rows(); ++i)
    out[rows->string(i, 0)] = rows->int64(i, 1);
  return out;
}

}  // namespace visitpay::app
