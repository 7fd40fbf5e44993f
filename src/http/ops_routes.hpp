#pragma once

#include "app/auth.hpp"
#include "common/log.hpp"
#include "config/config.hpp"
#include "http/router.hpp"
#include "ports/clock.hpp"
#include "store/lifecycle_store.hpp"
#include "store/outbox_store.hpp"
#include "store/overview_store.hpp"

namespace visitpay::http {

struct OpsRouteDeps {
  app::Authenticator& auth;
  store::LifecycleStore& lifecycle;
  store::OutboxStore& outbox;
  store::OverviewStore& overview;
  const config::Config& config;
  const ports::Clock& clock;
  common::Logger& log;
};

// What operators and the console's overview read: sessions past their bound (`visitpay sessions
// check` as JSON), outbox failures by kind (provider trouble), and per clinic and period what
// became of the check-outs.
void register_ops_routes(Router& router, OpsRouteDeps deps);

}  // namespace visitpay::http
