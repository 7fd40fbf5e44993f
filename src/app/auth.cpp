#include "app/auth.hpp"

#include <algorithm>

#include "common/crypto.hpp"

namespace visitpay::app {

using common::ErrorCode;
using common::make_error;
using common::Result;

namespace {
constexpr std::size_t kMaxCachedTokens = 10'000;
constexpr std::size_t kMaxFailedTokens = 10'000;
constexpr std::size_t kMaxAddresses = 10'000;
constexpr std::chrono::hours kRecentlyValid{1};
}  // namespace

bool is_known_scope(std::string_view s) {
  return s == scope::checkout_write || s == scope::sessions_read || s == scope::ops ||
         s == scope::invoices_review || s == scope::privacy;
}

bool Principal::has_scope(std::string_view s) const {
  return std::find(scopes.begin(), scopes.end(), s) != scopes.end();
}

bool Principal::may_act_for_clinic(std::string_view clinic_id) const {
  return clinic_ids.empty() ||
         std::find(clinic_ids.begin(), clinic_ids.end(), clinic_id) != clinic_ids.end();
}

std::string new_api_token() {
  const auto bytes = common::random_bytes(32);
  return "vp_" + common::base64url(bytes.data(), bytes.size());
}

Authenticator::Authenticator(store::ClientStore& clients, const ports::Clock& clock,
                             const config::AuthConfig& config)
    : clients_(clients),
      clock_(clock),
      ttl_(config.token_cache_ttl),
      failed_tokens_(config.failed_token_ttl, kMaxFailedTokens),
      failures_(config.failures_burst, config.failures_per_minute, kMaxAddresses) {}

Authenticator::Cache Authenticator::cached(const std::string& key, Principal& out) {
  const auto now = clock_.now();
  std::lock_guard lock(mutex_);
  const auto it = cache_.find(key);
  if (it == cache_.end()) return Cache::unknown;
  if (it->second.expires > now) {
    out = it->second.principal;
    return Cache::fresh;
  }
  return it->second.known_until > now ? Cache::known : Cache::unknown;
}

common::Error Authenticator::fail(std::string_view address, SteadyTime now, std::string detail) {
  failures_.failed(address, now);
  return make_error(ErrorCode::unauthenticated, std::move(detail));
}

asio::awaitable<Result<Principal>> Authenticator::authenticate(std::string_view header,
                                                               std::string_view address) {
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), header.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    co_return make_error(ErrorCode::unauthenticated, "send Authorization: Bearer <token>");
  }
  const std::string_view token = header.substr(kBearer.size());
  const auto steady_now = std::chrono::steady_clock::now();
  const auto wait = failures_.blocked(address, steady_now);
  const bool well_formed = has_token_format(token);
  if (!well_formed && !wait)
    co_return fail(address, steady_now, "this is not a visitpay API token");
  // Only a token of the right shape is worth a hash.
  Principal principal;
  const auto digest = well_formed ? common::sha256(token) : common::Sha256Digest{};
  const std::string key = common::to_hex(digest);
  const Cache seen = well_formed ? cached(key, principal) : Cache::unknown;
  if (seen == Cache::fresh) co_return principal;
  if (wait && seen != Cache::known) {
    common::Error e = make_error(ErrorCode::too_many_requests,
                                 "too many failed authentications from this address");
    e.retry_after = std::chrono::duration_cast<std::chrono::milliseconds>(*wait);
    co_return e;
  }
  if (failed_tokens_.contains(key, steady_now)) {
    co_return fail(address, steady_now, "the token is unknown or revoked");
  }
  auto found = co_await clients_.find_active_by_token(digest);
  if (!found) co_return std::move(found).error();
  if (!found->has_value()) {
    failed_tokens_.add(key, steady_now);
    co_return fail(address, steady_now, "the token is unknown or revoked");
  }
  const auto& record = **found;
  Principal p{record.id, record.name, record.scopes, record.clinic_ids};
  if (ttl_.count() > 0) {
    const auto now = clock_.now();
    std::lock_guard lock(mutex_);
    if (cache_.size() >= kMaxCachedTokens) cache_.clear();
    cache_[key] = Cached{p, now + ttl_, now + kRecentlyValid};
  }
  co_return p;
}

asio::awaitable<Result<Principal>> Authenticator::authenticate_session(
    const CookieRequest& request) {
  if (sessions_ == nullptr) {
    co_return make_error(ErrorCode::unauthenticated, "send Authorization: Bearer <token>");
  }
  co_return co_await sessions_->resolve(request);
}

}  // namespace visitpay::app
