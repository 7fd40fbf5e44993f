#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "app/auth.hpp"
#include "common/log.hpp"
#include "ports/clock.hpp"
#include "ports/login_method.hpp"
#include "store/user_store.hpp"

namespace visitpay::app {

// A person's roles in the console; each maps onto API scopes (scopes_for_roles), so people and
// API tokens pass the same authorisation check.
namespace role {
inline constexpr std::string_view finance = "finance";  // invoices:review
inline constexpr std::string_view dpo = "dpo";          // privacy
inline constexpr std::string_view ops = "ops";          // ops, sessions:read
inline constexpr std::string_view admin = "admin";      // users:admin
}  // namespace role

// The scope of the console's user administration (role admin; API clients may hold it too).
inline constexpr std::string_view kUsersAdminScope = "users:admin";

bool is_known_role(std::string_view role);
std::vector<std::string> scopes_for_roles(const std::vector<std::string>& roles);
// dpo and admin must log in with a one-time code (TOTP) as well as the password.
bool roles_need_second_factor(const std::vector<std::string>& roles);
// What the audit log records for a person: "user:<username>" (never confused with an API client).
std::string person_actor(std::string_view username);

struct ConsoleAuthOptions {
  std::chrono::seconds idle_timeout{30 * 60};
  std::chrono::seconds absolute_timeout{12 * 60 * 60};
  std::chrono::seconds failure_window{15 * 60};
  int max_failures_per_account = 5;
  int max_failures_per_address = 30;
};

// Password (Argon2id) + TOTP login, throttled per account and per address.
class PasswordLogin final : public ports::LoginMethod {
 public:
  PasswordLogin(store::UserStore& users, const ports::Clock& clock,
                boost::asio::any_io_executor blocking, ConsoleAuthOptions options,
                common::Logger& log);

  asio::awaitable<common::Result<ports::LoginIdentity>> login(
      const ports::PasswordAttempt& attempt) override;

 private:
  asio::awaitable<common::Result<void>> second_factor(const store::UserRecord& user,
                                                      const ports::PasswordAttempt& attempt);
  asio::awaitable<common::Result<void>> refuse(const std::string& account_key,
                                               const std::string& address_key);

  store::UserStore& users_;
  const ports::Clock& clock_;
  boost::asio::any_io_executor blocking_;
  ConsoleAuthOptions options_;
  common::Logger& log_;
  std::string dummy_hash_;  // verified for unknown names, so timing does not tell them apart
};

// A new web session: the cookie value (shown to the browser only) and its CSRF token.
struct OpenedSession {
  std::string cookie_value;
  std::string csrf_token;
};

// Console web sessions: a random id in an HttpOnly cookie, stored as its SHA-256, with idle and
// absolute timeouts. The CSRF token is derived from the session id (HMAC), so it needs no storage
// and a page can ask for it again after a reload.
class WebSessions final : public SessionResolver {
 public:
  static constexpr std::string_view kCookieName = "vp_session";

  WebSessions(store::UserStore& users, const ports::Clock& clock, ConsoleAuthOptions options);

  asio::awaitable<common::Result<OpenedSession>> open(const ports::LoginIdentity& who);
  asio::awaitable<common::Result<Principal>> resolve(const CookieRequest& request) override;
  // The CSRF token of the request's session (for GET /v1/console/me); empty without a session.
  std::string csrf_token(std::string_view cookie_header) const;
  asio::awaitable<common::Result<void>> logout(std::string_view cookie_header);
  asio::awaitable<common::Result<std::int64_t>> logout_everywhere(std::string_view cookie_header);

  // The value of the session cookie in a Cookie header; empty when absent.
  static std::string_view cookie_value(std::string_view cookie_header);
  // Whether an Origin header names the site that Host names (same scheme-less host and port).
  static bool same_site_origin(std::string_view origin, std::string_view host);

 private:
  std::string csrf_for(std::string_view session_id) const;

  store::UserStore& users_;
  const ports::Clock& clock_;
  ConsoleAuthOptions options_;
};

}  // namespace visitpay::app
