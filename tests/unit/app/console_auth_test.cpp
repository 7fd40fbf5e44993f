// The console's credentials and session helpers without I/O: TOTP against RFC 6238's test
// vectors, Argon2id hashes, roles mapped onto scopes, the cookie and Origin checks.
#include "app/console_auth.hpp"

#include <gtest/gtest.h>

#include "app/credentials.hpp"

namespace visitpay::app {
namespace {

// RFC 6238 appendix B: the SHA-1 seed "12345678901234567890" (base32 below); its 8-digit codes
// end in these 6 digits.
constexpr const char* kRfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

TEST(Totp, MatchesTheRfc6238TestVectors) {
  EXPECT_EQ(totp_code(kRfcSecret, 59 / 30), "287082");
  EXPECT_EQ(totp_code(kRfcSecret, 1111111109 / 30), "081804");
  EXPECT_EQ(totp_code(kRfcSecret, 1234567890 / 30), "005924");
  EXPECT_EQ(totp_code(kRfcSecret, 2000000000 / 30), "279037");
  EXPECT_EQ(totp_code("not base32!", 1), std::nullopt);
}

TEST(Totp, AcceptsOneStepOfDriftEitherWayAndNoMore) {
  const std::int64_t now = 1234567890;
  const std::int64_t step = now / 30;
  EXPECT_EQ(matching_totp_step(kRfcSecret, *totp_code(kRfcSecret, step), now), step);
  EXPECT_EQ(matching_totp_step(kRfcSecret, *totp_code(kRfcSecret, step - 1), now), step - 1);
  EXPECT_EQ(matching_totp_step(kRfcSecret, *totp_code(kRfcSecret, step + 1), now), step + 1);
  EXPECT_EQ(matching_totp_step(kRfcSecret, *totp_code(kRfcSecret, step + 2), now), std::nullopt);
  EXPECT_EQ(matching_totp_step(kRfcSecret, "12345", now), std::nullopt);
}

TEST(Totp, NewSecretsAreBase32Of160Bits) {
  const auto a = new_totp_secret();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, new_totp_secret());
  EXPECT_TRUE(totp_code(a, 1).has_value());
}

TEST(Passwords, AreHashedWithArgon2idAndVerified) {
  const auto hash = hash_password("riktig-hest-batteri");
  ASSERT_TRUE(hash.has_value());
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u);
  EXPECT_NE(*hash, *hash_password("riktig-hest-batteri"));  // salted
  EXPECT_TRUE(verify_password(*hash, "riktig-hest-batteri"));
  EXPECT_FALSE(verify_password(*hash, "riktig-hest-batteri2"));
  EXPECT_FALSE(verify_password("", "x"));
  EXPECT_TRUE(password_problem("kort").has_value());
  EXPECT_FALSE(password_problem("tolv-tegn-ok").has_value());
}

TEST(Roles, MapOntoTheApiScopes) {
  EXPECT_EQ(scopes_for_roles({"finance"}), std::vector<std::string>{"invoices:review"});
  EXPECT_EQ(scopes_for_roles({"dpo"}), std::vector<std::string>{"privacy"});
  EXPECT_EQ(scopes_for_roles({"ops"}), (std::vector<std::string>{"ops", "sessions:read"}));
  EXPECT_EQ(scopes_for_roles({"admin"}), std::vector<std::string>{"users:admin"});
  EXPECT_EQ(scopes_for_roles({"finance", "finance"}).size(), 1u);
  EXPECT_TRUE(roles_need_second_factor({"finance", "dpo"}));
  EXPECT_TRUE(roles_need_second_factor({"admin"}));
  EXPECT_FALSE(roles_need_second_factor({"finance", "ops"}));
  EXPECT_FALSE(is_known_role("boss"));
  EXPECT_EQ(person_actor("kari"), "user:kari");
}

TEST(WebSessionsHelpers, FindTheSessionCookieAmongOthers) {
  EXPECT_EQ(WebSessions::cookie_value("vp_session=abc"), "abc");
  EXPECT_EQ(WebSessions::cookie_value("theme=dark; vp_session=abc ; x=1"), "abc");
  EXPECT_EQ(WebSessions::cookie_value("xvp_session=abc"), "");
  EXPECT_EQ(WebSessions::cookie_value(""), "");
  EXPECT_EQ(WebSessions::cookie_value("vp_session=" + std::string(200, 'a')), "");
}

TEST(WebSessionsHelpers, AcceptOnlyThisSiteAsOrigin) {
  EXPECT_TRUE(WebSessions::same_site_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
  EXPECT_TRUE(WebSessions::same_site_origin("https://Pay.Example.no", "pay.example.no"));
  EXPECT_FALSE(WebSessions::same_site_origin("https://evil.example", "pay.example.no"));
  EXPECT_FALSE(WebSessions::same_site_origin("http://127.0.0.1:8081", "127.0.0.1:8080"));
  EXPECT_FALSE(WebSessions::same_site_origin("", "127.0.0.1:8080"));
  EXPECT_FALSE(WebSessions::same_site_origin("null", "127.0.0.1:8080"));
  EXPECT_FALSE(WebSessions::same_site_origin("http://127.0.0.1:8080", ""));
}

}  // namespace
}  // namespace visitpay::app
