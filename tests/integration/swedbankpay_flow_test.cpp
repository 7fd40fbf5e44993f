// Swedbank Pay as documented, end to end (the service in-process on a manual clock, a real
// PostgreSQL, the mock Swedbank Pay in strict mode and the mock LINK Mobility over real HTTP):
// a create whose answer was lost is not recovered from the problem's `instance` (a trace id) but
// by a new attempt with a new payeeReference, its orphan is aborted once a callback names it, and
// the payer's pages tell what the order really is and can start a fresh payment after a cancel.
#include <regex>

#include "flow_fixture.hpp"

namespace visitpay::testing {
namespace {

constexpr const char* kForm = "application/x-www-form-urlencoded";

class SwedbankPayFlowTest : public FlowTest {
 protected:
  // The path (and query) of an absolute URL.
  static std::string path_of(const std::string& url) {
    const auto scheme = url.find("://");
    const auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    return slash == std::string::npos ? "/" : url.substr(slash);
  }

  // The order as Swedbank Pay holds it, with the URLs it was given.
  Json order_at_provider(const std::string& order_id) {
    auto reply = http_request(swedbank_->port(), "GET", order_id + "?$expand=urls,payeeinfo", {},
                              {{"Authorization", "Bearer test-token"}});
    EXPECT_EQ(reply.status, 200) << reply.body;
    return Json::parse(reply.body)["paymentOrder"];
  }

  // The payer's page behind completeUrl/cancelUrl of `order_id`.
  HttpReply payer_page(const std::string& order_id, const char* which) {
    const std::string url = order_at_provider(order_id)["urls"][which];
    return http_request(service_->port(), "GET", path_of(url));
  }

  // The payer presses "Avbryt" on the (mock) payment page: the order is Aborted.
  void cancel_on_payment_page(const mocks::SwedbankPayMock::OrderSnapshot& order) {
    auto reply = http_request(swedbank_->port(), "POST", order.checkout_path, "action=cancel",
                              {{"Content-Type", kForm}});
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  std::string checked_out_and_awaiting(const std::string& visit) {
    const auto id = checkout(visit);
    EXPECT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
    // The delivery report came: the fee the SMS stated counts.
    EXPECT_TRUE(eventually([&] { return session(id).contains("invoice_fee_disclosed"); }));
    return id;
  }

  static std::string token_in(const std::string& html) {
    std::smatch m;
    const std::regex hidden(R"(name="t" value="([A-Za-z0-9_-]{43})\")");
    return std::regex_search(html, m, hidden) ? m[1].str() : std::string();
  }

  static void expect_no_personal_data(const std::string& html) {
    for (const char* secret : {"Kari", "Nordmann", "10915596784", "41234567", "Storgata"}) {
      EXPECT_EQ(html.find(secret), std::string::npos) << secret;
    }
  }
};

TEST_F(SwedbankPayFlowTest, LostCreateAnswerMakesANewOrderAndOneSmsAndTheOrphanReachesNobody) {
  // The mock is strict: a request missing what the real API requires would be refused here.
  swedbank_->inject("lose_response");  // created, but the answer never arrives
  const auto id = checkout("V-LOST-1");
  for (int i = 0; i < 10 && !state_is(id, "awaiting_payment"); ++i) {
    advance(30s);
    eventually([&] { return state_is(id, "awaiting_payment"); }, 1s);
  }
  ASSERT_TRUE(state_is(id, "awaiting_payment"));
  ASSERT_TRUE(settle());

  // Two orders exist: the lost one (attempt 1) and the kept one (attempt 2), each created once.
  const auto orders = swedbank_->orders();
  ASSERT_EQ(orders.size(), 2u);
  const auto& orphan = orders[0];
  const auto& kept = orders[1];
  EXPECT_EQ(orphan.payee_reference.size(), 30u);
  EXPECT_EQ(orphan.payee_reference.substr(27), "001");
  EXPECT_EQ(kept.payee_reference.substr(27), "002");
  EXPECT_EQ(orphan.payee_reference.substr(0, 27), kept.payee_reference.substr(0, 27));
  EXPECT_EQ(orphan.creates_with_same_payee_reference, 1);
  EXPECT_EQ(kept.creates_with_same_payee_reference, 1);
  EXPECT_EQ(count("SELECT count(*) FROM payment_orders WHERE order_id = '" + kept.id + "'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM payment_order_attempts WHERE outcome = 'unknown'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM payment_order_attempts WHERE outcome = 'created'"), 1);

  // One SMS, and it carries the kept order's payment page, never the orphan's.
  const auto inbox = link_->inbox(kPhone);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_NE(inbox[0].text.find(kept.checkout_path), std::string::npos) << inbox[0].text;
  EXPECT_EQ(inbox[0].text.find(orphan.checkout_path), std::string::npos) << inbox[0].text;
  EXPECT_EQ(metric("visitpay_payment_order_creates_total", "outcome=\"unknown\""), 1);

  // The payer pays the order that reached them.
  ASSERT_TRUE(swedbank_->pay(kept.id, "Vipps"));
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  EXPECT_EQ(swedbank_->orders()[0].status, "Initialized");  // the orphan is left to expire
}

TEST_F(SwedbankPayFlowTest, ACallbackNamingTheOrphanGetsItAbortedAndForeignOrdersAreNotTouched) {
  swedbank_->inject("lose_response");
  const auto id = checkout("V-ORPHAN-1");
  for (int i = 0; i < 10 && !state_is(id, "awaiting_payment"); ++i) {
    advance(30s);
    eventually([&] { return state_is(id, "awaiting_payment"); }, 1s);
  }
  ASSERT_TRUE(state_is(id, "awaiting_payment"));
  auto orders = swedbank_->orders();
  ASSERT_EQ(orders.size(), 2u);
  const auto orphan = orders[0];

  // Another system of the same merchant made an order naming our session as its reference.
  const Json foreign_body = {{"paymentorder",
                              {{"operation", "Purchase"},
                               {"currency", "NOK"},
                               {"amount", 100},
                               {"vatAmount", 0},
                               {"description", "Nettbutikk"},
                               {"userAgent", "shop/1"},
                               {"language", "nb-NO"},
                               {"urls",
                                {{"hostUrls", {"https://shop.example"}},
                                 {"completeUrl", "https://shop.example/ok"},
                                 {"cancelUrl", "https://shop.example/avbrutt"},
                                 {"callbackUrl", "https://shop.example/cb"},
                                 {"termsOfServiceUrl", "https://shop.example/vilkar"}}},
                               {"payeeInfo",
                                {{"payeeId", "5cabf558-5283-482f-b252-4d58e06f6f3b"},
                                 {"payeeReference", "SHOP42"},
                                 {"orderReference", id}}}}}};
  auto created = http_request(
      swedbank_->port(), "POST", "/psp/paymentorders", foreign_body.dump(),
      {{"Authorization", "Bearer test-token"}, {"Content-Type", "application/json;version=3.1"}});
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string foreign = Json::parse(created.body)["paymentOrder"]["id"];

  // Callbacks as Swedbank Pay sends them (v3.1 body), to the callbackUrl the orders were given.
  const std::string callback_path = path_of(orphan.callback_url);
  for (const auto& order_id : {foreign, orphan.id}) {
    const Json callback = {{"orderReference", id},
                           {"paymentOrder", {{"id", order_id}, {"instrument", "CreditCard"}}}};
    auto reply = http_request(service_->port(), "POST", callback_path, callback.dump(),
                              {{"Content-Type", "application/json"}});
    ASSERT_EQ(reply.status, 200) << reply.body;
  }
  // A callback that arrives while the previous one's check runs waits for its backoff: let the
  // manual clock pass it.
  ASSERT_TRUE(eventually([&] {
    advance(5s);
    return swedbank_->orders()[0].status == "Aborted";
  }));
  ASSERT_TRUE(settle());
  orders = swedbank_->orders();
  EXPECT_EQ(orders[0].status, "Aborted");      // ours, never sent to anyone
  EXPECT_EQ(orders[1].status, "Initialized");  // the payer's order is untouched
  EXPECT_EQ(orders[2].status, "Initialized");  // not ours: never touched
  EXPECT_TRUE(state_is(id, "awaiting_payment"));
  EXPECT_EQ(count("SELECT count(*) FROM payment_order_attempts WHERE order_id = '" + orphan.id +
                  "' AND seen_status = 'aborted'"),
            1);
  EXPECT_EQ(count("SELECT count(*) FROM payment_order_checks"), 0);
  EXPECT_EQ(metric("visitpay_other_orders_total", "outcome=\"aborted\""), 1);
  EXPECT_EQ(metric("visitpay_other_orders_total", "outcome=\"not_ours\""), 1);
  EXPECT_EQ(link_->inbox(kPhone).size(), 1u);
}

TEST_F(SwedbankPayFlowTest, PagesTellPendingThenPaidFromTheProviderNotFromTheRedirect) {
  const auto id = checked_out_and_awaiting("V-PAGE-1");
  const auto order = swedbank_->orders().at(0);
  Json at_provider = order_at_provider(order.id);
  // Unguessable per-session token, not the session id.
  const std::string complete = at_provider["urls"]["completeUrl"];
  EXPECT_TRUE(
      std::regex_match(complete, std::regex(R"(http://.*/payment/complete\?t=[A-Za-z0-9_-]{43})")))
      << complete;
  EXPECT_EQ(complete.find(id), std::string::npos);
  EXPECT_EQ(at_provider["urls"]["termsOfServiceUrl"], "https://oslo-sentrum.example/vilkar");

  // The payer lands on completeUrl before paying (or before the payment shows): not "received".
  auto page = payer_page(order.id, "completeUrl");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Betalingen behandles"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("Sjekk igjen"), std::string::npos);
  EXPECT_EQ(page.body.find("mottatt"), std::string::npos) << page.body;
  EXPECT_EQ(page.body.find("<script"), std::string::npos);
  EXPECT_NE(page.body.find("650 kr"), std::string::npos);
  EXPECT_NE(page.body.find("Oslo Sentrum Klinikk"), std::string::npos);
  expect_no_personal_data(page.body);
  const auto csp = page.headers["content-security-policy"];
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(page.headers["referrer-policy"], "no-referrer");

  // Paid at the provider: the page says so, and the session follows (recorded and captured).
  ASSERT_TRUE(swedbank_->pay(order.id, "CreditCard"));
  page = payer_page(order.id, "completeUrl");
  EXPECT_NE(page.body.find("Takk for betalingen"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("er mottatt"), std::string::npos);
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  EXPECT_NE(payer_page(order.id, "cancelUrl").body.find("Takk for betalingen"), std::string::npos);

  // A made-up token shows nothing.
  page = http_request(service_->port(), "GET", "/payment/complete?t=" + std::string(43, 'A'));
  EXPECT_EQ(page.status, 404);
  EXPECT_NE(page.body.find("Ukjent lenke"), std::string::npos);
  EXPECT_EQ(http_request(service_->port(), "GET", "/payment/complete").status, 404);
}

TEST_F(SwedbankPayFlowTest, AbortedOrderPagesSayWhatHappensNextAndNeverPointAtTheSmsLink) {
  checked_out_and_awaiting("V-PAGE-2");
  const auto order = swedbank_->orders().at(0);
  ASSERT_NO_FATAL_FAILURE(cancel_on_payment_page(order));
  ASSERT_EQ(swedbank_->orders()[0].status, "Aborted");

  for (const char* which : {"cancelUrl", "completeUrl"}) {
    const auto page = payer_page(order.id, which);
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_NE(page.body.find("avbrutt"), std::string::npos) << which << page.body;
    EXPECT_EQ(page.body.find("lenken i SMS"), std::string::npos) << which << page.body;
    EXPECT_NE(page.body.find("Betal nå"), std::string::npos) << which;
    EXPECT_NE(page.body.find("24.11.2026 kl. 14:10"), std::string::npos) << page.body;
    EXPECT_NE(page.body.find("faktura"), std::string::npos);
    EXPECT_NE(page.body.find("fakturagebyr på 39 kr"), std::string::npos) << page.body;
    EXPECT_EQ(page.body.find("<script"), std::string::npos);
    expect_no_personal_data(page.body);
  }
  const auto title = payer_page(order.id, "cancelUrl").body;
  EXPECT_NE(title.find("<title>Betalingen er avbrutt</title>"), std::string::npos) << title;

  // Past the deadline the page no longer offers to pay: the invoice is what comes.
  service_->clock().set(*common::parse_rfc3339("2026-11-24T13:11:00Z"));
  const auto late = payer_page(order.id, "cancelUrl");
  EXPECT_EQ(late.body.find("Betal nå"), std::string::npos) << late.body;
  EXPECT_NE(late.body.find("faktura"), std::string::npos) << late.body;
}

TEST_F(SwedbankPayFlowTest, ACancelledPayerStartsAFreshPaymentFromOurPageAndPaysWithoutANewSms) {
  const auto id = checked_out_and_awaiting("V-FRESH-1");
  const auto first = swedbank_->orders().at(0);
  ASSERT_NO_FATAL_FAILURE(cancel_on_payment_page(first));

  // Swedbank Pay sends the payer to cancelUrl; our page offers a fresh payment (a plain form).
  const auto page = payer_page(first.id, "cancelUrl");
  const auto token = token_in(page.body);
  ASSERT_FALSE(token.empty()) << page.body;
  EXPECT_NE(page.body.find(R"(<form method="post" action="/payment/pay">)"), std::string::npos);
  auto started = http_request(service_->port(), "POST", "/payment/pay", "t=" + token,
                              {{"Content-Type", kForm}});
  ASSERT_EQ(started.status, 303) << started.body;
  const std::string location = started.headers["location"];

  // A new order with a new payeeReference; the old one stays aborted.
  auto orders = swedbank_->orders();
  ASSERT_EQ(orders.size(), 2u);
  const auto second = orders[1];
  EXPECT_EQ(location.substr(0, location.find('?')), swedbank_->base_url() + second.checkout_path);
  EXPECT_NE(second.payee_reference, first.payee_reference);
  EXPECT_EQ(second.payee_reference.substr(0, 27), first.payee_reference.substr(0, 27));
  EXPECT_EQ(second.status, "Initialized");
  EXPECT_EQ(count("SELECT count(*) FROM payment_orders WHERE order_id = '" + second.id + "'"), 1);
  // The same pages for the new order: the same session token.
  EXPECT_EQ(order_at_provider(second.id)["urls"]["cancelUrl"],
            order_at_provider(first.id)["urls"]["cancelUrl"]);
  // While the new order is open no third one can be started.
  EXPECT_EQ(http_request(service_->port(), "POST", "/payment/pay", "t=" + token,
                         {{"Content-Type", kForm}})
                .status,
            409);

  // The payer pays on the new order's page (the form, as without JavaScript).
  auto paid = http_request(swedbank_->port(), "POST", path_of(location),
                           "action=pay&instrument=CreditCard", {{"Content-Type", kForm}});
  ASSERT_EQ(paid.status, 200) << paid.body;
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  ASSERT_TRUE(eventually([&] { return swedbank_->orders()[1].captured == 65000; }));
  ASSERT_TRUE(settle());
  orders = swedbank_->orders();
  EXPECT_EQ(orders[0].status, "Aborted");
  EXPECT_EQ(orders[0].captured, 0);
  EXPECT_EQ(link_->inbox(kPhone).size(), 1u);  // never a second SMS
  EXPECT_EQ(metric("visitpay_fresh_payments_total"), 1);
  EXPECT_EQ(session(id)["payment"]["status"], "paid");
  EXPECT_NE(payer_page(second.id, "completeUrl").body.find("Takk for betalingen"),
            std::string::npos);
}

TEST_F(SwedbankPayFlowTest, AFreshPaymentIsRefusedAfterTheDeadlineAndForAnOpenOrder) {
  checked_out_and_awaiting("V-FRESH-2");
  const auto order = swedbank_->orders().at(0);
  // The order is still open: the payer can use the SMS link; no new order from the page.
  auto page = payer_page(order.id, "cancelUrl");
  EXPECT_EQ(page.body.find("Betal nå"), std::string::npos) << page.body;
  EXPECT_NE(page.body.find("lenken i SMS-en"), std::string::npos) << page.body;
  const std::string cancel = order_at_provider(order.id)["urls"]["cancelUrl"];
  const std::string token = cancel.substr(cancel.find("t=") + 2);
  EXPECT_EQ(http_request(service_->port(), "POST", "/payment/pay", "t=" + token,
                         {{"Content-Type", kForm}})
                .status,
            409);

  ASSERT_NO_FATAL_FAILURE(cancel_on_payment_page(order));
  service_->clock().set(*common::parse_rfc3339("2026-11-24T13:10:00Z"));  // the deadline
  page = http_request(service_->port(), "POST", "/payment/pay", "t=" + token,
                      {{"Content-Type", kForm}});
  EXPECT_EQ(page.status, 409) << page.body;
  EXPECT_EQ(swedbank_->orders().size(), 1u);
  EXPECT_EQ(
      http_request(service_->port(), "POST", "/payment/pay", "t=nope", {{"Content-Type", kForm}})
          .status,
      404);
}

}  // namespace
}  // namespace visitpay::testing
