// The console's read-only APIs for finance, operators and the data protection officer, on the
// whole service: the overview counts what happened to a period's check-outs (by instrument, with
// and without fee, open, conversion, median time to pay, open amount) in the database and only
// for the caller's clinics; provider errors name the failing work; the privacy check reports what
// is held past its rule.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "flow_fixture.hpp"

namespace visitpay::testing {
namespace {

using namespace std::chrono_literals;

class OpsApiTest : public FlowTest {
 protected:
  Json get(const std::string& target, const std::string& token, int expected = 200) {
    auto reply =
        http_request(service_->port(), "GET", target, {}, {{"Authorization", "Bearer " + token}});
    EXPECT_EQ(reply.status, expected) << target << ": " << reply.body;
    return Json::parse(reply.body);
  }

  // The day of the fixture's clock (2026-11-22, Oslo).
  static constexpr const char* kToday = "/v1/overview?from=2026-11-22&to=2026-11-22";
};

TEST_F(OpsApiTest, OverviewCountsThePeriodsCheckoutsFromTheDatabase) {
  const auto card = checkout("V-OV-CARD");
  const auto vipps = checkout("V-OV-VIPPS");
  const auto open = checkout("V-OV-OPEN");
  const auto no_phone = checkout("V-OV-NOPHONE", /*with_phone=*/false);
  for (const auto& id : {card, vipps, open})
    ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  ASSERT_TRUE(eventually([&] { return state_is(no_phone, "invoiced"); }));

  const auto order_of = [&](const std::string& session) {
    auto db = service_->db();
    auto r = db.exec("SELECT order_id FROM payment_orders WHERE session_id = '" + session + "'");
    return r && r->rows() == 1 ? r->string(0, 0) : std::string();
  };
  advance(5min);
  ASSERT_TRUE(swedbank_->pay(order_of(card), "CreditCard"));
  ASSERT_TRUE(eventually([&] { return state_is(card, "paid"); }));
  advance(5min);
  ASSERT_TRUE(swedbank_->pay(order_of(vipps), "Vipps"));
  ASSERT_TRUE(eventually([&] { return state_is(vipps, "paid"); }));

  const auto o = get(kToday, token_);
  EXPECT_EQ(o["checkouts"], 4);
  EXPECT_EQ(o["paid"]["card"], 1);
  EXPECT_EQ(o["paid"]["vipps"], 1);
  EXPECT_EQ(o["paid"]["other"], 0);
  EXPECT_EQ(o["invoiced"]["without_fee"], 1);
  EXPECT_EQ(o["invoiced"]["with_fee"], 0);
  EXPECT_EQ(o["open"], 1);
  EXPECT_EQ(o["cancelled"], 0);
  EXPECT_EQ(o["conversion_permille"], 500);
  // Paid 5 and 10 minutes after check-out (the manual clock): the median is between.
  ASSERT_TRUE(o["median_seconds_to_pay"].is_number()) << o.dump();
  EXPECT_GE(o["median_seconds_to_pay"].get<std::int64_t>(), 300);
  EXPECT_LE(o["median_seconds_to_pay"].get<std::int64_t>(), 600);
  // Still to come: the open session's amount and the invoice waiting for review.
  EXPECT_EQ(o["open_amount_ore"],
            count("SELECT amount_ore FROM sessions WHERE id = '" + open + "'") +
                count("SELECT total_ore FROM invoices"));
  ASSERT_EQ(o["days"].size(), 1u);
  EXPECT_EQ(o["days"][0]["day"], "2026-11-22");
  EXPECT_EQ(o["days"][0]["checkouts"], 4);
  EXPECT_EQ(o["days"][0]["paid"], 2);

  // Another day, another clinic, a caller bound to another clinic: nothing of these.
  EXPECT_EQ(get("/v1/overview?from=2026-11-23&to=2026-11-23", token_)["checkouts"], 0);
  EXPECT_EQ(get(std::string(kToday) + "&clinic_id=bergen-brygge", token_)["checkouts"], 0);
  const auto bergen = service_->token("invoices:review", "bergen-brygge");
  EXPECT_EQ(get(kToday, bergen)["checkouts"], 0);
}

TEST_F(OpsApiTest, AnInvalidPeriodNamesEachBadField) {
  const auto p = get("/v1/overview?from=2026-13-01&to=yesterday", token_, 422);
  ASSERT_EQ(p["errors"].size(), 2u) << p.dump();
  EXPECT_EQ(p["errors"][0]["pointer"], "/from");
  EXPECT_EQ(p["errors"][1]["pointer"], "/to");
  const auto reversed = get("/v1/overview?from=2026-11-22&to=2026-11-01", token_, 422);
  EXPECT_EQ(reversed["errors"][0]["pointer"], "/to");
  // Without a scope for it, refused.
  get(kToday, service_->token("checkout:write"), 403);
}

TEST_F(OpsApiTest, ProviderErrorsNameTheFailingWork) {
  EXPECT_EQ(get("/v1/ops/provider-errors", token_)["items"].size(), 0u);
  swedbank_->inject("http_502", 100000);
  const auto id = checkout("V-OPS-ERR");
  ASSERT_TRUE(eventually(
      [&] { return count("SELECT count(*) FROM outbox WHERE last_error IS NOT NULL") > 0; }));
  const auto errors = get("/v1/ops/provider-errors", token_);
  ASSERT_EQ(errors["items"].size(), 1u) << errors.dump();
  EXPECT_EQ(errors["items"][0]["kind"], "create_payment_order");
  EXPECT_GE(errors["items"][0]["failing"].get<int>(), 1);
  EXPECT_EQ(errors["items"][0]["dead"], 0);
  EXPECT_TRUE(errors["items"][0]["last_error"].is_string());
  EXPECT_EQ(state_is(id, "pending"), true);
}

TEST_F(OpsApiTest, PrivacyCheckReportsWhatIsHeldPastItsRule) {
  const auto dpo = service_->token("privacy");
  auto check = get("/v1/privacy/check", dpo);
  EXPECT_EQ(check["ok"], true) << check.dump();
  // A cancelled session's payer data is due at once; the purger's next pass is a minute away.
  const auto id = checkout("V-PRIV-CHECK");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  ASSERT_EQ(
      http_request(service_->port(), "POST", "/v1/checkouts/" + id + "/cancel", {}, auth()).status,
      200);
  check = get("/v1/privacy/check", dpo);
  EXPECT_EQ(check["ok"], false) << check.dump();
  std::int64_t cancelled = -1;
  for (const auto& rule : check["rules"]) {
    if (rule["rule"] == "cancelled") cancelled = rule["sessions"].get<std::int64_t>();
  }
  EXPECT_EQ(cancelled, 1) << check.dump();
  get("/v1/privacy/check", token_, 403);  // ops is not the data protection officer
}

TEST_F(OpsApiTest, PrivacyCheckCountsLettersLeftInTheDeliveryFolder) {
  const auto dpo = service_->token("privacy");
  std::filesystem::create_directories(delivery_dir_);
  for (const char* name : {"912345688-invoice-1.pdf", "912345688-invoice-2.pdf"}) {
    std::ofstream(delivery_dir_ / name) << "%PDF-";
  }
  // One picked up late: written four days ago, past the default three.
  std::filesystem::last_write_time(
      delivery_dir_ / "912345688-invoice-1.pdf",
      std::filesystem::file_time_type::clock::now() - std::chrono::hours(96));
  const auto check = get("/v1/privacy/check", dpo);
  EXPECT_EQ(check["ok"], false) << check.dump();
  bool seen = false;
  for (const auto& f : check["delivered_files"]) {
    if (f["folder"] != delivery_dir_.string()) continue;
    EXPECT_EQ(f["past_retention"], 1);
    EXPECT_EQ(f["files"], 2);
    seen = true;
  }
  EXPECT_TRUE(seen) << check.dump();
}

}  // namespace
}  // namespace visitpay::testing
