#include "app/auth_guard.hpp"

#include <gtest/gtest.h>

#include "app/auth.hpp"

namespace visitpay::app {
namespace {

using std::chrono::seconds;

TEST(TokenFormat, IssuedTokensHaveIt) {
  for (int i = 0; i < 200; ++i) {
    const auto token = new_api_token();
    EXPECT_TRUE(has_token_format(token)) << token;
  }
}

TEST(TokenFormat, AnythingElseHasNot) {
  const std::string good = "vp_" + std::string(42, 'a') + "Q";
  ASSERT_TRUE(has_token_format(good));
  EXPECT_FALSE(has_token_format(""));
  EXPECT_FALSE(has_token_format("vp_"));
  EXPECT_FALSE(has_token_format(good.substr(0, good.size() - 1)));     // too short
  EXPECT_FALSE(has_token_format(good + "A"));                          // too long
  EXPECT_FALSE(has_token_format("VP_" + good.substr(3)));              // prefix
  EXPECT_FALSE(has_token_format("vp_" + std::string(42, '+') + "A"));  // base64, not base64url
  EXPECT_FALSE(has_token_format("vp_" + std::string(42, 'a') + "="));  // padding
  EXPECT_FALSE(has_token_format("vp_" + std::string(42, 'a') + "B"));  // bits past 256
}

TEST(FailedTokenCache, RemembersForItsTtl) {
  FailedTokenCache cache(seconds(60), 100);
  const SteadyTime t0{};
  cache.add("d1", t0);
  EXPECT_TRUE(cache.contains("d1", t0 + seconds(59)));
  EXPECT_FALSE(cache.contains("d1", t0 + seconds(60)));
  EXPECT_FALSE(cache.contains("d2", t0));
}

TEST(FailedTokenCache, IsBoundedOldestFirst) {
  FailedTokenCache cache(seconds(60), 3);
  const SteadyTime t0{};
  for (const char* d : {"a", "b", "c", "d"})
    cache.add(d, t0);
  EXPECT_EQ(cache.size(), 3u);
  EXPECT_FALSE(cache.contains("a", t0));
  EXPECT_TRUE(cache.contains("d", t0));
}

TEST(FailedTokenCache, ZeroTtlRemembersNothing) {
  FailedTokenCache cache(seconds(0), 3);
  cache.add("a", SteadyTime{});
  EXPECT_FALSE(cache.contains("a", SteadyTime{}));
}

TEST(FailureLimiter, ABurstThenARefillRate) {
  FailureLimiter limiter(3, 60, 100);  // one a second
  const SteadyTime t0{};
  EXPECT_FALSE(limiter.blocked("192.0.2.1", t0));
  for (int i = 0; i < 3; ++i)
    limiter.failed("192.0.2.1", t0);
  const auto wait = limiter.blocked("192.0.2.1", t0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, seconds(1));
  EXPECT_FALSE(limiter.blocked("192.0.2.2", t0));  // other addresses are not affected
  EXPECT_FALSE(limiter.blocked("192.0.2.1", t0 + seconds(1)));
  limiter.failed("192.0.2.1", t0 + seconds(1));
  EXPECT_TRUE(limiter.blocked("192.0.2.1", t0 + seconds(1)));
}

TEST(FailureLimiter, RetryAfterFollowsTheRate) {
  FailureLimiter limiter(1, 2, 100);  // one every 30 seconds
  limiter.failed("192.0.2.1", SteadyTime{});
  EXPECT_EQ(limiter.blocked("192.0.2.1", SteadyTime{}), seconds(30));
  EXPECT_EQ(limiter.blocked("192.0.2.1", SteadyTime{} + seconds(20)), seconds(10));
}

TEST(FailureLimiter, AnIpv6ClientCountsByItsSlash64) {
  FailureLimiter limiter(2, 1, 100);
  limiter.failed("2001:db8:1:2::1", SteadyTime{});
  limiter.failed("2001:db8:1:2:ffff::9", SteadyTime{});
  EXPECT_TRUE(limiter.blocked("2001:db8:1:2::77", SteadyTime{}));
  EXPECT_FALSE(limiter.blocked("2001:db8:1:3::1", SteadyTime{}));
  EXPECT_EQ(FailureLimiter::address_key("::ffff:192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(FailureLimiter::address_key("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
}

TEST(FailureLimiter, IsBoundedLeastRecentlySeenFirst) {
  FailureLimiter limiter(1, 1, 2);
  limiter.failed("192.0.2.1", SteadyTime{});
  limiter.failed("192.0.2.2", SteadyTime{});
  EXPECT_TRUE(limiter.blocked("192.0.2.1", SteadyTime{}));  // .1 is now the most recent
  limiter.failed("192.0.2.3", SteadyTime{});                // .2 is forgotten
  EXPECT_EQ(limiter.size(), 2u);
  EXPECT_FALSE(limiter.blocked("192.0.2.2", SteadyTime{}));
  EXPECT_TRUE(limiter.blocked("192.0.2.1", SteadyTime{}));
}

TEST(FailureLimiter, BurstZeroIsOff) {
  FailureLimiter limiter(0, 1, 2);
  for (int i = 0; i < 10; ++i)
    limiter.failed("192.0.2.1", SteadyTime{});
  EXPECT_FALSE(limiter.blocked("192.0.2.1", SteadyTime{}));
}

}  // namespace
}  // namespace visitpay::app
