#pragma once

#include "app/auth.hpp"
#include "app/console_auth.hpp"
#include "common/log.hpp"
#include "http/router.hpp"
#include "ports/clock.hpp"
#include "ports/login_method.hpp"
#include "store/user_store.hpp"

namespace visitpay::http {

struct ConsoleRouteDeps {
  app::Authenticator& auth;
  ports::LoginMethod& login;
  app::WebSessions& sessions;
  store::UserStore& users;
  const ports::Clock& clock;
  common::Logger& log;
  bool secure_cookie;  // the service is reached over HTTPS (public_base_url)
  std::int64_t idle_timeout_seconds;
};

// The browser console: its static files under /console/, login and logout under /v1/console,
// and the users list for administrators.
void register_console_routes(Router& router, ConsoleRouteDeps deps);

// The console's security headers (CSP without inline script, no framing, no sniffing).
void set_console_security_headers(Response& res);

}  // namespace visitpay::http
