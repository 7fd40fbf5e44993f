#pragma once

#include <string_view>

#include "app/auth.hpp"
#include "app/checkout_service.hpp"
#include "app/payment_service.hpp"
#include "app/provider_health.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "http/router.hpp"
#include "ports/adapter_registry.hpp"
#include "store/pg_pool.hpp"

namespace visitpay::http {

// What the route handlers need, wired by service::Service.
struct RouteDeps {
  const config::Config& config;
  app::Authenticator& auth;
  app::CheckoutService& checkouts;
  app::PaymentService& payments;
  const ports::AdapterRegistry& adapters;  // parses each adapter's webhooks
  store::PgPool& pool;
  common::Metrics& metrics;
  common::Logger& log;
  const app::ProviderHealth& provider_health;  // shown by /readyz
};

void register_routes(Router& router, RouteDeps deps);

// The committed schemas/openapi.json, embedded at build time.
std::string_view openapi_document();

}  // namespace visitpay::http
