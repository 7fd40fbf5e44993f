#pragma once

#include "app/auth.hpp"
#include "app/invoice_service.hpp"
#include "common/log.hpp"
#include "http/router.hpp"
#include "ports/clock.hpp"

namespace visitpay::http {

struct InvoiceRouteDeps {
  app::Authenticator& auth;
  app::InvoiceService& invoices;
  const ports::Clock& clock;
  common::Logger& log;
};

// Finance's review queue under /v1/invoices (scope invoices:review).
void register_invoice_routes(Router& router, InvoiceRouteDeps deps);

}  // namespace visitpay::http
