#include "store/privacy_store.hpp"

#include "common/time_format.hpp"

namespace visitpay::store {

namespace {

// The purge itself, after a rule's `due` CTE: $1 classes (text[]), $2 rule, $3 now, then the
// rule's own parameters from $4.
std::string purge_sql(const std::string& due) {
  return "WITH due AS (" + due + R"sql(
), dropped AS (
  DELETE FROM payer_keys k USING due
  WHERE k.session_id = due.id AND k.key_class = ANY ($1::text[])
), p AS (
  UPDATE payers
  SET national_id_enc = CASE WHEN 'transient' = ANY ($1::text[]) THEN NULL ELSE national_id_enc END,
      phone_enc = CASE WHEN 'transient' = ANY ($1::text[]) THEN NULL ELSE phone_enc END,
      name_enc = CASE WHEN 'retained' = ANY ($1::text[]) THEN NULL ELSE name_enc END,
      address_enc = CASE WHEN 'retained' = ANY ($1::text[]) THEN NULL ELSE address_enc END,
      national_id_hmac = CASE WHEN 'retained' = ANY ($1::text[]) THEN NULL ELSE national_id_hmac END,
      name = NULL, national_id = NULL, phone = NULL, street = NULL, postal_code = NULL,
      city = NULL, country = NULL,
      transient_purged_at = CASE WHEN 'transient' = ANY ($1::text[])
                                 THEN coalesce(transient_purged_at, $3::timestamptz)
                                 ELSE transient_purged_at END,
      retained_purged_at = CASE WHEN 'retained' = ANY ($1::text[])
                                THEN coalesce(retained_purged_at, $3::timestamptz)
                                ELSE retained_purged_at END,
      purge_rule = $2::text
  FROM due WHERE payers.session_id = due.id
  RETURNING payers.session_id
), buyer AS (
  UPDATE invoices
  SET buyer_name_enc = NULL, buyer_address_enc = NULL, buyer_name = NULL, buyer_street = NULL,
      buyer_postal_code = NULL, buyer_city = NULL, buyer_country = NULL
  FROM due WHERE 'retained' = ANY ($1::text[]) AND invoices.session_id = due.id
), link AS (
  UPDATE payment_orders SET payment_url = ''
  FROM due WHERE 'transient' = ANY ($1::text[]) AND payment_orders.session_id = due.id
), audit AS (
  INSERT INTO purge_events (session_id, classes, rule, actor, at)
  SELECT session_id, $1::text[], $2::text, 'purger', $3::timestamptz FROM p
)
SELECT count(*) FROM p)sql";
}

// Each rule: the sessions whose purpose for a class ended ($4 the cut-off, $5 the batch).
const std::string kPaidSql = purge_sql(R"sql(
  SELECT s.id FROM sessions s JOIN payers p ON p.session_id = s.id
  WHERE s.state = 'paid' AND s.paid_at < $4::timestamptz
    AND (p.transient_purged_at IS NULL OR p.retained_purged_at IS NULL)
  LIMIT $5 FOR UPDATE OF p SKIP LOCKED)sql");
const std::string kCancelledSql = purge_sql(R"sql(
  SELECT s.id FROM sessions s JOIN payers p ON p.session_id = s.id
  WHERE s.state = 'cancelled' AND s.cancelled_at <= $4::timestamptz
    AND (p.transient_purged_at IS NULL OR p.retained_purged_at IS NULL)
  LIMIT $5 FOR UPDATE OF p SKIP LOCKED)sql");
// Invoiced: the transient data's purpose ends when the invoice was issued (or voided).
const std::string kInvoiceIssuedSql = purge_sql(R"sql(
  SELECT s.id FROM sessions s JOIN payers p ON p.session_id = s.id
  WHERE s.state = 'invoiced' AND p.transient_purged_at IS NULL AND $4::timestamptz IS NOT NULL
    AND EXISTS (SELECT 1 FROM invoices i WHERE i.session_id = s.id AND i.kind = 'invoice'
                AND i.status IN ('issued', 'paid', 'credited', 'void'))
  LIMIT $5 FOR UPDATE OF p SKIP LOCKED)sql");
// The bookkeeping period: $4 is the first day of the fiscal year whose invoices may go now
// (bokføringsloven § 13: five years after the end of the fiscal year).
const std::string kBookkeepingSql = purge_sql(R"sql(
  SELECT s.id FROM sessions s JOIN payers p ON p.session_id = s.id
  WHERE s.state = 'invoiced' AND p.retained_purged_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.session_id = s.id
                    AND coalesce(i.issue_date, (i.created_at AT TIME ZONE 'Europe/Oslo')::date)
                        >= $4::date)
  LIMIT $5 FOR UPDATE OF p SKIP LOCKED)sql");
const std::string kSafetyNetSql = purge_sql(R"sql(
  SELECT s.id FROM sessions s JOIN payers p ON p.session_id = s.id
  WHERE s.created_at < $4::timestamptz
    AND (p.transient_purged_at IS NULL OR p.retained_purged_at IS NULL)
  LIMIT $5 FOR UPDATE OF p SKIP LOCKED)sql");

const Statement kPaid{"privacy.purge_paid", kPaidSql};
const Statement kCancelled{"privacy.purge_cancelled", kCancelledSql};
const Statement kInvoiceIssued{"privacy.purge_invoice_issued", kInvoiceIssuedSql};
const Statement kBookkeeping{"privacy.purge_bookkeeping", kBookkeepingSql};
const Statement kSafetyNet{"privacy.purge_safety_net", kSafetyNetSql};

std::string ts(domain::Timestamp t) {
  return common::format_rfc3339_utc(t);
}

}  // namespace

asio::awaitable<common::Result<std::int64_t>> PrivacyStore::purge_due(const RetentionPolicy& policy,
                                                                      domain::Timestamp now,
                                                                      int limit) {
  const auto oslo = common::to_oslo(now);
  const std::string first_kept_year =
      std::to_string(oslo.year - policy.bookkeeping_years) + "-01-01";
  struct Rule {
    const Statement* statement;
    const char* classes;
    const char* name;
    std::string cutoff;
  };
  const Rule rules[] = {
      {&kPaid, "{transient,retained}", "paid_by_link", ts(now - policy.paid)},
      {&kCancelled, "{transient,retained}", "cancelled", ts(now - policy.cancelled)},
      {&kInvoiceIssued, "{transient}", "invoice_issued", ts(now)},
      {&kBookkeeping, "{retained}", "bookkeeping_period_ended", first_kept_year},
      {&kSafetyNet, "{transient,retained}", "safety_net", ts(now - policy.safety_net)},
  };
  std::int64_t purged = 0;
  for (const auto& rule : rules) {
    PgParams p;
    p.add(rule.classes).add(rule.name).add(ts(now)).add(rule.cutoff).add(limit);
    auto r = co_await pool_.execute(*rule.statement, p);
    if (!r) co_return std::move(r).error();
    purged += r->int64(0, 0);
  }
  co_return purged;
}

}  // namespace visitpay::store
