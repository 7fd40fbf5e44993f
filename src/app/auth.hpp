#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "app/auth_guard.hpp"
#include "common/result.hpp"
#include "config/config.hpp"
#include "ports/clock.hpp"
#include "store/client_store.hpp"

namespace visitpay::app {

namespace asio = boost::asio;

// Scopes a token can hold.
namespace scope {
inline constexpr std::string_view checkout_write = "checkout:write";
inline constexpr std::string_view sessions_read = "sessions:read";
inline constexpr std::string_view ops = "ops";
inline constexpr std::string_view invoices_review = "invoices:review";  // finance
inline constexpr std::string_view privacy = "privacy";  // the data protection officer
}  // namespace scope

bool is_known_scope(std::string_view scope);

// Who is calling: an API client and what it may do.
struct Principal {
  std::string client_id;
  std::string client_name;
  std::vector<std::string> scopes;
  std::vector<std::string> clinic_ids;  // empty: every clinic

  bool has_scope(std::string_view scope) const;
  bool may_act_for_clinic(std::string_view clinic_id) const;
};

// What a cookie-based (browser console) session needs from a request, free of HTTP types.
struct CookieRequest {
  std::string_view cookie;      // the Cookie header
  bool state_changing = false;  // not GET/HEAD: needs the CSRF token and a same-site Origin
  std::string_view origin;      // the Origin header
  std::string_view host;        // the Host header
  std::string_view csrf_token;  // the X-CSRF-Token header
};

// Resolves a console web session to a Principal (app/web_sessions.hpp implements it).
class SessionResolver {
 public:
  virtual ~SessionResolver() = default;
  virtual asio::awaitable<common::Result<Principal>> resolve(const CookieRequest& request) = 0;
};

// Generates "vp_" + 43 base64url characters (256 random bits).
std::string new_api_token();

// Resolves "Authorization: Bearer <token>" to a Principal. Lookups are cached briefly (config
// auth.token_cache_seconds) so a revoked token stops working within that time.
//
// Unauthenticated work stays cheap (auth_guard.hpp): a token without the token format is
// refused before it is hashed; an unknown token is remembered (auth.failed_token_cache_seconds)
// so repeating it costs no query; each failure is charged to the client's address, and an
// address out of attempts gets 429 with Retry-After before any query. A token that was valid
// within the last hour is still looked up from such an address, so a client sharing an address
// with an attacker (a NAT, a proxy) keeps working once it has been seen.
class Authenticator {
 public:
  Authenticator(store::ClientStore& clients, const ports::Clock& clock,
                const config::AuthConfig& config);

  // `address`: the client's address, whose failures are counted.
  asio::awaitable<common::Result<Principal>> authenticate(std::string_view authorization_header,
                                                          std::string_view address);

  // People in the browser console: a request without a bearer token but with a session cookie
  // is resolved here, so one authorisation check (http::authorize) serves tokens and people.
  void accept_sessions(SessionResolver& sessions) { sessions_ = &sessions; }
  bool accepts_sessions() const { return sessions_ != nullptr; }
  asio::awaitable<common::Result<Principal>> authenticate_session(const CookieRequest& request);

 private:
  struct Cached {
    Principal principal;
    ports::Clock::time_point expires;
    ports::Clock::time_point known_until;  // recently valid: looked up even from a blocked address
  };
  enum class Cache { fresh, known, unknown };
  Cache cached(const std::string& key, Principal& out);
  common::Error fail(std::string_view address, SteadyTime now, std::string detail);

  store::ClientStore& clients_;
  const ports::Clock& clock_;
  std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::unordered_map<std::string, Cached> cache_;  // key: hex SHA-256 of the token
  FailedTokenCache failed_tokens_;
  FailureLimiter failures_;
  SessionResolver* sessions_ = nullptr;
};

}  // namespace visitpay::app
