#include "store/privacy_store.hpp"

#include <vector>

#include "common/time_format.hpp"
#include "store/pg_transaction.hpp"
#include "store/wrapped_key_column.hpp"

namespace visitpay::store {

namespace {

// The purge itself, after a `due` CTE of (id, classes text[]): $1 rule, $2 now, $3 actor, then
// the rule's own parameters from $4. Classes: transient, retained, lookup (the look-up hash), and
// email (the e-mail address alone, a retained-key field whose purpose ends before the
// bookkeeping's). Retained covers the e-mail address and the visit lines' descriptions too
// (session, invoice and credit-note lines; the fee line's fixed text stays).
std::string purge_sql(const std::string& due) {
  return "WITH due AS (" + due + R"sql(
), dropped AS (
  DELETE FROM payer_keys k USING due
  WHERE k.session_id = due.id AND k.key_class = ANY (due.classes)
), p AS (
  UPDATE payers
  SET national_id_enc = CASE WHEN 'transient' = ANY (due.classes) THEN NULL ELSE national_id_enc END,
      phone_enc = CASE WHEN 'transient' = ANY (due.classes) THEN NULL ELSE phone_enc END,
      name_enc = CASE WHEN 'retained' = ANY (due.classes) THEN NULL ELSE name_enc END,
      address_enc = CASE WHEN 'retained' = ANY (due.classes) THEN NULL ELSE address_enc END,
      email_enc = CASE WHEN 'retained' = ANY (due.classes) OR 'email' = ANY (due.classes)
                       THEN NULL ELSE email_enc END,
      national_id_hmac = CASE WHEN 'lookup' = ANY (due.classes) THEN NULL ELSE national_id_hmac END,
      name = NULL, national_id = NULL, phone = NULL, street = NULL, postal_code = NULL,
      city = NULL, country = NULL,
      transient_purged_at = CASE WHEN 'transient' = ANY (due.classes)
                                 THEN coalesce(transient_purged_at, $2::timestamptz)
                                 ELSE transient_purged_at END,
      retained_purged_at = CASE WHEN 'retained' = ANY (due.classes)
                                THEN coalesce(retained_purged_at, $2::timestamptz)
                                ELSE retained_purged_at END,
      purge_rule = $1::text
  FROM due WHERE payers.session_id = due.id
  RETURNING payers.session_id, due.classes
), buyer AS (
  UPDATE invoices
  SET buyer_name_enc = NULL, buyer_address_enc = NULL, buyer_name = NULL, buyer_street = NULL,
      buyer_postal_code = NULL, buyer_city = NULL, buyer_country = NULL
  FROM due WHERE 'retained' = ANY (due.classes) AND invoices.session_id = due.id
), visit_lines AS (
  UPDATE session_lines SET description = NULL, description_enc = NULL
  FROM due WHERE 'retained' = ANY (due.classes) AND session_lines.session_id = due.id
), invoiced_lines AS (
  UPDATE invoice_lines l SET description = NULL, description_enc = NULL
  FROM due, invoices i
  WHERE 'retained' = ANY (due.classes) AND i.session_id = due.id AND l.invoice_id = i.id
    AND NOT l.is_fee
), link AS (
  UPDATE payment_orders SET payment_url = NULL, payment_url_enc = NULL
  FROM due WHERE 'transient' = ANY (due.classes) AND payment_orders.session_id = due.id
), audit AS (
  INSERT INTO purge_events (session_id, classes, rule, actor, at)
  SELECT session_id, classes, $1::text, $3::text, $2::timestamptz FROM p
)
SELECT session_id::text, classes FROM p)sql";
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
    // Invoiced: the transient data's purpose ends when the invoice was issued (or voided): any
    // status past the review, also one the invoice reached before the purger looked.
    {"invoice_issued", "{transient}",
     "s.state = 'invoiced' AND p.transient_purged_at IS NULL AND $4::timestamptz IS NOT NULL "
     "AND EXISTS (SELECT 1 FROM invoices i WHERE i.session_id = s.id AND i.kind = 'invoice' "
     "AND i.status <> 'pending_review')"},
    // The e-mail address serves the letters only (invoice, credit note, reminders): it goes once
    // the claim is settled (paid in full, credited, void, or handed to the collection agency)
    // and no delivery for the session is waiting or running (a credit note, a last letter).
    {"claim_settled", "{email}",
     "s.state = 'invoiced' AND p.email_enc IS NOT NULL AND $4::timestamptz IS NOT NULL "
     "AND EXISTS (SELECT 1 FROM invoices i WHERE i.session_id = s.id AND i.kind = 'invoice' "
     "AND i.status IN ('paid', 'credited', 'void', 'sent_to_collection')) "
     "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.session_id = s.id AND o.status = 'pending' "
     "AND o.kind IN ('deliver_invoice', 'deliver_credit_note'))"},
    // The bookkeeping period: $4 is the first day of the oldest fiscal year still kept
    // (bokføringsloven § 13: five years after the end of the fiscal year).
    {"bookkeeping_period_ended", "{retained}",
     "s.state = 'invoiced' AND p.retained_purged_at IS NULL "
     "AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.session_id = s.id "
     "AND coalesce(i.issue_date, (i.created_at AT TIME ZONE 'Europe/Oslo')::date) >= $4::date)"},
    // The look-up hash outlives the data it finds (so an access request can still say "purged
    // at ..."); only the safety net removes it.
    {"safety_net", "{transient,retained,lookup}",
     "s.created_at < $4::timestamptz AND (p.transient_purged_at IS NULL "
     "OR p.retained_purged_at IS NULL OR p.national_id_hmac IS NOT NULL)"},
};
constexpr std::size_t kRuleCount = sizeof(kRules) / sizeof(kRules[0]);

// Statement texts live as long as the process (Statement holds views).
struct RuleStatements {
  std::vector<std::string> names, purge_texts, count_texts;
  std::vector<Statement> purge, count;
  RuleStatements() {
    for (const auto& rule : kRules) {
      const std::string from = "SELECT s.id, '" + std::string(rule.classes) +
                               "'::text[] AS classes FROM sessions s JOIN payers p ON "
                               "p.session_id = s.id "
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

// Art. 17 erasure of one data subject ($4: the look-up hash), naming only the classes it
// destroys now (not those the policy purged before). Sessions with an open claim
// (pending, awaiting payment, being invoiced) are left to the policy (GDPR Art. 17(3)(e)); with an
// invoice, the name and address on it are bookkeeping documentation (bokføringsloven § 13, GDPR
// Art. 17(3)(b)) and stay, and so does the look-up hash that finds them; everything else goes,
// the e-mail address too (class email: it is not bookkeeping, letters go by post after an
// erasure), also when the policy had already purged the transient data.
const Statement& erase_statement() {
  static const std::string text = purge_sql(R"sql(
  SELECT s.id, CASE WHEN EXISTS (SELECT 1 FROM invoices i WHERE i.session_id = s.id)
                    THEN array_remove(array_remove('{transient,email}'::text[],
                           CASE WHEN p.transient_purged_at IS NOT NULL THEN 'transient' END),
                           CASE WHEN p.email_enc IS NULL THEN 'email' END)
                    ELSE array_remove(array_remove('{transient,retained,lookup}'::text[],
                           CASE WHEN p.transient_purged_at IS NOT NULL THEN 'transient' END),
                           CASE WHEN p.retained_purged_at IS NOT NULL THEN 'retained' END)
               END AS classes
  FROM sessions s JOIN payers p ON p.session_id = s.id
  WHERE p.national_id_hmac = $4::bytea AND s.state IN ('paid', 'cancelled', 'invoiced')
    AND (cardinality($5::text[]) = 0 OR s.clinic_id = ANY ($5::text[]))
    AND (p.transient_purged_at IS NULL OR p.email_enc IS NOT NULL
         OR NOT EXISTS (SELECT 1 FROM invoices i WHERE i.session_id = s.id))
  FOR UPDATE OF s, p)sql");
  static const Statement statement{"privacy.erase", text};
  return statement;
}

constexpr Statement kSubjectSessions{"privacy.subject_sessions", R"sql(
SELECT s.id::text, s.clinic_id, s.state, s.amount_ore, s.created_at, p.transient_purged_at,
       p.retained_purged_at, kt.master_key_id, kt.wrapped_key, kr.master_key_id, kr.wrapped_key,
       p.national_id_enc, p.phone_enc, p.name_enc, p.address_enc, o.payment_url_enc, p.email_enc
FROM payers p
JOIN sessions s ON s.id = p.session_id
LEFT JOIN payer_keys kt ON kt.session_id = s.id AND kt.key_class = 'transient'
LEFT JOIN payer_keys kr ON kr.session_id = s.id AND kr.key_class = 'retained'
LEFT JOIN payment_orders o ON o.session_id = s.id
WHERE p.national_id_hmac = $1::bytea
ORDER BY s.created_at, s.id)sql"};

constexpr Statement kSubjectLines{"privacy.subject_lines", R"sql(
SELECT session_id::text, line_no, amount_ore, description_enc, description
FROM session_lines WHERE session_id = ANY ($1::uuid[])
ORDER BY session_id, line_no)sql"};

constexpr Statement kSubjectInvoices{"privacy.subject_invoices", R"sql(
SELECT session_id::text, id::text, kind, number, status, issue_date::text, created_at
FROM invoices WHERE session_id = ANY ($1::uuid[])
ORDER BY created_at, number)sql"};

constexpr Statement kSubjectPurges{"privacy.subject_purges", R"sql(
SELECT session_id::text, classes, rule, actor, at
FROM purge_events WHERE session_id = ANY ($1::uuid[])
ORDER BY at, id)sql"};

constexpr Statement kRecordRequest{"privacy.record_request", R"sql(
INSERT INTO privacy_requests (kind, actor, at, session_ids)
VALUES ($1::text, $2::text, $3::timestamptz, $4::uuid[]))sql"};

// "{a,b}" (a text[] of plain words) -> {"a", "b"}.
std::vector<std::string> text_array(std::string_view text) {
  std::vector<std::string> out;
  if (text.size() < 2) return out;
  text = text.substr(1, text.size() - 2);
  while (!text.empty()) {
    const auto comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::optional<domain::Timestamp> optional_ts(const PgResult& r, int row, int col) {
  if (r.is_null(row, col)) return std::nullopt;
  return common::parse_pg_timestamptz(r.text(row, col));
}

domain::Timestamp timestamp(const PgResult& r, int row, int col) {
  return optional_ts(r, row, col).value_or(domain::Timestamp{});
}

PgParams request_params(const PrivacyRequestRecord& audit) {
  PgParams p;
  p.add(audit.kind).add(audit.actor).add(ts(audit.at)).add(pg_text_array(audit.session_ids));
  return p;
}

std::vector<std::string> rule_cutoffs(const RetentionPolicy& policy, domain::Timestamp now) {
  const auto oslo = common::to_oslo(now);
  return {ts(now - policy.paid),
          ts(now - policy.cancelled),
          ts(now),
          ts(now),
          std::to_string(oslo.year - policy.bookkeeping_years) + "-01-01",
          ts(now - policy.safety_net)};
}

}  // namespace

const Statement* PrivacyStore::purge_statement(std::string_view rule) {
  for (std::size_t i = 0; i < kRuleCount; ++i) {
    if (rule == kRules[i].name) return &statements().purge[i];
  }
  return nullptr;
}

asio::awaitable<common::Result<std::int64_t>> PrivacyStore::purge_due(const RetentionPolicy& policy,
                                                                      domain::Timestamp now,
                                                                      int limit) {
  const auto cutoffs = rule_cutoffs(policy, now);
  std::int64_t purged = 0;
  for (std::size_t i = 0; i < kRuleCount; ++i) {
    PgParams p;
    p.add(kRules[i].name).add(ts(now)).add("purger").add(cutoffs[i]).add(limit);
    // A rule with a backlog is drained before the next one is looked at.
    while (true) {
      auto r = co_await pool_.execute(statements().purge[i], p);
      if (!r) co_return std::move(r).error();
      purged += r->rows();
      if (r->rows() < limit) break;
    }
  }
  co_return purged;
}

asio::awaitable<common::Result<std::int64_t>> PrivacyStore::held_past_policy(
    const RetentionPolicy& policy, domain::Timestamp now) {
  const auto cutoffs = rule_cutoffs(policy, now);
  std::int64_t held = 0;
  for (std::size_t i = 0; i < kRuleCount; ++i) {
    PgParams p;
    p.add(cutoffs[i]);
    auto r = co_await pool_.execute(statements().count[i], p);
    if (!r) co_return std::move(r).error();
    held += r->int64(0, 0);
  }
  co_return held;
}

asio::awaitable<common::Result<std::vector<SubjectSession>>> PrivacyStore::subject(
    const common::Sha256Digest& lookup) {
  PgParams p;
  p.add_bytea(lookup);
  auto r = co_await pool_.execute(kSubjectSessions, p);
  if (!r) co_return std::move(r).error();
  std::vector<SubjectSession> out;
  std::vector<std::string> ids;
  for (int i = 0; i < r->rows(); ++i) {
    SubjectSession s;
    s.id = r->string(i, 0);
    s.clinic_id = r->string(i, 1);
    s.state = r->string(i, 2);
    s.amount = r->int64(i, 3);
    s.created_at = timestamp(*r, i, 4);
    s.transient_purged_at = optional_ts(*r, i, 5);
    s.retained_purged_at = optional_ts(*r, i, 6);
    s.transient_key = wrapped_key(*r, i, 7);
    s.retained_key = wrapped_key(*r, i, 9);
    s.national_id_enc = r->bytea(i, 11);
    s.phone_enc = r->bytea(i, 12);
    s.name_enc = r->bytea(i, 13);
    s.address_enc = r->bytea(i, 14);
    s.payment_url_enc = r->bytea(i, 15);
    s.email_enc = r->bytea(i, 16);
    ids.push_back(s.id);
    out.push_back(std::move(s));
  }
  if (out.empty()) co_return out;
  auto find = [&out](std::string_view id) -> SubjectSession* {
    for (auto& s : out) {
      if (s.id == id) return &s;
    }
    return nullptr;
  };
  PgParams q;
  q.add(pg_text_array(ids));
  auto lines = co_await pool_.execute(kSubjectLines, q);
  if (!lines) co_return std::move(lines).error();
  for (int i = 0; i < lines->rows(); ++i) {
    if (auto* s = find(lines->text(i, 0))) {
      s->lines.push_back({static_cast<int>(lines->int64(i, 1)), lines->int64(i, 2),
                          lines->bytea(i, 3), lines->optional_string(i, 4)});
    }
  }
  auto invoices = co_await pool_.execute(kSubjectInvoices, q);
  if (!invoices) co_return std::move(invoices).error();
  for (int i = 0; i < invoices->rows(); ++i) {
    if (auto* s = find(invoices->text(i, 0))) {
      s->invoices.push_back({invoices->string(i, 1), invoices->string(i, 2), invoices->int64(i, 3),
                             invoices->string(i, 4), invoices->optional_string(i, 5),
                             timestamp(*invoices, i, 6)});
    }
  }
  auto purges = co_await pool_.execute(kSubjectPurges, q);
  if (!purges) co_return std::move(purges).error();
  for (int i = 0; i < purges->rows(); ++i) {
    if (auto* s = find(purges->text(i, 0))) {
      s->purges.push_back({text_array(purges->text(i, 1)), purges->string(i, 2),
                           purges->string(i, 3), timestamp(*purges, i, 4)});
    }
  }
  co_return out;
}

asio::awaitable<common::Result<std::vector<ErasedSession>>> PrivacyStore::erase(
    const common::Sha256Digest& lookup, const std::vector<std::string>& clinic_ids,
    const PrivacyRequestRecord& audit) {
  auto tx = co_await PgTransaction::begin(pool_);
  if (!tx) co_return std::move(tx).error();
  PgParams p;
  p.add("erasure_request")
      .add(ts(audit.at))
      .add(audit.actor)
      .add_bytea(lookup)
      .add(pg_text_array(clinic_ids));
  auto r = co_await tx->execute(erase_statement(), p);
  if (!r) co_return std::move(r).error();
  auto recorded = co_await tx->execute(kRecordRequest, request_params(audit));
  if (!recorded) co_return std::move(recorded).error();
  auto committed = co_await tx->commit();
  if (!committed) co_return std::move(committed).error();
  std::vector<ErasedSession> out;
  out.reserve(static_cast<std::size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i)
    out.push_back({r->string(i, 0), text_array(r->text(i, 1))});
  co_return out;
}

asio::awaitable<common::Result<void>> PrivacyStore::record_request(
    const PrivacyRequestRecord& audit) {
  auto r = co_await pool_.execute(kRecordRequest, request_params(audit));
  if (!r) co_return std::move(r).error();
  co_return common::Ok{};
}

namespace {
// Plaintext left anywhere (rows from before encryption that were not migrated): payer fields,
// invoice buyers, payment links, and visit lines' descriptions (the fee line's text is not
// personal).
constexpr Statement kPlaintextLeft{"privacy.plaintext_left", R"sql(
SELECT (SELECT count(*) FROM payers WHERE name IS NOT NULL OR national_id IS NOT NULL
  OR phone IS NOT NULL OR street IS NOT NULL) + (SELECT count(*) FROM invoices WHERE
  buyer_name IS NOT NULL OR buyer_street IS NOT NULL) + (SELECT count(*) FROM
  payment_orders WHERE payment_url IS NOT NULL) + (SELECT count(*) FROM session_lines
  WHERE description IS NOT NULL) + (SELECT count(*) FROM invoice_lines
  WHERE description IS NOT NULL AND NOT is_fee))sql"};
}  // namespace

asio::awaitable<common::Result<std::vector<OverdueCount>>> PrivacyStore::overdue(
    const RetentionPolicy& policy, domain::Timestamp now) {
  std::vector<OverdueCount> out;
  const auto cutoffs = rule_cutoffs(policy, now);
  for (std::size_t i = 0; i < kRuleCount; ++i) {
    PgParams p;
    p.add(cutoffs[i]);
    auto r = co_await pool_.execute(statements().count[i], p);
    if (!r) co_return std::move(r).error();
    out.push_back({kRules[i].name, r->int64(0, 0)});
  }
  const PgParams none;
  auto plain = co_await pool_.execute(kPlaintextLeft, none);
  if (!plain) co_return std::move(plain).error();
  out.push_back({"plaintext", plain->int64(0, 0)});
  co_return out;
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
  auto plain = db.exec(kPlaintextLeft.sql);
  if (!plain) return std::move(plain).error();
  out.push_back({"plaintext", plain->int64(0, 0)});
  return out;
}

}  // namespace visitpay::store
