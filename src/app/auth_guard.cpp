#include "app/auth_guard.hpp"

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cmath>

namespace visitpay::app {

namespace {

constexpr std::string_view kPrefix = "vp_";
constexpr std::size_t kEncodedLength = 43;  // 32 bytes, base64url without padding

bool is_base64url(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  return c == '-' ? 62 : 63;
}

}  // namespace

bool has_token_format(std::string_view token) {
  if (token.size() != kPrefix.size() + kEncodedLength || token.substr(0, 3) != kPrefix) {
    return false;
  }
  const auto encoded = token.substr(kPrefix.size());
  if (!std::all_of(encoded.begin(), encoded.end(), is_base64url)) return false;
  // 43 characters carry 258 bits; the last two are zero in an encoding of 32 bytes.
  return (base64url_value(encoded.back()) & 0x3) == 0;
}

FailedTokenCache::FailedTokenCache(std::chrono::seconds ttl, std::size_t capacity)
    : ttl_(ttl), capacity_(capacity) {}

bool FailedTokenCache::contains(const std::string& digest, SteadyTime now) {
  std::lock_guard lock(mutex_);
  const auto it = expires_.find(digest);
  return it != expires_.end() && it->second > now;
}

void FailedTokenCache::add(const std::string& digest, SteadyTime now) {
  if (ttl_.count() == 0 || capacity_ == 0) return;
  std::lock_guard lock(mutex_);
  if (auto [it, inserted] = expires_.try_emplace(digest, now + ttl_); !inserted) {
    it->second = now + ttl_;
    return;
  }
  order_.push_back(digest);
  while (order_.size() > capacity_) {
    expires_.erase(order_.front());
    order_.pop_front();
  }
}

std::size_t FailedTokenCache::size() const {
  std::lock_guard lock(mutex_);
  return expires_.size();
}

FailureLimiter::FailureLimiter(int burst, int per_minute, std::size_t capacity)
    : burst_(burst), per_second_(per_minute / 60.0), capacity_(capacity) {}

std::string FailureLimiter::address_key(std::string_view address) {
  boost::system::error_code ec;
  const auto parsed = boost::asio::ip::make_address(std::string(address), ec);
  if (ec || parsed.is_v4()) return std::string(address);
  const auto v6 = parsed.to_v6();
  if (v6.is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  }
  // One client usually holds a whole /64; keying by address would give it 2^64 buckets.
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

FailureLimiter::Bucket& FailureLimiter::bucket(const std::string& key, SteadyTime now) {
  auto found = by_key_.find(key);
  if (found == by_key_.end()) {
    lru_.push_front(Bucket{key, burst_, now});
    by_key_[key] = lru_.begin();
    if (lru_.size() > capacity_) {
      by_key_.erase(lru_.back().key);
      lru_.pop_back();
    }
    return lru_.front();
  }
  lru_.splice(lru_.begin(), lru_, found->second);
  Bucket& b = *found->second;
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed > 0) {
    b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
    b.updated = now;
  }
  return b;
}

std::optional<std::chrono::seconds> FailureLimiter::blocked(std::string_view address,
                                                            SteadyTime now) {
  if (burst_ <= 0) return std::nullopt;
  const auto key = address_key(address);
  std::lock_guard lock(mutex_);
  if (by_key_.find(key) == by_key_.end()) return std::nullopt;  // never failed: no bucket
  const Bucket& b = bucket(key, now);
  if (b.tokens >= 1) return std::nullopt;
  // (The epsilon keeps floating-point noise from adding a second: 10.000000000000002 is 10.)
  const auto wait = std::ceil((1 - b.tokens) / per_second_ - 1e-9);
  return std::chrono::seconds(static_cast<long>(std::max(1.0, wait)));
}

void FailureLimiter::failed(std::string_view address, SteadyTime now) {
  if (burst_ <= 0) return;
  const auto key = address_key(address);
  std::lock_guard lock(mutex_);
  Bucket& b = bucket(key, now);
  b.tokens = std::max(0.0, b.tokens - 1);
}

std::size_t FailureLimiter::size() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}

}  // namespace visitpay::app
