#include "app/legacy_lines.hpp"

#include <string>

#include "app/line_descriptions.hpp"
#include "store/wrapped_key_column.hpp"

namespace visitpay::app {

namespace {

// Whole sessions (their lines in order), at most 500 of them per batch.
constexpr const char* kLegacyLines = R"sql(
WITH batch AS (
  SELECT DISTINCT l.session_id FROM session_lines l
  JOIN payer_keys k ON k.session_id = l.session_id AND k.key_class = 'retained'
  WHERE l.description IS NOT NULL LIMIT 500
)
SELECT l.session_id::text, l.line_no, l.description, k.master_key_id, k.wrapped_key
FROM batch
JOIN session_lines l ON l.session_id = batch.session_id AND l.description IS NOT NULL
JOIN payer_keys k ON k.session_id = l.session_id AND k.key_class = 'retained'
ORDER BY l.session_id, l.line_no)sql";

// Guarded by description IS NOT NULL, so a line is sealed once even if two processes run this.
constexpr const char* kSealLine = R"sql(
UPDATE session_lines SET description_enc = $3::bytea, description = NULL
WHERE session_id = $1::uuid AND line_no = $2::integer AND description IS NOT NULL)sql";

// An invoice's (and its credit note's) visit lines are the session's lines, copied: they take the
// session line's ciphertext (same key, same line_no). This also mends a line that an instance of
// the previous version copied from a line already sealed (during a rolling upgrade): it holds
// neither. A purged session line has no ciphertext to give.
constexpr const char* kLegacyInvoiceLines = R"sql(
UPDATE invoice_lines il SET description_enc = sl.description_enc, description = NULL
FROM invoices i, session_lines sl
WHERE il.invoice_id = i.id AND sl.session_id = i.session_id AND sl.line_no = il.line_no
  AND NOT il.is_fee AND il.description_enc IS NULL AND sl.description_enc IS NOT NULL)sql";

// What has no retained key any more (the class was purged) goes: plaintext there is no key to
// seal under, and ciphertext nobody can open (a purge by the previous version left it).
constexpr const char* kDropOrphanSessionLines = R"sql(
UPDATE session_lines l SET description = NULL, description_enc = NULL
WHERE (l.description IS NOT NULL OR l.description_enc IS NOT NULL) AND NOT EXISTS (
  SELECT 1 FROM payer_keys k WHERE k.session_id = l.session_id AND k.key_class = 'retained'))sql";

constexpr const char* kDropOrphanInvoiceLines = R"sql(
UPDATE invoice_lines il SET description = NULL, description_enc = NULL
FROM invoices i
WHERE il.invoice_id = i.id AND NOT il.is_fee
  AND (il.description IS NOT NULL OR il.description_enc IS NOT NULL) AND NOT EXISTS (
  SELECT 1 FROM payer_keys k WHERE k.session_id = i.session_id AND k.key_class = 'retained'))sql";

struct Batch {
  int lines = 0;            // found still in plaintext
  std::int64_t sealed = 0;  // sealed by this call (another process may have been first)
};

common::Result<Batch> seal_batch(store::PgSyncConnection& db, const PayerVault& vault) {
  auto rows = db.exec(kLegacyLines);
  if (!rows) return std::move(rows).error();
  Batch batch{rows->rows(), 0};
  for (int i = 0; i < rows->rows();) {
    const std::string session_id = rows->string(i, 0);
    auto key = store::wrapped_key(*rows, i, 3);
    if (!key) return common::make_error(common::ErrorCode::internal_error, "a bad wrapped key");
    auto retained = vault.unlock(session_id, KeyClass::retained, *key);
    if (!retained) return std::move(retained).error();
    for (; i < rows->rows() && rows->string(i, 0) == session_id; ++i) {
      const auto line_no = static_cast<int>(rows->int64(i, 1));
      const auto sealed = seal_description(*retained, line_no, rows->string(i, 2));
      store::PgParams p;
      p.add(session_id).add(line_no).add_bytea(sealed);
      auto updated = db.exec(kSealLine, p);
      if (!updated) return std::move(updated).error();
      batch.sealed += updated->affected_rows();
    }
  }
  return batch;
}

}  // namespace

common::Result<std::int64_t> seal_legacy_lines(store::PgSyncConnection& db, const PayerVault& vault,
                                               common::Logger& log) {
  std::int64_t done = 0;
  while (true) {
    auto batch = seal_batch(db, vault);
    if (!batch) return std::move(batch).error();
    if (batch->lines == 0) break;
    done += batch->sealed;
  }
  for (const char* statement :
       {kLegacyInvoiceLines, kDropOrphanSessionLines, kDropOrphanInvoiceLines}) {
    auto updated = db.exec(statement);
    if (!updated) return std::move(updated).error();
    done += updated->affected_rows();
  }
  if (done > 0) log.info("lines.legacy_sealed", {{"rows", static_cast<long long>(done)}});
  return done;
}

}  // namespace visitpay::app
