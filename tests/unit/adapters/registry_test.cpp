// The adapter registry: selection by id (and the older bare name), each adapter's own config
// section, and the webhook parsers behind the generic routes. No I/O: the HTTP client is built
// but never sends.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "adapters/http/http_client.hpp"
#include "adapters/payment/swedbankpay/register.hpp"
#include "adapters/register_all.hpp"
#include "adapters/sms/linkmobility/register.hpp"
#include "ports/adapter_registry.hpp"

namespace visitpay {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

class AdapterRegistryTest : public ::testing::Test {
 protected:
  AdapterRegistryTest() {
    auto registered = adapters::register_all(registry_, {client_});
    EXPECT_TRUE(registered.ok()) << registered.error().detail;
  }

  static ports::AdapterAccount payment_account(Json settings) {
    ports::AdapterAccount a;
    a.path = "/payment_accounts/main";
    a.name = "main";
    a.base_url = "https://api.externalintegration.payex.com";
    a.settings = settings.dump();
    a.secrets["token"] = "tok";
    return a;
  }
  static Json payment_settings() {
    return {{"payee_id", "5cabf558-5283-482f-b252-4d58e06f6f3b"}, {"payee_name", "Klinikk AS"}};
  }
  static ports::AdapterAccount sms_account(Json settings) {
    ports::AdapterAccount a;
    a.path = "/sms_accounts/main";
    a.name = "main";
    a.base_url = "https://n-eu.linkmobility.io";
    a.settings = settings.dump();
    a.secrets["password"] = "pw";
    return a;
  }
  static Json sms_settings() {
    return {{"username", "visitpay"}, {"platform_id", "COMMON_API"}, {"platform_partner_id", "1"}};
  }
  std::string payment_error(const std::string& provider, const ports::AdapterAccount& account) {
    auto created = registry_.create_payment(provider, account, "https://visitpay.example");
    return created ? "" : created.error().detail;
  }
  std::string sms_error(const std::string& provider, const ports::AdapterAccount& account) {
    auto created = registry_.create_sms(provider, account, "https://visitpay.example");
    return created ? "" : created.error().detail;
  }

  boost::asio::io_context ioc_;
  adapters::http::HttpClient client_{ioc_.get_executor()};
  ports::AdapterRegistry registry_;
};

TEST_F(AdapterRegistryTest, AdaptersAreFoundByIdAndByTheOlderBareName) {
  EXPECT_EQ(registry_.payment_ids(), std::vector<std::string>{"payment.swedbankpay"});
  EXPECT_EQ(registry_.sms_ids(), std::vector<std::string>{"sms.linkmobility"});
  EXPECT_EQ(registry_.find_payment("payment.swedbankpay"), registry_.find_payment("swedbankpay"));
  EXPECT_NE(registry_.find_payment("swedbankpay"), nullptr);
  EXPECT_NE(registry_.find_sms("linkmobility"), nullptr);
  // Kinds do not mix: an SMS id never selects a payment adapter.
  EXPECT_EQ(registry_.find_payment("sms.linkmobility"), nullptr);
  EXPECT_EQ(registry_.find_sms("payment.swedbankpay"), nullptr);
}

TEST_F(AdapterRegistryTest, EachAdapterIsRegisteredOnce) {
  auto again = adapters::payment::swedbankpay::register_adapter(registry_, client_);
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().detail, HasSubstr("payment.swedbankpay is registered twice"));
}

TEST_F(AdapterRegistryTest, UnknownProviderIdIsAnErrorNamingTheKey) {
  const auto error = payment_error("payment.stripe", payment_account(payment_settings()));
  EXPECT_THAT(error, HasSubstr("/payment_accounts/main/provider: unknown payment adapter "
                               "\"payment.stripe\" (this build has: payment.swedbankpay)"));
  EXPECT_THAT(sms_error("swedbankpay", sms_account(sms_settings())),
              HasSubstr("/sms_accounts/main/provider: unknown sms adapter"));
}

TEST_F(AdapterRegistryTest, SwedbankPayParsesItsOwnSection) {
  ports::AdapterContext context{"https://visitpay.example/v1/webhooks/payment/swedbankpay"};
  auto config =
      adapters::payment::swedbankpay::parse_settings(payment_account(payment_settings()), context);
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->payee_id, "5cabf558-5283-482f-b252-4d58e06f6f3b");
  EXPECT_EQ(config->payee_name, "Klinikk AS");
  EXPECT_EQ(config->token, "tok");
  EXPECT_EQ(config->base_url, "https://api.externalintegration.payex.com");

  // The provider tells the core where its callbacks go: the generic route, by adapter name.
  auto provider = registry_.create_payment("swedbankpay", payment_account(payment_settings()),
                                           "https://visitpay.example");
  ASSERT_TRUE(provider.ok()) << provider.error().detail;
  EXPECT_EQ(provider.value()->callback_url(),
            "https://visitpay.example/v1/webhooks/payment/swedbankpay");
}

TEST_F(AdapterRegistryTest, TheCallbackUrlEndsInTheAccountsWebhookToken) {
  auto account = payment_account(payment_settings());
  account.webhook_token = std::string(64, 'f');
  auto provider = registry_.create_payment("payment.swedbankpay", account, "https://pay.example");
  ASSERT_TRUE(provider.ok()) << provider.error().detail;
  EXPECT_EQ(provider.value()->callback_url(),
            "https://pay.example/v1/webhooks/payment/swedbankpay/" + std::string(64, 'f'));
}

TEST_F(AdapterRegistryTest, SwedbankPaySectionProblemsAreFatalAndNamed) {
  Json settings = payment_settings();
  settings.erase("payee_id");
  settings["payee_nmae"] = "typo";
  auto account = payment_account(settings);
  account.secrets.clear();
  const auto error = payment_error("payment.swedbankpay", account);
  EXPECT_THAT(error, HasSubstr("/payment_accounts/main/payee_id: required"));
  EXPECT_THAT(error, HasSubstr("/payment_accounts/main/payee_nmae: unknown key"));
  EXPECT_THAT(error, HasSubstr("/payment_accounts/main: token_file or token_env is required"));
}

TEST_F(AdapterRegistryTest, SecretsAreNotAcceptedInline) {
  Json settings = payment_settings();
  settings["token"] = "in-the-file";
  auto account = payment_account(settings);
  account.secrets.clear();
  const auto error = payment_error("payment.swedbankpay", account);
  EXPECT_THAT(error, HasSubstr("/payment_accounts/main/token: secrets are not accepted inline"));
  EXPECT_THAT(error, Not(HasSubstr("in-the-file")));
  // A secret reference the adapter does not use is as wrong as an unknown key.
  account = payment_account(payment_settings());
  account.secrets["api_key"] = "x";
  EXPECT_THAT(payment_error("payment.swedbankpay", account),
              HasSubstr("/payment_accounts/main/api_key_file|api_key_env: unknown key"));
}

TEST_F(AdapterRegistryTest, LinkMobilityParsesItsOwnSection) {
  Json settings = sms_settings();
  settings["source"] = "Klinikken";
  settings["delivery_report_gate"] = "gate-1";
  auto config = adapters::sms::linkmobility::parse_settings(sms_account(settings));
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->username, "visitpay");
  EXPECT_EQ(config->password, "pw");
  EXPECT_EQ(config->platform_id, "COMMON_API");
  EXPECT_EQ(config->platform_partner_id, "1");
  EXPECT_EQ(config->source, "Klinikken");
  EXPECT_EQ(config->delivery_report_gate, "gate-1");
  EXPECT_TRUE(registry_.create_sms("sms.linkmobility", sms_account(sms_settings()), "http://x"));

  settings["platform_id"] = 7;
  settings["payee_id"] = "wrong section";
  const auto error = sms_error("linkmobility", sms_account(settings));
  EXPECT_THAT(error, HasSubstr("/sms_accounts/main/platform_id: must be a string"));
  EXPECT_THAT(error, HasSubstr("/sms_accounts/main/payee_id: unknown key"));
}

TEST_F(AdapterRegistryTest, WebhookParsersAnswerInTheCoresWords) {
  const auto* payment = registry_.payment_notifications("swedbankpay");
  ASSERT_NE(payment, nullptr);
  EXPECT_EQ(registry_.payment_notifications("payment.swedbankpay"), nullptr);  // route: bare name
  auto no_headers = [](std::string_view) { return std::string_view{}; };
  const std::string callback =
      R"({"orderReference":"s1","paymentOrder":{"id":"/psp/paymentorders/abc"}})";
  auto hint = payment->parse({callback, no_headers});
  ASSERT_TRUE(hint.ok()) << hint.error().detail;
  EXPECT_EQ(hint->order_id, "/psp/paymentorders/abc");
  auto bad = payment->parse({R"({"paymentOrder":{}})", no_headers});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, common::ErrorCode::validation_failed);

  const auto* sms = registry_.sms_reports("linkmobility");
  ASSERT_NE(sms, nullptr);
  const std::string delivered = R"({"id":"m1","refId":"r1","resultCode":1001})";
  auto report = sms->parse({delivered, no_headers});
  ASSERT_TRUE(report.ok()) << report.error().detail;
  EXPECT_EQ(report->message_id, "m1");
  EXPECT_EQ(report->reference, "r1");
  EXPECT_EQ(report->result_code, 1001);
  EXPECT_EQ(report->outcome, ports::DeliveryOutcome::delivered);
  report = sms->parse({R"({"id":"m1","resultCode":1006})", no_headers});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->outcome, ports::DeliveryOutcome::failed);
  report = sms->parse({R"({"id":"m1","resultCode":1000})", no_headers});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->outcome, ports::DeliveryOutcome::in_progress);
}

TEST_F(AdapterRegistryTest, AdaptersDeclareTheirOlderPublicWebhookPaths) {
  const auto aliases = registry_.payment_aliases();
  ASSERT_EQ(aliases.size(), 1u);
  EXPECT_EQ(aliases[0].path, "/v1/webhooks/swedbankpay");
  EXPECT_EQ(aliases[0].adapter_id, "payment.swedbankpay");
  EXPECT_EQ(aliases[0].parser, registry_.payment_notifications("swedbankpay"));
  // LINK's gates already point at /v1/webhooks/sms/linkmobility, the generic route.
  EXPECT_TRUE(registry_.sms_aliases().empty());
}

}  // namespace
}  // namespace visitpay
