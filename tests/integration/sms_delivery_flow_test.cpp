// The payment SMS through LINK Mobility as LINK documents it (providers.md §8), end to end: the
// service in-process (manual clock) against a real PostgreSQL, the mock Swedbank Pay and the
// mock LINK Mobility in strict mode over real HTTP. The payment SMS is two parts, so LINK reports
// each part on its own ("<id>$0", "<id>$1"); a wrong password is ops' problem, not the payer's;
// a report nobody can vouch for changes nothing.
#include <regex>

#include "flow_fixture.hpp"

namespace visitpay::testing {
namespace {

class SmsDeliveryFlowTest : public FlowTest {
 protected:
  // POSTs a delivery report to the service, as LINK's gate does.
  int post_report(const Json& report) {
    return http_request(service_->port(), "POST", kSmsWebhookPath, report.dump(),
                        {{"Content-Type", "application/json"}})
        .status;
  }

  static Json report(const std::string& id, const Json& ref_id, int code, int segments = 2) {
    return {{"refId", ref_id},
            {"id", id},
            {"operator", "no.telenor"},
            {"sentTimestamp", "2026-11-22T13:10:00.000Z"},
            {"timestamp", "2026-11-22T13:10:05.000Z"},
            {"resultCode", code},
            {"operatorResultCode", "000"},
            {"segments", segments},
            {"gateCustomParameters", Json::object()},
            {"customParameters", Json::object()}};
  }

  std::string sms_status() {
    auto db = service_->db();
    auto r = db.exec("SELECT string_agg(status, ',' ORDER BY id) FROM sms_messages");
    return r && !r->is_null(0, 0) ? r->string(0, 0) : "";
  }

  // The invoice of the only session: its fee and whether the configured fee was left out.
  std::pair<std::int64_t, bool> invoice_fee() {
    auto db = service_->db();
    auto r = db.exec("SELECT fee_ore, fee_not_disclosed FROM invoices");
    if (!r || r->rows() != 1) return {-1, false};
    return {r->int64(0, 0), r->boolean(0, 1)};
  }

  Json readyz() {
    auto reply = http_request(service_->port(), "GET", "/readyz");
    EXPECT_EQ(reply.status, 200) << reply.body;
    return Json::parse(reply.body);
  }

  // One part finally undeliverable (the other delivered): the notice did not arrive.
  void expect_invoiced_without_fee(const std::string& id) {
    ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
    EXPECT_EQ(session(id)["invoice_reason"], "sms_undeliverable");
    EXPECT_FALSE(session(id).contains("invoice_fee_disclosed"));
    EXPECT_EQ(sms_status(), "failed");
    const auto [fee, not_disclosed] = invoice_fee();
    EXPECT_EQ(fee, 0);
    EXPECT_TRUE(not_disclosed);
    EXPECT_EQ(swedbank_->orders().at(0).status, "Aborted");  // the link no longer pays
  }
};

TEST_F(SmsDeliveryFlowTest, TwoPartSmsCountsAsDeliveredWhenEveryPartIs) {
  const auto id = checkout("V-PARTS-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  const auto inbox = link_->inbox(kPhone);
  ASSERT_EQ(inbox.size(), 1u);
  // A link of the documented shape, as long as https://ecom.payex.com/checkout/<64 hex>?_tc_tid=
  // <32 hex> (137 characters; the token length follows Swedbank Pay's examples, not providers.md).
  const std::regex link(R"(http://127\.0\.0\.1:\d+/checkout/[0-9a-f]{64}\?_tc_tid=[0-9a-f]{32})");
  std::smatch url;
  ASSERT_TRUE(std::regex_search(inbox[0].text, url, link)) << inbox[0].text;
  EXPECT_GE(url.length(0), 136) << url.str(0);  // 137 with a five-digit port
  EXPECT_EQ(inbox[0].sms_count, 2) << inbox[0].text.size() << ": " << inbox[0].text;
  EXPECT_EQ(inbox[0].gates, (std::vector<std::string>{mocks::LinkMobilityMock::kDefaultGate}));

  // The mock reports 1000 and then 1001 for "<id>$0" and "<id>$1".
  ASSERT_TRUE(eventually([&] { return session(id).contains("invoice_fee_disclosed"); }));
  EXPECT_EQ(session(id)["invoice_fee_disclosed"], 3900);
  EXPECT_EQ(sms_status(), "delivered");
  EXPECT_EQ(count("SELECT count(*) FROM sms_parts WHERE outcome = 'delivered'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM sms_messages WHERE segments = 2"), 1);
}

TEST_F(SmsDeliveryFlowTest, OnePartDeliveredIsNotDelivered) {
  link_->inject("no_dlr");  // this test plays LINK's gate itself
  const auto id = checkout("V-PARTS-2");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  const auto sent = link_->messages().at(0);
  ASSERT_EQ(sent.sms_count, 2);

  EXPECT_EQ(post_report(report(sent.message_id + "$0", sent.ref_id, 1001)), 200);
  EXPECT_FALSE(session(id).contains("invoice_fee_disclosed"));  // half a notice is no notice
  EXPECT_EQ(sms_status(), "accepted");
  EXPECT_EQ(post_report(report(sent.message_id + "$1", sent.ref_id, 1000)), 200);
  EXPECT_FALSE(session(id).contains("invoice_fee_disclosed"));
  EXPECT_EQ(post_report(report(sent.message_id + "$1", sent.ref_id, 1001)), 200);
  EXPECT_EQ(session(id)["invoice_fee_disclosed"], 3900);
  EXPECT_EQ(sms_status(), "delivered");
  // A late intermediate code after the final one changes nothing.
  EXPECT_EQ(post_report(report(sent.message_id + "$1", sent.ref_id, 1000)), 200);
  EXPECT_EQ(count("SELECT count(*) FROM sms_parts WHERE outcome = 'delivered'"), 2);
}

TEST_F(SmsDeliveryFlowTest, UndeliverableSecondPartInvoicesWithoutFee) {
  link_->set_final_result(kPhone, 1006, 1);  // part 0 is delivered, part 1 is not
  expect_invoiced_without_fee(checkout("V-PARTS-3"));
}

TEST_F(SmsDeliveryFlowTest, UndeliverableFirstPartInvoicesWithoutFee) {
  link_->set_final_result(kPhone, 1006, 0);  // part 0 ("<id>$0") is not delivered, part 1 is
  expect_invoiced_without_fee(checkout("V-PARTS-4"));
}

TEST_F(SmsDeliveryFlowTest, NoDeliveredReportByTheDeadlineMeansNoFee) {
  link_->inject("no_dlr");
  const auto id = checkout("V-PARTS-4");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  const auto sent = link_->messages().at(0);
  // Only the first part is ever reported delivered; the second part's fate stays unknown.
  EXPECT_EQ(post_report(report(sent.message_id + "$0", sent.ref_id, 1001)), 200);
  EXPECT_EQ(post_report(report(sent.message_id + "$1", sent.ref_id, 1010)), 200);
  EXPECT_EQ(sms_status(), "undetermined");
  EXPECT_TRUE(state_is(id, "awaiting_payment"));  // not undeliverable: the payer may have it

  advance(std::chrono::hours(49));
  ASSERT_TRUE(eventually([&] {
    settle();
    return state_is(id, "invoiced");
  }));
  EXPECT_EQ(session(id)["invoice_reason"], "window_expired");
  const auto [fee, not_disclosed] = invoice_fee();
  EXPECT_EQ(fee, 0);
  EXPECT_TRUE(not_disclosed);
}

TEST_F(SmsDeliveryFlowTest, WrongPasswordWaitsForOpsInsteadOfInvoicing) {
  link_->set_credentials("visitpay", "rotated");  // changed at LINK, not yet in our config
  const auto first = checkout("V-PWD-1");
  const auto second = checkout("V-PWD-2");
  // (The second SMS may not even ask: the account is known to be refused for a minute.)
  ASSERT_TRUE(eventually([&] {
    return metric("visitpay_provider_config_errors_total",
                  "provider=\"linkmobility\",code=\"106100\"") >= 1;
  }));
  ASSERT_TRUE(eventually([&] {
    return count(
               "SELECT count(*) FROM outbox WHERE kind = 'send_payment_sms' AND "
               "status = 'pending' AND attempts >= 1 AND lease_owner IS NULL") == 2;
  }));
  ASSERT_TRUE(settle());
  EXPECT_TRUE(state_is(first, "pending"));
  EXPECT_TRUE(state_is(second, "pending"));

  auto ready = readyz();
  ASSERT_TRUE(ready.contains("providers")) << ready.dump();
  EXPECT_EQ(ready["providers"][0]["account"], "sms:main");
  EXPECT_EQ(ready["providers"][0]["code"], "106100");
  EXPECT_EQ(ready["providers"][0]["status"], "config_error");

  // Past the SMS work's retry budget (1 h by default): still waiting, never an invoice.
  for (int i = 0; i < 3; ++i) {
    advance(std::chrono::minutes(50));
    ASSERT_TRUE(settle());
  }
  EXPECT_TRUE(state_is(first, "pending"));
  EXPECT_TRUE(state_is(second, "pending"));
  EXPECT_EQ(count("SELECT count(*) FROM sessions WHERE state = 'invoicing' OR state = 'invoiced'"),
            0);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE status = 'dead'"), 0);
  EXPECT_TRUE(link_->inbox(kPhone).empty());

  // Ops fix the password (here: LINK accepts ours again); the waiting SMS go out.
  link_->set_credentials("visitpay", "secret");
  advance(std::chrono::minutes(2));
  ASSERT_TRUE(eventually([&] {
    settle();
    return state_is(first, "awaiting_payment") && state_is(second, "awaiting_payment");
  }));
  EXPECT_EQ(link_->inbox(kPhone).size(), 2u);
  EXPECT_FALSE(readyz().contains("providers"));
}

TEST_F(SmsDeliveryFlowTest, AReportMatchedOnlyByAGuessableReferenceChangesNothing) {
  link_->inject("lose_response");  // LINK takes the SMS but its answer is lost
  link_->inject("no_dlr");         // and this test plays LINK's gate
  const auto id = checkout("V-FORGE-1");
  ASSERT_TRUE(eventually([&] { return sms_status() == "unknown"; }));
  const auto sent = link_->messages().at(0);
  const auto sms_id = count("SELECT id FROM sms_messages");
  ASSERT_EQ(sent.ref_id.rfind("sms-" + std::to_string(sms_id) + "-", 0), 0u) << sent.ref_id;

  // An outsider knows the pattern "sms-<n>" but not the secret after it.
  const std::string guessed = "sms-" + std::to_string(sms_id);
  EXPECT_EQ(post_report(report("forged$0", guessed, 1002)), 200);
  EXPECT_EQ(post_report(report("forged", guessed, 1001, 1)), 200);
  EXPECT_EQ(post_report(report("forged$1", guessed + "-0000", 1001)), 200);
  EXPECT_TRUE(state_is(id, "pending"));
  EXPECT_EQ(sms_status(), "unknown");
  EXPECT_EQ(count("SELECT count(*) FROM sms_parts"), 0);

  // LINK's own report echoes the whole reference: that one settles the lost answer.
  EXPECT_EQ(post_report(report(sent.message_id + "$0", sent.ref_id, 1000)), 200);
  EXPECT_TRUE(state_is(id, "awaiting_payment"));
  EXPECT_EQ(count("SELECT count(*) FROM sms_messages WHERE gateway_message_id = '" +
                  sent.message_id + "'"),
            1);
}

TEST_F(SmsDeliveryFlowTest, AReportForAnAttemptNotWaitingChangesNothing) {
  link_->inject("http_503");  // the first attempt is answered "not sent"
  link_->inject("no_dlr");
  const auto id = checkout("V-FORGE-2");
  ASSERT_TRUE(eventually([&] { return sms_status() == "not_sent"; }));
  // Even with the secret reference, an attempt that was never sent takes no report.
  std::string not_sent_ref;
  {
    auto db = service_->db();
    auto r = db.exec("SELECT 'sms-' || id || '-' || ref_token FROM sms_messages");
    ASSERT_TRUE(r);
    not_sent_ref = r->string(0, 0);
  }
  EXPECT_EQ(post_report(report("x1$0", not_sent_ref, 1001)), 200);
  EXPECT_EQ(post_report(report("x1$1", not_sent_ref, 1001)), 200);
  EXPECT_FALSE(session(id).contains("invoice_fee_disclosed"));
  EXPECT_EQ(sms_status(), "not_sent");

  advance(std::chrono::seconds(5));  // the retry goes out and is delivered (by this test)
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  const auto sent = link_->messages().at(0);
  EXPECT_EQ(post_report(report(sent.message_id + "$0", sent.ref_id, 1001)), 200);
  EXPECT_EQ(post_report(report(sent.message_id + "$1", sent.ref_id, 1001)), 200);
  EXPECT_EQ(session(id)["invoice_fee_disclosed"], 3900);

  // Final now: a forged failure with the right message id cannot undo the delivery.
  EXPECT_EQ(post_report(report(sent.message_id + "$1", sent.ref_id, 1002)), 200);
  EXPECT_EQ(post_report(report(sent.message_id + "$2", sent.ref_id, 2104, 3)), 200);
  ASSERT_TRUE(settle());
  EXPECT_TRUE(state_is(id, "awaiting_payment"));
  EXPECT_EQ(sms_status(), "not_sent,delivered");
}

TEST_F(SmsDeliveryFlowTest, AReportPastTheAgeLimitChangesNothing) {
  service_.reset();
  report_max_age_ = std::chrono::hours(1);
  start_service();
  link_->inject("no_dlr");
  const auto id = checkout("V-AGE-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  const auto sent = link_->messages().at(0);
  advance(std::chrono::hours(2));
  EXPECT_EQ(post_report(report(sent.message_id + "$0", sent.ref_id, 1001)), 200);
  EXPECT_EQ(post_report(report(sent.message_id + "$1", sent.ref_id, 1001)), 200);
  EXPECT_FALSE(session(id).contains("invoice_fee_disclosed"));
  EXPECT_EQ(sms_status(), "accepted");
}

TEST_F(SmsDeliveryFlowTest, ASenderIdLinkCannotUseStopsTheStart) {
  service_.reset();
  auto config = make_config(free_port());
  for (auto& clinic : config.clinics) {
    if (clinic.id == "oslo-sentrum") clinic.sms_sender = "1Klinikk";
  }
  std::string error;
  try {
    TestService service(config);
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  EXPECT_NE(error.find("/clinics/oslo-sentrum/sms_sender"), std::string::npos) << error;
}

}  // namespace
}  // namespace visitpay::testing
