// Reports and callbacks that do not come from the provider's configured URL change nothing: the
// whole service against a real PostgreSQL and the mock providers over real HTTP. Where it can,
// the forgery is the mock provider's own report sent to a URL an outsider could know (the path
// without token, a wrong token) or from an address outside the allowlist, so the body is exactly
// what LINK would send; each test also shows the same report taking effect when it is genuine.
#include <algorithm>

#include "flow_fixture.hpp"

namespace visitpay::testing {
namespace {

constexpr const char* kWrongToken = "sms-0123456789abcdef0123456789abcdeX";

class ForgedWebhooksTest : public FlowTest {
 protected:
  // A session whose SMS the gateway accepted, with a final result of 1002 (expired) for the
  // reports the mock posts to `dlr_url` ("" = none): if one of them were believed, the session
  // would go to the invoice path and its order would be aborted.
  std::string awaiting_report(const std::string& visit_id, const std::string& dlr_url = "") {
    // "No reports" is a gate that leads nowhere: LINK (and the strict mock) refuse a send that
    // asks for reports through a gate they do not know.
    link_->set_dlr_url(dlr_url.empty() ? "http://127.0.0.1:9/nowhere" : dlr_url);
    link_->set_final_result(kPhone, 1002);
    const auto id = checkout(visit_id);
    EXPECT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
    EXPECT_TRUE(settle());
    return id;
  }

  // Everything a report could change: the sessions and SMS rows whole, the outbox's work.
  std::string facts() {
    auto db = service_->db();
    auto r = db.exec(R"sql(
      SELECT concat_ws(' | ',
        (SELECT string_agg(to_jsonb(s)::text, ',' ORDER BY s.id) FROM sessions s),
        (SELECT string_agg(to_jsonb(m)::text, ',' ORDER BY m.id) FROM sms_messages m),
        (SELECT string_agg(o.kind || ':' || o.status || ':' || o.attempts, ',' ORDER BY o.id)
         FROM outbox o))::text)sql");
    if (!r) throw std::runtime_error(r.error().detail);
    return r->string(0, 0);
  }

  double refused(const std::string& outcome, const std::string& provider = "linkmobility") {
    return metric("visitpay_webhooks_total",
                  "provider=\"" + provider + "\",outcome=\"" + outcome + "\"");
  }

  // Lets the mock post the 1000 report and the final one to `url`, and waits until the service
  // has refused both (counted under `outcome`), then until the workers have nothing left to do.
  void mock_reports_refused(const std::string& url, const std::string& outcome) {
    const auto id = awaiting_report("V-FORGED-" + outcome, url);
    const auto before = facts();
    ASSERT_TRUE(eventually(
        [&] { return refused(outcome) >= 2 && link_->messages().at(0).last_result_code == 1002; }));
    ASSERT_TRUE(settle());
    EXPECT_EQ(facts(), before);
    EXPECT_TRUE(state_is(id, "awaiting_payment"));
    EXPECT_EQ(link_->messages().at(0).reports_sent, 0);          // none was answered 2xx
    EXPECT_EQ(swedbank_->orders().at(0).status, "Initialized");  // not aborted
  }

  HttpReply post(const std::string& target, const std::string& body,
                 std::map<std::string, std::string> headers = {}) {
    headers["Content-Type"] = "application/json";
    return http_request(service_->port(), "POST", target, body, headers);
  }

  std::string forged_expiry() const {
    return Json{{"id", link_->messages().at(0).message_id},
                {"refId", link_->messages().at(0).ref_id},
                {"resultCode", 1002}}
        .dump();
  }
};

TEST_F(ForgedWebhooksTest, GenuineReportsAtTheTokenUrlTakeEffect) {
  // The control for the tests below: the same reports at the URL the gate is configured with.
  link_->set_dlr_url(service_->config().public_base_url + kSmsWebhookPath);
  link_->set_final_result(kPhone, 1002);
  const auto id = checkout("V-GENUINE-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced") || state_is(id, "invoicing"); }));
  EXPECT_EQ(session(id)["invoice_reason"], "sms_undeliverable");
  EXPECT_GE(link_->messages().at(0).reports_sent, 1);
}

TEST_F(ForgedWebhooksTest, ReportsWithoutTokenChangeNothing) {
  mock_reports_refused(service_->config().public_base_url + "/v1/webhooks/sms/linkmobility",
                       "tokenless_refused");
}

TEST_F(ForgedWebhooksTest, ReportsWithAWrongTokenChangeNothing) {
  mock_reports_refused(
      service_->config().public_base_url + "/v1/webhooks/sms/linkmobility/" + kWrongToken,
      "token_refused");
}

TEST_F(ForgedWebhooksTest, TheOtherKindsTokenIsAWrongToken) {
  mock_reports_refused(
      service_->config().public_base_url + "/v1/webhooks/sms/linkmobility/" + kPaymentWebhookToken,
      "token_refused");
}

TEST_F(ForgedWebhooksTest, ReportsFromOutsideTheAllowlistChangeNothing) {
  service_.reset();
  allowed_sources_ = {"192.0.2.0/24", "2001:db8::/32"};  // the mock posts from 127.0.0.1
  start_service();
  mock_reports_refused(service_->config().public_base_url + kSmsWebhookPath, "source_refused");
}

TEST_F(ForgedWebhooksTest, AProxyHeaderFromAnUntrustedPeerChangesNothing) {
  service_.reset();
  allowed_sources_ = {"192.0.2.0/24"};
  configure_ = [](config::Config& c) {
    c.webhooks.trusted_proxies = {common::parse_ip_network("10.0.0.0/8").value()};
  };
  start_service();
  const auto id = awaiting_report("V-PROXY-1");
  const auto before = facts();
  // 127.0.0.1 is no trusted proxy: its claim to forward for an allowed address is ignored.
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"X-Forwarded-For", "192.0.2.10"},
                                                        {"X-Forwarded-For", "192.0.2.10, 10.0.0.1"},
                                                        {"Forwarded", "for=192.0.2.10"}}) {
    auto reply = post(kSmsWebhookPath, forged_expiry(), {{name, value}});
    EXPECT_EQ(reply.status, 404) << name << ": " << value;
  }
  EXPECT_EQ(refused("source_refused"), 3);
  ASSERT_TRUE(settle());
  EXPECT_EQ(facts(), before);
  EXPECT_TRUE(state_is(id, "awaiting_payment"));
}

TEST_F(ForgedWebhooksTest, BehindATrustedProxyItsHeaderNamesTheClient) {
  // The control of the test above: with 127.0.0.1 as the trusted balancer, the same request is
  // from 192.0.2.10, which the allowlist admits, and the report takes effect ...
  service_.reset();
  allowed_sources_ = {"192.0.2.0/24"};
  configure_ = [](config::Config& c) {
    c.webhooks.trusted_proxies = {common::parse_ip_network("127.0.0.0/8").value()};
  };
  start_service();
  const auto id = awaiting_report("V-PROXY-2");
  // ... but not when the client itself wrote the allowed address further left.
  auto reply =
      post(kSmsWebhookPath, forged_expiry(), {{"X-Forwarded-For", "192.0.2.10, 198.51.100.7"}});
  EXPECT_EQ(reply.status, 404);
  EXPECT_TRUE(state_is(id, "awaiting_payment"));
  reply = post(kSmsWebhookPath, forged_expiry(), {{"X-Forwarded-For", "198.51.100.7, 192.0.2.10"}});
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_TRUE(eventually([&] { return !state_is(id, "awaiting_payment"); }));
}

TEST_F(ForgedWebhooksTest, ForgedPaymentCallbacksQueueNothing) {
  const auto id = checkout("V-CALLBACK-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  ASSERT_TRUE(settle());
  const auto body = Json{{"paymentOrder", {{"id", only_order_id()}}}}.dump();
  const std::string callbacks = "SELECT count(*) FROM outbox WHERE kind = 'payment_callback'";
  for (const std::string& target :
       {std::string("/v1/webhooks/payment/swedbankpay"), std::string("/v1/webhooks/swedbankpay"),
        std::string("/v1/webhooks/payment/swedbankpay/") + kWrongToken,
        std::string("/v1/webhooks/payment/swedbankpay/") + kSmsWebhookToken,
        kPaymentWebhookPath + "x"}) {
    EXPECT_EQ(post(target, body).status, 404) << target;
  }
  EXPECT_EQ(count(callbacks), 0);
  // The control: the callbackUrl the order was created with.
  EXPECT_EQ(swedbank_->orders().at(0).callback_url,
            service_->config().public_base_url + kPaymentWebhookPath);
  EXPECT_EQ(post(kPaymentWebhookPath, body).status, 200);
  EXPECT_EQ(count(callbacks), 1);
}

TEST_F(ForgedWebhooksTest, ARefusalLooksLikeAPathThatDoesNotExist) {
  auto without_id = [](const HttpReply& reply) {
    auto doc = Json::parse(reply.body);
    doc.erase("request_id");
    return std::make_pair(reply.status, doc);
  };
  const auto nothing = without_id(post("/v1/nothing/here", "{}"));
  ASSERT_EQ(nothing.first, 404);
  for (const std::string& target :
       {std::string("/v1/webhooks/sms/linkmobility"),
        std::string("/v1/webhooks/sms/linkmobility/") + kWrongToken,
        std::string("/v1/webhooks/sms/twilio/") + kSmsWebhookToken,
        std::string("/v1/webhooks/payment/swedbankpay/") + kWrongToken}) {
    // The body is never read: a malformed one is not even a 400.
    EXPECT_EQ(without_id(post(target, "{not json")), nothing) << target;
    EXPECT_EQ(without_id(post(target, "{}")), nothing) << target;
  }
  EXPECT_EQ(post(kSmsWebhookPath, "{not json").status, 400);
}

TEST_F(ForgedWebhooksTest, TheMigrationSwitchAdmitsTokenlessPathsAndCountsThem) {
  service_.reset();
  configure_ = [](config::Config& c) {
    c.webhooks.providers["linkmobility"].accept_tokenless = true;
  };
  start_service();
  link_->set_dlr_url(service_->config().public_base_url + "/v1/webhooks/sms/linkmobility");
  link_->set_final_result(kPhone, 1002);
  const auto id = checkout("V-TOKENLESS-1");
  ASSERT_TRUE(eventually([&] { return session(id)["invoice_reason"] == "sms_undeliverable"; }));
  EXPECT_GE(metric("visitpay_webhooks_tokenless_total", "provider=\"linkmobility\""), 2);
  // Only for that provider: the payment callback without token is still refused.
  EXPECT_EQ(post("/v1/webhooks/payment/swedbankpay", "{}").status, 404);
}

TEST_F(ForgedWebhooksTest, TokensNeverReachTheLogs) {
  // A whole flow with callbacks and reports at the token URLs, and refused attempts.
  const auto id = checkout("V-TOKENLOG-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "CreditCard"));
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  EXPECT_GE(swedbank_->orders().at(0).callbacks_acknowledged, 1);
  post(std::string("/v1/webhooks/sms/linkmobility/") + kWrongToken, "{}");
  bool refusal_logged = false;
  for (const auto& line : service_->log_lines()) {
    EXPECT_EQ(line.find(kPaymentWebhookToken), std::string::npos) << line;
    EXPECT_EQ(line.find(kSmsWebhookToken), std::string::npos) << line;
    EXPECT_EQ(line.find(kWrongToken), std::string::npos) << line;
    refusal_logged = refusal_logged || line.find("webhook.refused") != std::string::npos;
  }
  EXPECT_TRUE(refusal_logged);
  const auto metrics = service_->service().metrics().render();
  EXPECT_EQ(metrics.find(kPaymentWebhookToken), std::string::npos);
  EXPECT_EQ(metrics.find(kSmsWebhookToken), std::string::npos);
}

}  // namespace
}  // namespace visitpay::testing
