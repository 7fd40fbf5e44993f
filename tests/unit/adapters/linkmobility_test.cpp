// LINK Mobility's tables as its PDF v1.18 has them (providers.md §8): the delivery-report result
// codes (final or not, delivered or not), the error bodies of POST /sms/send, the sender-id rules,
// and the settings that reject a bad sender at start-up. No I/O.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "adapters/sms/linkmobility/delivery_report.hpp"
#include "adapters/sms/linkmobility/linkmobility_gateway.hpp"
#include "adapters/sms/linkmobility/register.hpp"

namespace visitpay::adapters::sms::linkmobility {
namespace {

using common::ErrorCode;
using ports::DeliveryOutcome;
using Json = nlohmann::json;

TEST(LinkMobilityResultCodes, FollowTheDocumentsTable) {
  // TEMP (intermediate), PDF pp. 24-26; 1007 is "delivered, billing delayed", still TEMP.
  for (int code : {1000, 1005, 1007, 1008, 1011, 1012, 1013}) {
    EXPECT_EQ(classify_result_code(code), DeliveryOutcome::in_progress) << code;
  }
  EXPECT_EQ(classify_result_code(1001), DeliveryOutcome::delivered);
  // FINAL, delivery and billing unknown: no fee may count as disclosed, no early invoice either.
  for (int code : {4, 5, 1010}) {
    EXPECT_EQ(classify_result_code(code), DeliveryOutcome::undetermined) << code;
  }
  // FINAL, not delivered: 1 ("temporary" routing error) and 3 (throttling) are final as well.
  for (int code :
       {0,    1,    2,    3,    6,    104,  105,  1002, 1003, 1004, 1006, 1009, 2000, 2003,
        2100, 2102, 2103, 2104, 2105, 2106, 2107, 2200, 2207, 3000, 3002, 4000, 4007}) {
    EXPECT_EQ(classify_result_code(code), DeliveryOutcome::failed) << code;
  }
  // Not in the table: waited on (the deadline ends the wait).
  for (int code : {7, 103, 1014, 2004, 2108, 2208, 3003, 4008, 9999, -1}) {
    EXPECT_EQ(classify_result_code(code), DeliveryOutcome::in_progress) << code;
  }
}

http::HttpResponse answer(int status, const Json& body) {
  http::HttpResponse r;
  r.status = status;
  r.body = body.dump();
  return r;
}

TEST(LinkMobilitySendErrors, ConfigurationErrorsAreNotTheMessagesFault) {
  struct Case {
    int status;
    Json body;
    const char* code;
  };
  const Case cases[] = {
      {401, {{"status", 106100}, {"description", "Invalid authentication"}}, "106100"},
      {400, {{"status", 106100}, {"description", "x"}, {"translatedDescription", "x"}}, "106100"},
      {403, {{"status", 106101}, {"description", "Access denied"}}, "106101"},
      {400, {{"status", 106200}, {"description", "Invalid platformId"}}, "106200"},
      {400, {{"status", "106201"}}, "106201"},
      {400, {{"status", 106300}, {"description", "No gates available"}}, "106300"},
      {400, {{"status", 106301}}, "106301"},
      {400, {{"errorCode", "106200"}}, "106200"},  // the deveel model's field name
      {401, {{"description", "Unauthorized"}}, "http_401"},
      {403, Json::object(), "http_403"},
  };
  for (const auto& c : cases) {
    const auto error = classify_send_failure(answer(c.status, c.body));
    EXPECT_EQ(error.code, ErrorCode::provider_misconfigured) << c.body.dump();
    EXPECT_EQ(error.provider_code, c.code) << c.body.dump();
  }
}

TEST(LinkMobilitySendErrors, OtherAnswersKeepTheirMeaning) {
  // A 400 naming no configuration code is about this message: refused for good.
  auto rejected =
      classify_send_failure(answer(400, {{"status", 400}, {"description", "Invalid destination"}}));
  EXPECT_EQ(rejected.code, ErrorCode::provider_rejected);
  EXPECT_TRUE(rejected.provider_code.empty());
  EXPECT_NE(rejected.detail.find("Invalid"), std::string::npos);
  // 106000 "unknown": LINK's own trouble, retried within the budget.
  EXPECT_EQ(classify_send_failure(answer(400, {{"status", 106000}})).code,
            ErrorCode::provider_unavailable);
  EXPECT_EQ(classify_send_failure(answer(503, Json::object())).code,
            ErrorCode::provider_unavailable);
  EXPECT_EQ(classify_send_failure(answer(429, Json::object())).code,
            ErrorCode::provider_unavailable);
  // Not JSON at all.
  http::HttpResponse garbage;
  garbage.status = 400;
  garbage.body = "<html>Bad Request</html>";
  EXPECT_EQ(classify_send_failure(garbage).code, ErrorCode::provider_rejected);
  // Only the letters of LINK's description are copied: a number it echoed never reaches a log.
  const auto echoed = classify_send_failure(
      answer(400, {{"status", 400}, {"description", "bad destination +47 412 34 567"}}));
  EXPECT_NE(echoed.detail.find("bad destination"), std::string::npos);
  EXPECT_EQ(echoed.detail.find("412"), std::string::npos);
}

TEST(LinkMobilitySenders, FollowTheDocumentsRules) {
  EXPECT_EQ(sender_ton("Klinikk"), "ALPHANUMERIC");
  EXPECT_EQ(sender_ton("OsloSentrum"), "ALPHANUMERIC");  // 11 characters
  EXPECT_EQ(sender_ton("K2"), "ALPHANUMERIC");
  EXPECT_EQ(sender_ton("2222"), "SHORTNUMBER");
  EXPECT_EQ(sender_ton("+4741234567"), "MSISDN");
  for (const char* bad : {"", "K", "OsloSentrum1", "1Klinikk", "Oslo Klinikk", "Kl\xc3\xb8nikk",
                          "Klinikk!", "123456789012345", "+47", "+47abc12345"}) {
    std::string problem;
    EXPECT_EQ(sender_ton(bad, &problem), "") << bad;
    EXPECT_FALSE(problem.empty()) << bad;
  }
}

TEST(LinkMobilitySenders, ABadDefaultSenderStopsTheStart) {
  ports::AdapterAccount account;
  account.path = "/sms_accounts/main";
  account.name = "main";
  account.base_url = "https://n-eu.linkmobility.io";
  account.secrets["password"] = "pw";
  account.settings = Json{
      {"username", "u"},
      {"platform_id", "P"},
      {"platform_partner_id", "1"},
      {"source",
       "9Klinikk"}}.dump();
  auto config = parse_settings(account);
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().detail.find("/sms_accounts/main/source"), std::string::npos);
  account.settings = Json{
      {"username", "u"},
      {"platform_id", "P"},
      {"platform_partner_id", "1"},
      {"source",
       "Klinikk9"}}.dump();
  EXPECT_TRUE(parse_settings(account));
}

}  // namespace
}  // namespace visitpay::adapters::sms::linkmobility
