#include "store/privacy_store.hpp"

#include <vector>

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

// The rules: which sessions' payer data of which classes is past its purpose. Predicates over
// `sessions s JOIN payers p`; $4 is the rule's cut-off.
struct RuleSql {
  const char* name;
  const char* classes;
  const char* where;
};
constexpr RuleSql kRules[] = {
    {"paid_by_link", "{transient,retained}",
     "s.state = 'paid' AND s.paid_at < $4::timestamptz "
     "AND (p.transient_purged_at IS NULL OR p.retained_purged_at IS NULL)"},
    {"cancelled", "{transient,retained}",
     "s.state = 'cancelled' AND s.cancelled_at <= $4::timestamptz "
     "AND (p.transient_purged_at IS NULL OR p.retained_purged_at IS NULL)"},
    // Invoiced: the transient data's purpose ends when the invoice was issued (or voided).
    {"invoice_issued", "{transient}",
     "s.state = 'invoiced' AND p.transient_purged_at IS NULL AND $4::timestamptz IS NOT NULL "
     "AND EXISTS (SELECT 1 FROM invoices i WHERE i.session_id = s.id AND i.kind = 'invoice' "
     "AND i.status IN ('issued', 'paid', 'credited', 'void'))"},
    // The bookkeeping period: $4 is the first day of the oldest fiscal year still kept
    // (bokføringsloven § 13: five years after the end of the fiscal year).
    {"bookkeeping_period_ended", "{retained}",
     "s.state = 'invoiced' AND p.retained_purged_at IS NULL "
     "AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.session_id = s.id "
     "AND coalesce(i.issue_date, (i.created_at AT TIME ZONE 'Europe/Oslo')::date) >= $4::date)"},
    {"safety_net", "{transient,retained}",
     "s.created_at < $4::timestamptz "
     "AND (p.transient_purged_at IS NULL OR p.retained_purged_at IS NULL)"},
};
constexpr std::size_t kRuleCount = sizeof(kRules) / sizeof(kRules[0]);

// Statement texts live as long as the process (Statement holds views).
struct RuleStatements {
  std::vector<std::string> names, purge_texts, count_texts;
  std::vector<Statement> purge, count;
  RuleStatements() {
    for (const auto& rule : kRules) {
      const std::string from =
          "SELECT s.id FROM sessions s JOIN payers p ON p.session_id = s.id "
          "WHERE " +
          std::string(rule.where);
      names.push_back(std::string("privacy.purge_") + rule.name);
      purge_texts.push_back(purge_sql(from + " LIMIT $5 FOR UPDATE OF p SKIP LOCKED"));
      std::string counted =
          "SELECT count(*) FROM sessions s JOIN payers p ON p.session_id = s.id "
          "WHERE " +
          std::string(rule.where);
      while (counted.find("$4") != std::string::npos)
        counted.replace(counted.find("$4"), 2, "$1");
      count_texts.push_back(std::move(counted));
    }
    for (std::size_t i = 0; i < kRuleCount; ++i) {
      purge.push_back({names[i], purge_texts[i]});
      count.push_back({kRules[i].name, count_texts[i]});
    }
  }
};

const RuleStatements& statements() {
  static const RuleStatements s;
  return s;
}

std::string ts(domain::Timestamp t) {
  return common::format_rfc3339_utc(t);
}

std::vector<std::string> rule_cutoffs(const RetentionPolicy& policy, domain::Timestamp now) {
  const auto oslo = common::to_oslo(now);
  return {ts(now - policy.paid), ts(now - policy.cancelled), ts(now),
          std::to_string(oslo.year - policy.bookkeeping_years) + "-01-01",
          ts(now - policy.safety_net)};
}

}  // namespace

asio::awaitable<common::Result<std::int64_t>> PrivacyStore::purge_due(const RetentionPolicy& policy,
                                                                      domain::Timestamp now,
                                                                      int limit) {
  const auto cutoffs = rule_cutoffs(policy, now);
  std::int64_t purged = 0;
  for (std::size_t i = 0; i < kRuleCount; ++i) {
    PgParams p;
    p.add(kRules[i].classes).add(kRules[i].name).add(ts(now)).add(cutoffs[i]).add(limit);
    auto r = co_await pool_.execute(statements().purge[i], p);
    if (!r) co_return std::move(r).error();
    purged += r->int64(0, 0);
  }
  co_return purged;
}

common::Result<std::vector<OverdueCount>> PrivacyStore::overdue(PgSyncConnection& db,
                                                                const RetentionPolicy& policy,
                                                                domain::Timestamp now) {
  std::vector<OverdueCount> out;
  const auto cutoffs = rule_cutoffs(policy, now);
  for (std::size_t i = 0; i < kRuleCount; ++i) {
    PgParams p;
    p.add(cutoffs[i]);
    auto r = db.exec(statements().count[i].sql, p);
    if (!r) return std::move(r).error();
    out.push_back({kRules[i].name, r->int64(0, 0)});
  }
  // Plaintext left anywhere (rows from before encryption that were not migrated).
  auto plain = db.exec(
      "SELECT (SELECT count(*) FROM payers WHERE name IS NOT NULL OR national_id IS NOT NULL "
      "OR phone IS NOT NULL OR street IS NOT NULL) + (SELECT count(*) FROM invoices WHERE "
      "buyer_name IS NOT NULL OR buyer_street IS NOT NULL)");
  if (!plain) return std::move(plain).error();
  out.push_back({"plaintext", plain->int64(0, 0)});
  return out;
}

}  // namespace visitpay::store
