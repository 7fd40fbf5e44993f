#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <vector>

#include "app/payer_vault.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "config/config.hpp"
#include "domain/checkout.hpp"
#include "ports/clock.hpp"
#include "store/session_store.hpp"

namespace visitpay::app {

namespace asio = boost::asio;

struct CheckoutOutcome {
  bool created = false;  // false: an identical earlier check-out (idempotent replay)
  domain::SessionView session;
};

// Use case: accept a check-out from a clinic's system into a payment session.
class CheckoutService {
 public:
  CheckoutService(store::SessionStore& sessions, const PayerVault& vault,
                  const config::Config& config, const ports::Clock& clock, common::Logger& log);

  // Semantic validation against this deployment's rules and clinics.
  std::vector<common::FieldError> validate(const domain::CheckoutRequest& request) const;

  // Stores a validated request. The same (clinic_id, visit_id) with the same content returns
  // the existing session; with other content, idempotency_conflict.
  asio::awaitable<common::Result<CheckoutOutcome>> submit(const domain::CheckoutRequest& request);

  asio::awaitable<common::Result<std::optional<domain::SessionView>>> find(std::string_view id);

 private:
  // The stored session with its lines' descriptions opened (the retained key unwrapped once);
  // absent once that key was purged.
  common::Result<domain::SessionView> reveal(store::StoredSession stored) const;

  store::SessionStore& sessions_;
  const PayerVault& vault_;
  const config::Config& config_;
  const ports::Clock& clock_;
  common::Logger& log_;
};

}  // namespace visitpay::app
