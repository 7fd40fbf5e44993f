#include "app/auth.hpp"

#include <algorithm>

#include "common/crypto.hpp"

namespace visitpay::app {

using common::ErrorCode;
using common::make_error;
using common::Result;

namespace {
constexpr std::size_t kMaxCachedTokens = 10'000;
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
                             std::chrono::seconds cache_ttl)
    : clients_(clients), clock_(clock), ttl_(cache_ttl) {}

asio::awaitable<Result<Principal>> Authenticator::authenticate(std::string_view header) {
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), header.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    co_return make_error(ErrorCode::unauthenticated, "send Authorization: Bearer <token>");
  }
  const std::string_view token = header.substr(kBearer.size());
  const auto digest = common::sha256(token);
  const std::string key = common::to_hex(digest);
  const auto now = clock_.now();
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      if (it->second.expires > now) co_return it->second.principal;
      cache_.erase(it);
    }
  }
  auto found = co_await clients_.find_active_by_token(digest);
  if (!found) co_return std::move(found).error();
  if (!found->has_value()) {
    co_return make_error(ErrorCode::unauthenticated, "the token is unknown or revoked");
  }
  const auto& record = **found;
  Principal p{record.id, record.name, record.scopes, record.clinic_ids};
  if (ttl_.count() > 0) {
    std::lock_guard lock(mutex_);
    if (cache_.size() >= kMaxCachedTokens) cache_.clear();
    cache_[key] = Cached{p, now + ttl_};
  }
  co_return p;
}

}  // namespace visitpay::app
