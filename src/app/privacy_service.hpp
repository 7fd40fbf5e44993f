#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/auth.hpp"
#include "app/payer_vault.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "domain/retention.hpp"
#include "ports/clock.hpp"
#include "store/privacy_store.hpp"

namespace visitpay::app {

// One class of a session's personal data, as an access request reports it.
struct ClassReport {
  bool held = false;                           // still stored (and readable)
  std::optional<domain::Timestamp> purged_at;  // when it was destroyed
};

// A line of the visit as an access request reports it: what it was for while the description is
// held (decrypted), nullopt once it was destroyed with the retained class.
struct VisitLineReport {
  int line_no = 0;
  domain::Ore amount = 0;
  std::optional<std::string> description;
};

// Art. 15: one session of the data subject with the personal data still held, decrypted.
struct SubjectSessionReport {
  store::SubjectSession session;
  OpenedPayer payer;  // the fields of the classes still held
  ClassReport transient;
  ClassReport retained;
  std::vector<VisitLineReport> lines;
};

// Art. 17: what an erasure did to one session and what it kept, under which rule.
struct KeptData {
  std::string key_class;  // transient | retained
  std::vector<std::string> fields;
  std::string rule;                  // open_claim | bookkeeping
  std::string legal_basis;           // the law, for the data subject's answer
  std::optional<std::string> until;  // YYYY-MM-DD (Oslo) when known
};

struct ErasureReport {
  std::string session_id;
  std::string state;
  std::vector<std::string> destroyed;  // classes destroyed by this request
  std::vector<KeptData> kept;
};

// Data-subject requests (GDPR Art. 15 and 17) for the data protection officer (scope privacy).
// The person is found by the keyed hash of their national id, never by decrypting; both requests
// are audited (privacy_requests) before they answer. A token bound to clinics sees only theirs.
class PrivacyService {
 public:
  PrivacyService(store::PrivacyStore& store, const PayerVault& vault,
                 const common::Bytes& lookup_key, const domain::RetentionPolicy& policy,
                 bool allow_synthetic_ids, const ports::Clock& clock, common::Logger& log);

  // A validation error naming /national_id if it is not a valid Norwegian identity number.
  common::Result<void> validate(std::string_view national_id) const;

  asio::awaitable<common::Result<std::vector<SubjectSessionReport>>> access(
      std::string_view national_id, const Principal& principal);
  asio::awaitable<common::Result<std::vector<ErasureReport>>> erase(std::string_view national_id,
                                                                    const Principal& principal);
  // `visitpay privacy check` as a value: per retention rule, the sessions holding personal data
  // past their policy (all zero: nothing is held too long).
  asio::awaitable<common::Result<std::vector<store::OverdueCount>>> check();

 private:
  asio::awaitable<common::Result<std::vector<store::SubjectSession>>> find(
      std::string_view national_id, const Principal& principal);

  store::PrivacyStore& store_;
  const PayerVault& vault_;
  const common::Bytes& lookup_key_;
  domain::RetentionPolicy policy_;
  bool allow_synthetic_ids_;
  const ports::Clock& clock_;
  common::Logger& log_;
};

}  // namespace visitpay::app
