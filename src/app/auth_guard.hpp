#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace visitpay::app {

// Keeping unauthenticated work cheap (issue 15): a garbage token must cost neither a hash nor a
// database query, a repeated unknown token no query, and one address only a few queries.
using SteadyTime = std::chrono::steady_clock::time_point;

// True when `token` is shaped like the tokens new_api_token() issues: "vp_" and 43 base64url
// characters encoding 256 bits (so the last one carries only 4 bits). No hashing, no allocation.
bool has_token_format(std::string_view token);

// Recently failed token digests, so a client repeating an unknown token costs no query. Bounded:
// past `capacity` the oldest entries go first.
class FailedTokenCache {
 public:
  FailedTokenCache(std::chrono::seconds ttl, std::size_t capacity);

  bool contains(const std::string& digest, SteadyTime now);
  void add(const std::string& digest, SteadyTime now);
  std::size_t size() const;

 private:
  std::chrono::seconds ttl_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, SteadyTime> expires_;
  std::deque<std::string> order_;  // insertion order, for eviction
};

// A token bucket of failed authentications per client address (an IPv6 address counts by its
// /64, which one client usually holds whole). Bounded: past `capacity` addresses the least
// recently seen one is forgotten.
class FailureLimiter {
 public:
  // burst 0: no limit.
  FailureLimiter(int burst, int per_minute, std::size_t capacity);

  // How long `address` has to wait before its next attempt counts; nullopt when it may try.
  std::optional<std::chrono::seconds> blocked(std::string_view address, SteadyTime now);
  void failed(std::string_view address, SteadyTime now);
  std::size_t size() const;

  static std::string address_key(std::string_view address);

 private:
  struct Bucket {
    std::string key;
    double tokens = 0;
    SteadyTime updated;
  };
  Bucket& bucket(const std::string& key, SteadyTime now);  // refilled to `now`; mutex held

  double burst_;
  double per_second_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::list<Bucket> lru_;  // most recently seen first
  std::unordered_map<std::string, std::list<Bucket>::iterator> by_key_;
};

}  // namespace visitpay::app
