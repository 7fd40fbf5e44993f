#pragma once

#include <cstdint>
#include <string>

#include "app/payer_vault.hpp"
#include "store/pg_sync.hpp"

namespace visitpay::testing {

// Sessions as the payment-link flow leaves them when their window closed, for the sweep test and
// benchmark: `with_order` awaiting payment past `deadline` with a live order at the mock Swedbank
// Pay (the first `paid` of them paid there, their callbacks lost), and `no_phone` marked for an
// invoice at once. Clinics alternate between oslo-sentrum and bergen-brygge (two legal entities).
struct DueSessions {
  int with_order = 0;
  int paid = 0;
  int no_phone = 0;
  std::string deadline = "2026-11-20T10:00:00Z";
  std::string prefix = "SWEEP";  // visit ids and payeeReferences start with it
  std::string account = "main";  // the configured payment account of the orders
};

// Throws std::runtime_error on any failure. The payers are encrypted with `vault`, as the
// service stores them.
void seed_due_sessions(store::PgSyncConnection& db, std::uint16_t mock_port,
                       const std::string& mock_token, const DueSessions& spec,
                       const app::PayerVault& vault);

}  // namespace visitpay::testing
