#pragma once

#include "app/auth.hpp"
#include "app/refund_service.hpp"
#include "common/log.hpp"
#include "http/router.hpp"

namespace visitpay::http {

struct RefundRouteDeps {
  app::Authenticator& auth;
  app::RefundService& refunds;
  common::Logger& log;
};

// Finance's refunds of link payments under /v1/sessions/{session_id}/refunds (scope
// invoices:review): POST asks for one (202; the outbox carries it out), GET lists them.
void register_refund_routes(Router& router, RefundRouteDeps deps);

}  // namespace visitpay::http
