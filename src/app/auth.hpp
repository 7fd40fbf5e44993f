#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.hpp"
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

// Generates "vp_" + 43 base64url characters (256 random bits).
std::string new_api_token();

// Resolves "Authorization: Bearer <token>" to a Principal. Lookups are cached briefly (config
// auth.token_cache_seconds) so a revoked token stops working within that time.
class Authenticator {
 public:
  Authenticator(store::ClientStore& clients, const ports::Clock& clock,
                std::chrono::seconds cache_ttl);

  asio::awaitable<common::Result<Principal>> authenticate(std::string_view authorization_header);

 private:
  struct Cached {
    Principal principal;
    ports::Clock::time_point expires;
  };

  store::ClientStore& clients_;
  const ports::Clock& clock_;
  std::chrono::seconds ttl_;
  std::mutex mutex_;
  std::unordered_map<std::string, Cached> cache_;  // key: hex SHA-256 of the token
};

}  // namespace visitpay::app
