#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "domain/retention.hpp"
#include "domain/sealed_payer.hpp"
#include "store/pg_pool.hpp"
#include "store/pg_sync.hpp"

namespace visitpay::store {

using domain::RetentionPolicy;

// Purging destroys a class's wrapped data key and its ciphertexts in one statement (crypto-
// shredding) and writes a purge_events row (session, classes, rule, actor, time; no personal
// data). Rows are claimed with SKIP LOCKED, so several instances share the work.
// Rows of one rule still holding personal data past the policy (expected: none).
struct OverdueCount {
  std::string rule;
  std::int64_t sessions = 0;
};

// What is held about one session of a data subject (found by the look-up hash): the ciphertexts
// and wrapped keys still there, and what was purged when.
struct SubjectInvoice {
  std::string id;
  std::string kind;  // invoice | credit_note
  std::int64_t number = 0;
  std::string status;
  std::optional<std::string> issue_date;  // YYYY-MM-DD
  domain::Timestamp created_at;
};

// A line of the visit: its description is health information, sealed under the retained key
// (app/line_descriptions.hpp) and gone once that class was purged; lines from before migration
// 0019 not sealed yet still hold their plaintext.
struct SubjectLine {
  int line_no = 0;
  domain::Ore amount = 0;
  std::optional<common::Bytes> description_enc;
  std::optional<std::string> description;
};

struct PurgeRecord {
  std::vector<std::string> classes;
  std::string rule;
  std::string actor;
  domain::Timestamp at;
};

struct SubjectSession {
  std::string id;
  std::string clinic_id;
  std::string state;
  domain::Ore amount = 0;
  domain::Timestamp created_at;
  std::optional<domain::Timestamp> transient_purged_at;
  std::optional<domain::Timestamp> retained_purged_at;
  std::optional<domain::WrappedKey> transient_key;  // nullopt once purged
  std::optional<domain::WrappedKey> retained_key;
  std::optional<common::Bytes> national_id_enc, phone_enc, name_enc, address_enc, payment_url_enc,
      email_enc;
  std::vector<SubjectLine> lines;
  std::vector<SubjectInvoice> invoices;
  std::vector<PurgeRecord> purges;
};

// A data-subject request as audited: who asked what, when, and which sessions it touched (no
// personal data: not even the look-up hash).
struct PrivacyRequestRecord {
  std::string kind;  // access | erasure
  std::string actor;
  domain::Timestamp at;
  std::vector<std::string> session_ids;
};

// The classes an erasure destroyed in one session.
struct ErasedSession {
  std::string session_id;
  std::vector<std::string> classes;
};

class PrivacyStore {
 public:
  explicit PrivacyStore(PgPool& pool) : pool_(pool) {}

  // One pass of every rule, `limit` sessions per statement, each rule until it has nothing left
  // that is due. Returns the sessions purged.
  asio::awaitable<common::Result<std::int64_t>> purge_due(const RetentionPolicy& policy,
                                                          domain::Timestamp now, int limit);

  // Every session whose payer has this look-up hash, oldest first, with its lines, invoices and
  // purges.
  asio::awaitable<common::Result<std::vector<SubjectSession>>> subject(
      const common::Sha256Digest& lookup);

  // Art. 17 erasure, in one transaction with its audit record: destroys what no law requires
  // kept (see the rules in privacy_store.cpp) and returns what went per session. `clinic_ids`
  // limits it to those clinics (empty: all).
  asio::awaitable<common::Result<std::vector<ErasedSession>>> erase(
      const common::Sha256Digest& lookup, const std::vector<std::string>& clinic_ids,
      const PrivacyRequestRecord& audit);

  // Art. 15 access, audited before the data is handed out.
  asio::awaitable<common::Result<void>> record_request(const PrivacyRequestRecord& audit);

  // A rule's purge statement as the purger runs it ($1 rule, $2 now, $3 actor, $4 cut-off,
  // $5 limit; tests/bench/purge_pgbench_script). nullptr for an unknown rule.
  static const Statement* purge_statement(std::string_view rule);

  // Sessions holding data past the policy at `now`, all rules together: the purge lag's gauge.
  asio::awaitable<common::Result<std::int64_t>> held_past_policy(const RetentionPolicy& policy,
                                                                 domain::Timestamp now);

  // For `visitpay privacy check`: per rule, how many sessions hold data past the policy, plus
  // any plaintext left ("plaintext").
  // The same count through the pool (GET /v1/privacy/check).
  asio::awaitable<common::Result<std::vector<OverdueCount>>> overdue(const RetentionPolicy& policy,
                                                                     domain::Timestamp now);
  static common::Result<std::vector<OverdueCount>> overdue(PgSyncConnection& db,
                                                           const RetentionPolicy& policy,
                                                           domain::Timestamp now);

 private:
  PgPool& pool_;
};

}  // namespace visitpay::store
