#include "app/console_auth.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>

#include "app/credentials.hpp"
#include "common/crypto.hpp"

namespace visitpay::app {

using common::ErrorCode;
using common::make_error;
using common::Result;

namespace {

bool has(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// By value: runs on the blocking pool after the caller's frame moved on.
asio::awaitable<bool> verify_on_pool(std::string hash, std::string password) {
  co_return verify_password(hash, password);
}

common::Error wrong_credentials() {
  return make_error(ErrorCode::unauthenticated, "wrong username or password");
}

}  // namespace

bool is_known_role(std::string_view r) {
  return r == role::finance || r == role::dpo || r == role::ops || r == role::admin;
}

std::vector<std::string> scopes_for_roles(const std::vector<std::string>& roles) {
  std::vector<std::string> scopes;
  auto add = [&scopes](std::string_view s) {
    if (!has(scopes, s)) scopes.emplace_back(s);
  };
  for (const auto& r : roles) {
    if (r == role::finance) add(scope::invoices_review);
    if (r == role::dpo) add(scope::privacy);
    if (r == role::ops) {
      add(scope::ops);
      add(scope::sessions_read);
    }
    if (r == role::admin) add(kUsersAdminScope);
  }
  return scopes;
}

bool roles_need_second_factor(const std::vector<std::string>& roles) {
  return has(roles, role::dpo) || has(roles, role::admin);
}

std::string person_actor(std::string_view username) {
  return "user:" + std::string(username);
}

PasswordLogin::PasswordLogin(store::UserStore& users, const ports::Clock& clock,
                             boost::asio::any_io_executor blocking, ConsoleAuthOptions options,
                             common::Logger& log)
    : users_(users),
      clock_(clock),
      blocking_(std::move(blocking)),
      options_(options),
      log_(log),
      dummy_hash_(hash_password(new_password()).value_or("")) {}

asio::awaitable<Result<ports::LoginIdentity>> PasswordLogin::login(
    const ports::PasswordAttempt& attempt) {
  const std::string username = lower(attempt.username);
  const std::string account_key = "user:" + username;
  const std::string address_key = "addr:" + attempt.peer_address;
  const auto since = clock_.now() - options_.failure_window;
  auto failures = co_await users_.failures_since(account_key, address_key, since);
  if (!failures) co_return std::move(failures).error();
  if (failures->account >= options_.max_failures_per_account ||
      failures->address >= options_.max_failures_per_address) {
    log_.warn("console.login_throttled", {{"peer", attempt.peer_address}});
    co_return make_error(ErrorCode::login_throttled,
                         "too many failed logins for this account or address; wait " +
                             std::to_string(options_.failure_window.count() / 60) + " minutes");
  }
  auto found = co_await users_.find_by_username(username);
  if (!found) co_return std::move(found).error();
  const bool known = found->has_value() && !(*found)->disabled;
  std::string hash = known ? (*found)->password_hash : dummy_hash_;
  std::string password = attempt.password;
  const bool ok = co_await boost::asio::co_spawn(
      blocking_, verify_on_pool(std::move(hash), std::move(password)), boost::asio::use_awaitable);
  if (!known || !ok) {
    auto refused = co_await refuse(account_key, address_key);
    if (!refused) co_return std::move(refused).error();
    co_return wrong_credentials();
  }
  const auto& user = **found;
  auto second = co_await second_factor(user, attempt);
  if (!second) co_return std::move(second).error();
  auto cleared = co_await users_.clear_failures(account_key);
  if (!cleared) co_return std::move(cleared).error();
  log_.info("console.login", {{"user_id", user.id}});
  co_return ports::LoginIdentity{user.id, user.username};
}

asio::awaitable<Result<void>> PasswordLogin::second_factor(const store::UserRecord& user,
                                                           const ports::PasswordAttempt& attempt) {
  if (!user.totp_secret) {
    if (!roles_need_second_factor(user.roles)) co_return common::Ok{};
    co_return make_error(ErrorCode::forbidden,
                         "this account needs a second factor that is not set up; ask an "
                         "administrator (visitpay users reset-password --totp)");
  }
  if (attempt.totp_code.empty()) {
    co_return make_error(ErrorCode::second_factor_required, "send the one-time code as totp");
  }
  const auto unix_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  const auto step = matching_totp_step(*user.totp_secret, attempt.totp_code, unix_seconds);
  bool fresh = false;
  if (step) {
    auto accepted = co_await users_.accept_totp_step(user.id, *step);
    if (!accepted) co_return std::move(accepted).error();
    fresh = *accepted;
  }
  if (!fresh) {
    const std::string account_key = "user:" + user.username;
    const std::string address_key = "addr:" + attempt.peer_address;
    auto refused = co_await refuse(account_key, address_key);
    if (!refused) co_return std::move(refused).error();
    co_return make_error(ErrorCode::unauthenticated,
                         step ? "this one-time code was already used; wait for the next one"
                              : "wrong one-time code");
  }
  co_return common::Ok{};
}

asio::awaitable<Result<void>> PasswordLogin::refuse(const std::string& account_key,
                                                    const std::string& address_key) {
  const auto now = clock_.now();
  log_.info("console.login_failed", {});
  co_return co_await users_.record_failure(account_key, address_key, now,
                                           now - options_.failure_window);
}

WebSessions::WebSessions(store::UserStore& users, const ports::Clock& clock,
                         ConsoleAuthOptions options)
    : users_(users), clock_(clock), options_(options) {}

asio::awaitable<Result<OpenedSession>> WebSessions::open(const ports::LoginIdentity& who) {
  const auto bytes = common::random_bytes(32);
  std::string id = common::base64url(bytes.data(), bytes.size());
  const auto digest = common::sha256(id);
  auto created = co_await users_.create_session(digest, who.user_id, clock_.now());
  if (!created) co_return std::move(created).error();
  std::string csrf = csrf_for(id);
  co_return OpenedSession{std::move(id), std::move(csrf)};
}

asio::awaitable<Result<Principal>> WebSessions::resolve(const CookieRequest& request) {
  const auto unauthenticated =
      make_error(ErrorCode::unauthenticated, "log in again: the session is unknown or expired");
  const auto id = cookie_value(request.cookie);
  if (id.empty()) co_return unauthenticated;
  if (request.state_changing) {
    // Checked before the database is asked: a forged request learns nothing and changes nothing.
    if (!same_site_origin(request.origin, request.host)) {
      co_return make_error(ErrorCode::csrf_refused, "the Origin header must name this site");
    }
    if (!common::constant_time_equal(csrf_for(id), request.csrf_token)) {
      co_return make_error(ErrorCode::csrf_refused, "send the session's X-CSRF-Token header");
    }
  }
  const auto now = clock_.now();
  const auto digest = common::sha256(id);
  auto user = co_await users_.touch_session(digest, now, now - options_.idle_timeout,
                                            now - options_.absolute_timeout);
  if (!user) co_return std::move(user).error();
  if (!user->has_value()) co_return unauthenticated;
  const auto& u = **user;
  co_return Principal{u.user_id, person_actor(u.username), scopes_for_roles(u.roles), u.clinic_ids};
}

std::string WebSessions::csrf_token(std::string_view cookie_header) const {
  const auto id = cookie_value(cookie_header);
  return id.empty() ? std::string() : csrf_for(id);
}

asio::awaitable<Result<void>> WebSessions::logout(std::string_view cookie_header) {
  const auto id = cookie_value(cookie_header);
  if (id.empty()) co_return common::Ok{};
  const auto digest = common::sha256(id);
  co_return co_await users_.revoke_session(digest, clock_.now());
}

asio::awaitable<Result<std::int64_t>> WebSessions::logout_everywhere(
    std::string_view cookie_header) {
  const auto id = cookie_value(cookie_header);
  if (id.empty()) co_return std::int64_t{0};
  const auto digest = common::sha256(id);
  co_return co_await users_.revoke_all_sessions(digest, clock_.now());
}

std::string_view WebSessions::cookie_value(std::string_view header) {
  while (!header.empty()) {
    const auto semicolon = header.find(';');
    auto pair = header.substr(0, semicolon);
    while (!pair.empty() && pair.front() == ' ')
      pair.remove_prefix(1);
    const auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == kCookieName) {
      auto value = pair.substr(eq + 1);
      while (!value.empty() && value.back() == ' ')
        value.remove_suffix(1);
      return value.size() <= 128 ? value : std::string_view{};
    }
    if (semicolon == std::string_view::npos) break;
    header.remove_prefix(semicolon + 1);
  }
  return {};
}

bool WebSessions::same_site_origin(std::string_view origin, std::string_view host) {
  if (host.empty()) return false;
  for (const std::string_view scheme : {"http://", "https://"}) {
    if (origin.size() == scheme.size() + host.size() && origin.substr(0, scheme.size()) == scheme &&
        lower(origin.substr(scheme.size())) == lower(host)) {
      return true;
    }
  }
  return false;
}

std::string WebSessions::csrf_for(std::string_view session_id) const {
  const common::Bytes key = {'v', 'p', '-', 'c', 's', 'r', 'f'};
  const auto mac = common::hmac_sha256(key, session_id);
  return common::base64url(mac.data(), mac.size());
}

}  // namespace visitpay::app
