#pragma once

#include "app/auth.hpp"
#include "app/bank_import.hpp"
#include "common/log.hpp"
#include "http/router.hpp"

namespace visitpay::http {

struct BankRouteDeps {
  app::Authenticator& auth;
  app::BankReconciliation& bank;
  common::Logger& log;
};

// Bank reconciliation under /v1/bank (scope invoices:review): file imports, the payments and
// their outcomes, manual matching of the queue.
void register_bank_routes(Router& router, BankRouteDeps deps);

}  // namespace visitpay::http
