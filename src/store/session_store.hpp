#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/crypto.hpp"
#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "domain/sealed_payer.hpp"
#include "store/pg_pool.hpp"

namespace visitpay::store {

// A session to store. The payer's data goes in only encrypted (`sealed`), with a keyed hash of
// the national id for look-ups, and so do the lines' descriptions (`sealed_descriptions`, one per
// line under the retained key, app/line_descriptions.hpp); the plaintext in `request.payer` and
// `request.lines` is not written.
struct NewSession {
  std::string id;
  const domain::CheckoutRequest& request;
  common::Sha256Digest fingerprint;
  domain::Timestamp now;
  domain::SealedPayer sealed;
  std::optional<common::Sha256Digest> national_id_hmac;
  std::vector<common::Bytes> sealed_descriptions;
};

// A line's description as stored: sealed under the session's retained key (nullopt once purged,
// or on a line written in plaintext before migration 0019, whose text is in the view already).
struct SealedDescription {
  int line_no = 0;
  std::optional<common::Bytes> ciphertext;
};

// The view's line descriptions are still sealed: app::CheckoutService opens them.
struct StoredSession {
  domain::SessionView view;
  std::string fingerprint_hex;
  std::vector<SealedDescription> sealed_descriptions;  // one per line of view.lines, in order
  std::optional<domain::WrappedKey> retained_key;      // nullopt once purged
};

// Sessions, their lines and the payer row. All statements of this aggregate live here.
class SessionStore {
 public:
  explicit SessionStore(PgPool& pool) : pool_(pool) {}

  // One statement (atomic): the session, its lines and the payer, unless (clinic_id, visit_id)
  // exists already. Returns true when this call created the session.
  asio::awaitable<common::Result<bool>> insert(const NewSession& session);
  asio::awaitable<common::Result<std::optional<StoredSession>>> find_by_visit(
      std::string_view clinic_id, std::string_view visit_id);
  asio::awaitable<common::Result<std::optional<StoredSession>>> find(std::string_view id);

  // Exposed so the benchmark can replay exactly what the service runs per check-out.
  static const Statement& insert_statement();
  static PgParams insert_params(const NewSession& session);

 private:
  PgPool& pool_;
};

}  // namespace visitpay::store
