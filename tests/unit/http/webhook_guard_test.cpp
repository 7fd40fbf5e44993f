#include "http/webhook_guard.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace visitpay::http {
namespace {

const std::string kMain(40, 'a');
const std::string kOther(40, 'b');
const std::string kOld(40, 'c');

config::Config two_sms_accounts() {
  config::Config c;
  config::SmsAccount main;
  main.name = "main";
  main.provider = "sms.linkmobility";
  main.webhook_tokens = {kOld, kMain};
  config::SmsAccount other;
  other.name = "other";
  other.provider = "linkmobility";  // the bare form older files have
  other.webhook_tokens = {kOther};
  c.sms_accounts = {main, other};
  config::PaymentAccount pay;
  pay.name = "pay";
  pay.provider = "payment.swedbankpay";
  pay.webhook_tokens = {std::string(40, 'p')};
  c.payment_accounts = {pay};
  return c;
}

TEST(WebhookGuard, AcceptsEveryTokenOfTheProvidersAccounts) {
  const auto config = two_sms_accounts();
  const WebhookGuard guard(config);
  for (const auto& [token, account] : std::vector<std::pair<std::string, std::string>>{
           {kMain, "main"}, {kOld, "main"}, {kOther, "other"}}) {
    const auto v = guard.check(WebhookKind::sms, "linkmobility", token, "198.51.100.7", {});
    EXPECT_TRUE(v.allowed);
    EXPECT_EQ(v.outcome, "token");
    EXPECT_EQ(v.account, account);
  }
}

TEST(WebhookGuard, RefusesWrongMissingAndOtherKindsTokens) {
  const auto config = two_sms_accounts();
  const WebhookGuard guard(config);
  for (const std::string& token :
       {std::string(), kMain.substr(0, 39), kMain + "a", std::string(40, 'A'),
        std::string(40, 'p')}) {  // the payment account's token on the SMS route
    const auto v = guard.check(WebhookKind::sms, "linkmobility", token, "198.51.100.7", {});
    EXPECT_FALSE(v.allowed) << token;
    EXPECT_EQ(v.outcome, "token_refused");
  }
  EXPECT_FALSE(guard.check(WebhookKind::payment, "swedbankpay", kMain, "198.51.100.7", {}).allowed);
  EXPECT_FALSE(guard.check(WebhookKind::sms, "twilio", kMain, "198.51.100.7", {}).allowed);
  EXPECT_TRUE(
      guard.check(WebhookKind::payment, "swedbankpay", std::string(40, 'p'), "198.51.100.7", {})
          .allowed);
}

TEST(WebhookGuard, TokenlessPathsOnlyWhileTheMigrationIsOn) {
  auto config = two_sms_accounts();
  {
    const WebhookGuard guard(config);
    const auto v = guard.check(WebhookKind::sms, "linkmobility", std::nullopt, "198.51.100.7", {});
    EXPECT_FALSE(v.allowed);
    EXPECT_EQ(v.outcome, "tokenless_refused");
  }
  config.webhooks.providers["linkmobility"].accept_tokenless = true;
  const WebhookGuard guard(config);
  const auto v = guard.check(WebhookKind::sms, "linkmobility", std::nullopt, "198.51.100.7", {});
  EXPECT_TRUE(v.allowed);
  EXPECT_EQ(v.outcome, "tokenless");
  // Only for that provider.
  EXPECT_FALSE(
      guard.check(WebhookKind::payment, "swedbankpay", std::nullopt, "198.51.100.7", {}).allowed);
}

TEST(WebhookGuard, AllowlistIsCheckedPerProviderAndBeforeTheToken) {
  auto config = two_sms_accounts();
  config.webhooks.providers["swedbankpay"].allowed_sources = {
      common::parse_ip_network("51.107.183.58").value(),
      common::parse_ip_network("20.91.170.120/29").value()};
  config.webhooks.trusted_proxies = {common::parse_ip_network("10.0.0.0/8").value()};
  const WebhookGuard guard(config);
  const std::string token(40, 'p');
  EXPECT_TRUE(guard.check(WebhookKind::payment, "swedbankpay", token, "20.91.170.127", {}).allowed);
  EXPECT_TRUE(
      guard.check(WebhookKind::payment, "swedbankpay", token, "::ffff:51.107.183.58", {}).allowed);
  auto v = guard.check(WebhookKind::payment, "swedbankpay", token, "20.91.170.128", {});
  EXPECT_FALSE(v.allowed);
  EXPECT_EQ(v.outcome, "source_refused");
  ASSERT_TRUE(v.client.has_value());
  EXPECT_EQ(v.client->to_string(), "20.91.170.128");
  // A wrong token from outside the list is refused for its source (checked first).
  EXPECT_EQ(guard.check(WebhookKind::payment, "swedbankpay", kMain, "192.0.2.1", {}).outcome,
            "source_refused");
  // Behind the trusted balancer, its header names the client; from elsewhere it is ignored.
  EXPECT_TRUE(guard.check(WebhookKind::payment, "swedbankpay", token, "10.1.2.3", {"20.91.170.121"})
                  .allowed);
  EXPECT_FALSE(
      guard.check(WebhookKind::payment, "swedbankpay", token, "192.0.2.1", {"20.91.170.121"})
          .allowed);
  EXPECT_FALSE(
      guard
          .check(WebhookKind::payment, "swedbankpay", token, "10.1.2.3", {"20.91.170.121, unknown"})
          .allowed);
  // The other provider has no list: any source (the token still counts).
  EXPECT_TRUE(guard.check(WebhookKind::sms, "linkmobility", kMain, "192.0.2.1", {}).allowed);
}

TEST(WebhookGuard, ReadsTheConfiguredForwardingHeader) {
  auto config = two_sms_accounts();
  EXPECT_EQ(WebhookGuard(config).forwarded_header_name(), "X-Forwarded-For");
  config.webhooks.forwarded_header = config::ForwardedHeaderKind::forwarded;
  EXPECT_EQ(WebhookGuard(config).forwarded_header_name(), "Forwarded");
}

}  // namespace
}  // namespace visitpay::http
