// The payment-link flow end to end: the service in-process (manual clock) against a real
// PostgreSQL and the mock Swedbank Pay and LINK Mobility servers over real HTTP.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/time_format.hpp"
#include "http_client.hpp"
#include "mocks/linkmobility/linkmobility_mock.hpp"
#include "mocks/swedbankpay/swedbankpay_mock.hpp"
#include "test_service.hpp"

namespace visitpay::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kPhone = "+4741234567";

std::uint16_t free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// Polls `condition` (the service works asynchronously) for up to `timeout`.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

std::string checkout_body(const std::string& visit_id, bool with_phone = true) {
  Json body = Json::parse(example_checkout(visit_id));
  if (!with_phone) body["payer"].erase("phone");
  return body.dump();
}

class PaymentFlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mocks::SwedbankPayMockOptions spay;
    spay.callback_time_scale = 0.001;
    spay.status_lag = 300ms;
    swedbank_ = std::make_unique<mocks::SwedbankPayMock>(spay);
    link_ = std::make_unique<mocks::LinkMobilityMock>();
    database_ = migrated_database();
    start_service();
  }

  void TearDown() override {
    if (HasFailure() && service_) {
      for (const auto& line : service_->log_lines()) {
        if (line.find("\"level\":\"debug\"") == std::string::npos) std::cerr << line << "\n";
      }
    }
    service_.reset();
    link_.reset();
    swedbank_.reset();
  }

  config::Config make_config(std::uint16_t port) {
    auto config = test_config(database_);
    config.http.port = port;
    config.public_base_url = "http://127.0.0.1:" + std::to_string(port);
    config.quiet_hours = quiet_hours_;
    config.outbox.poll_interval = 50ms;
    config.outbox.base_backoff = 1000ms;
    config.reconcile.after = std::chrono::minutes(10);
    config.reconcile.interval = reconcile_interval_;
    config.webhooks.allowed_sources = allowed_sources_;
    config.outbox.enabled = outbox_enabled_;
    config::PaymentAccount pay;
    pay.name = "main";
    pay.base_url = swedbank_->base_url();
    pay.token = "test-token";
    pay.payee_id = "5cabf558-5283-482f-b252-4d58e06f6f3b";
    pay.payee_name = "Oslo Sentrum Klinikk";
    pay.timeout = 3000ms;
    config.payment_accounts = {pay};
    config::SmsAccount sms;
    sms.name = "main";
    sms.base_url = link_->base_url();
    sms.username = "visitpay";
    sms.password = "secret";
    sms.platform_id = "COMMON_API";
    sms.platform_partner_id = "1234";
    sms.source = "OsloKlinikk";
    sms.timeout = 3000ms;
    sms.resend_unconfirmed_after = std::chrono::seconds(120);
    config.sms_accounts = {sms};
    for (auto& clinic : config.clinics) {
      clinic.payment_account = "main";
      clinic.sms_account = "main";
      if (clinic.id == "oslo-sentrum") clinic.sms_sender = "OsloSentrum";
    }
    if (!sms_account_override_.empty()) config.sms_accounts[0].base_url = sms_account_override_;
    return config;
  }

  void start_service() {
    const auto port = service_port_ != 0 ? service_port_ : free_port();
    service_port_ = port;
    service_ = std::make_unique<TestService>(make_config(port));
    service_->clock().set(start_time_);
    link_->set_dlr_url(service_->config().public_base_url + "/v1/webhooks/sms/linkmobility");
    token_ = service_->token("checkout:write,sessions:read,ops");
  }

  std::map<std::string, std::string> auth() const {
    return {{"Authorization", "Bearer " + token_}, {"Content-Type", "application/json"}};
  }

  // Posts a check-out and returns the session id.
  std::string checkout(const std::string& visit_id, bool with_phone = true) {
    auto reply = http_request(service_->port(), "POST", "/v1/checkouts",
                              checkout_body(visit_id, with_phone), auth());
    EXPECT_EQ(reply.status, 201) << reply.body;
    return Json::parse(reply.body).value("session_id", "");
  }

  Json session(const std::string& id) {
    auto reply = http_request(service_->port(), "GET", "/v1/sessions/" + id, {}, auth());
    EXPECT_EQ(reply.status, 200) << reply.body;
    return Json::parse(reply.body);
  }

  bool state_is(const std::string& id, const std::string& state) {
    return session(id).value("state", "") == state;
  }

  // Cancels while Swedbank Pay refuses the abort (the payer is in the Vipps app), and waits until
  // the abort is queued for another try.
  void cancel_while_the_payer_is_in_the_app(const std::string& id) {
    swedbank_->inject("abort_refused_in_app");
    auto reply =
        http_request(service_->port(), "POST", "/v1/checkouts/" + id + "/cancel", {}, auth());
    ASSERT_EQ(reply.status, 200) << reply.body;
    ASSERT_TRUE(eventually([&] {
      return count(
                 "SELECT count(*) FROM outbox WHERE kind = 'abort_payment' AND attempts >= 1 "
                 "AND status = 'pending'") == 1;
    }));
  }

  // Moves the manual clock and wakes the dispatcher, for work scheduled in the future.
  void advance(std::chrono::microseconds by) {
    service_->clock().advance(by);
    service_->service().dispatcher().nudge();
  }

  std::string only_order_id() {
    auto orders = swedbank_->orders();
    EXPECT_EQ(orders.size(), 1u);
    return orders.empty() ? std::string() : orders.front().id;
  }

  std::int64_t count(const std::string& sql) {
    auto db = service_->db();
    auto r = db.exec(sql, {});
    if (!r) throw std::runtime_error(r.error().detail);
    return r->int64(0, 0);
  }

  double metric(const std::string& name, const std::string& labels = "") {
    return service_->service().metrics().value(name, labels);
  }

  ports::Clock::time_point start_time_ = *common::parse_rfc3339("2026-11-22T13:10:00Z");
  domain::QuietHours quiet_hours_;
  std::vector<std::string> allowed_sources_;
  std::string sms_account_override_;
  std::chrono::milliseconds reconcile_interval_ = std::chrono::hours(1);
  bool outbox_enabled_ = true;
  std::string database_;
  std::uint16_t service_port_ = 0;
  std::unique_ptr<mocks::SwedbankPayMock> swedbank_;
  std::unique_ptr<mocks::LinkMobilityMock> link_;
  std::unique_ptr<TestService> service_;
  std::string token_;
};

TEST_F(PaymentFlowTest, CardPaymentFromCheckoutToCapturedAndPaid) {
  const auto id = checkout("V-CARD-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));

  // One order, one SMS with the link, the amount, the deadline in Oslo time and the fee.
  const auto orders = swedbank_->orders();
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].amount, 65000);
  EXPECT_EQ(orders[0].payee_reference.size(), 27u);
  EXPECT_EQ(orders[0].payee_reference.find("Kari"), std::string::npos);
  const auto inbox = link_->inbox(kPhone);
  ASSERT_EQ(inbox.size(), 1u);
  const auto& sms = inbox[0];
  EXPECT_EQ(sms.encoding, "GSM-7");
  EXPECT_LE(sms.sms_count, 2);
  EXPECT_NE(sms.text.find("Oslo Sentrum Klinikk"), std::string::npos) << sms.text;
  EXPECT_NE(sms.text.find("650 kr"), std::string::npos) << sms.text;
  EXPECT_NE(sms.text.find("39 kr"), std::string::npos) << sms.text;
  EXPECT_NE(sms.text.find("24.11"), std::string::npos) << sms.text;
  EXPECT_NE(sms.text.find("14:10"), std::string::npos) << sms.text;  // 13:10Z + 48 h, CET
  EXPECT_NE(sms.text.find("/checkout/"), std::string::npos) << sms.text;
  EXPECT_EQ(sms.ref_id.rfind("sms-", 0), 0u);
  EXPECT_EQ(sms.source, "OsloSentrum");  // the clinic's sender id, not the account's default

  auto s = session(id);
  EXPECT_EQ(s["deadline_at"], "2026-11-24T13:10:00Z");
  EXPECT_EQ(s["invoice_fee_disclosed"], 3900);
  EXPECT_EQ(s["payment"]["status"], "Initialized");

  // The payer pays by card; the callback makes the service GET the order and capture it.
  ASSERT_TRUE(swedbank_->pay(orders[0].id, "CreditCard"));
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  ASSERT_TRUE(eventually([&] { return swedbank_->orders()[0].captured == 65000; }));
  s = session(id);
  EXPECT_EQ(s["payment"]["instrument"], "CreditCard");
  EXPECT_TRUE(s.contains("paid_at"));
  EXPECT_EQ(metric("visitpay_payments_total", "instrument=\"CreditCard\""), 1);

  // The delivery report arrived and was recorded.
  EXPECT_TRUE(eventually(
      [&] { return count("SELECT count(*) FROM sms_messages WHERE status = 'delivered'") == 1; }));
}

TEST_F(PaymentFlowTest, VippsPaymentIsCapturedOnce) {
  const auto id = checkout("V-VIPPS-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "Vipps"));
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  ASSERT_TRUE(eventually([&] { return swedbank_->orders()[0].captured == 65000; }));
  EXPECT_EQ(session(id)["payment"]["instrument"], "Vipps");
  EXPECT_EQ(swedbank_->orders()[0].remaining_capture, 0);
}

TEST_F(PaymentFlowTest, DuplicateCallbacksChangeNothingTwice) {
  const auto id = checkout("V-DUP-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  swedbank_->inject("duplicate_callback", 3);
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "CreditCard"));
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  ASSERT_TRUE(eventually([&] { return swedbank_->orders()[0].callbacks_acknowledged >= 2; }));
  std::this_thread::sleep_for(300ms);  // let the copies be processed
  EXPECT_EQ(swedbank_->orders()[0].captured, 65000);
  EXPECT_EQ(metric("visitpay_payments_total", "instrument=\"CreditCard\""), 1);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE status = 'dead'"), 0);
}

TEST_F(PaymentFlowTest, OutOfOrderCallbacksOfTwoSessionsBothEndPaid) {
  const auto first = checkout("V-OOO-1");
  const auto second = checkout("V-OOO-2");
  ASSERT_TRUE(eventually(
      [&] { return state_is(first, "awaiting_payment") && state_is(second, "awaiting_payment"); }));
  swedbank_->inject("out_of_order_callbacks");  // the first callback waits for the second
  const auto orders = swedbank_->orders();
  ASSERT_EQ(orders.size(), 2u);
  ASSERT_TRUE(swedbank_->pay(orders[0].id, "CreditCard"));
  ASSERT_TRUE(swedbank_->pay(orders[1].id, "Vipps"));
  ASSERT_TRUE(eventually([&] { return state_is(first, "paid") && state_is(second, "paid"); }));
  EXPECT_EQ(metric("visitpay_payments_total", "instrument=\"CreditCard\""), 1);
  EXPECT_EQ(metric("visitpay_payments_total", "instrument=\"Vipps\""), 1);
}

TEST_F(PaymentFlowTest, CallbackBeforeTheStatusIsVisibleIsCheckedAgain) {
  const auto id = checkout("V-LAG-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  swedbank_->inject("callback_before_status");
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "CreditCard"));
  // The first GET still shows Initialized; the check is repeated after a backoff.
  ASSERT_TRUE(eventually([&] {
    return count("SELECT count(*) FROM outbox WHERE kind = 'payment_callback' AND attempts >= 1") >
           0;
  }));
  std::this_thread::sleep_for(400ms);  // past the mock's status lag
  for (int i = 0; i < 5 && !state_is(id, "paid"); ++i) {
    advance(5s);
    eventually([&] { return state_is(id, "paid"); }, 1s);
  }
  EXPECT_TRUE(state_is(id, "paid"));
}

TEST_F(PaymentFlowTest, ProviderFaultsOnCreateMakeOneOrderAndOneSms) {
  swedbank_->inject("http_500");
  swedbank_->inject("rate_limit", 1, 1);
  swedbank_->inject("lose_response");  // created, but the answer is lost: the retry finds it
  const auto id = checkout("V-FAULT-1");
  for (int i = 0; i < 10 && !state_is(id, "awaiting_payment"); ++i) {
    advance(30s);
    eventually([&] { return state_is(id, "awaiting_payment"); }, 1s);
  }
  ASSERT_TRUE(state_is(id, "awaiting_payment"));
  EXPECT_EQ(swedbank_->orders().size(), 1u);
  EXPECT_EQ(swedbank_->orders()[0].creates_with_same_payee_reference, 2);
  EXPECT_EQ(link_->inbox(kPhone).size(), 1u);
}

TEST_F(PaymentFlowTest, SmsGatewayFaultsAreRetriedWithoutDuplicates) {
  link_->inject("http_503");
  link_->inject("lose_response");  // taken by the gateway, answer lost: its report settles it
  const auto id = checkout("V-SMSFAULT-1");
  ASSERT_TRUE(eventually([&] {
    advance(2s);
    return state_is(id, "awaiting_payment");
  }));
  std::this_thread::sleep_for(300ms);
  advance(std::chrono::minutes(5));  // past the resend wait: nothing left to resend
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(link_->inbox(kPhone).size(), 1u);
  EXPECT_EQ(metric("visitpay_sms_possible_duplicates_total"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE status = 'pending'"), 0);
}

TEST_F(PaymentFlowTest, CancelAbortsTheOrderAndIsIdempotent) {
  const auto id = checkout("V-CANCEL-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  auto reply =
      http_request(service_->port(), "POST", "/v1/checkouts/" + id + "/cancel", {}, auth());
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Json::parse(reply.body)["state"], "cancelled");
  ASSERT_TRUE(eventually([&] { return swedbank_->orders()[0].status == "Aborted"; }));
  reply = http_request(service_->port(), "POST", "/v1/checkouts/" + id + "/cancel", {}, auth());
  EXPECT_EQ(reply.status, 200);
  EXPECT_FALSE(swedbank_->pay(only_order_id(), "CreditCard"));  // the link no longer pays
}

TEST_F(PaymentFlowTest, CancelBeforeTheOrderExistsSendsNothing) {
  swedbank_->inject("http_500", 3);
  const auto id = checkout("V-CANCEL-2");
  ASSERT_TRUE(eventually([&] {
    return count("SELECT count(*) FROM outbox WHERE attempts >= 1 AND status = 'pending'") > 0;
  }));
  auto reply =
      http_request(service_->port(), "POST", "/v1/checkouts/" + id + "/cancel", {}, auth());
  ASSERT_EQ(reply.status, 200) << reply.body;
  advance(std::chrono::minutes(5));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(swedbank_->orders().empty());
  EXPECT_TRUE(link_->inbox(kPhone).empty());
  EXPECT_TRUE(state_is(id, "cancelled"));
}

TEST_F(PaymentFlowTest, CancelWaitsWhileThePayerIsInTheVippsApp) {
  const auto id = checkout("V-CANCEL-3");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  ASSERT_NO_FATAL_FAILURE(cancel_while_the_payer_is_in_the_app(id));
  EXPECT_EQ(swedbank_->orders()[0].status, "Initialized");
  advance(10s);
  ASSERT_TRUE(eventually([&] { return swedbank_->orders()[0].status == "Aborted"; }));
}

TEST_F(PaymentFlowTest, PaymentWhileTheCancelWaitsIsFlaggedNotDropped) {
  service_.reset();
  reconcile_interval_ = 100ms;  // refreshes the gauge
  start_service();
  const auto id = checkout("V-LATE-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  ASSERT_NO_FATAL_FAILURE(cancel_while_the_payer_is_in_the_app(id));
  // The payer finishes in the Vipps app before the abort is tried again.
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "Vipps"));
  advance(10s);
  ASSERT_TRUE(eventually(
      [&] { return count("SELECT count(*) FROM payment_orders WHERE paid_after_close") == 1; }));
  EXPECT_TRUE(state_is(id, "cancelled"));
  EXPECT_EQ(session(id)["payment"]["status"], "Paid");
  EXPECT_EQ(swedbank_->orders()[0].captured, 0);  // not captured: the money goes back
  EXPECT_EQ(metric("visitpay_payments_total", "instrument=\"Vipps\""), 0);
  EXPECT_TRUE(eventually([&] {
    return http_request(service_->port(), "GET", "/metrics")
               .body.find("visitpay_payments_after_close 1\n") != std::string::npos;
  }));
}

TEST_F(PaymentFlowTest, AnInstanceWithoutOutboxLeavesTheWorkToAnother) {
  service_.reset();
  outbox_enabled_ = false;  // an API-only instance
  start_service();
  const auto id = checkout("V-APIONLY-1");
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(swedbank_->orders().empty());
  EXPECT_TRUE(state_is(id, "pending"));

  service_.reset();
  outbox_enabled_ = true;
  start_service();
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  EXPECT_EQ(link_->inbox(kPhone).size(), 1u);
}

TEST_F(PaymentFlowTest, PaidSessionCannotBeCancelled) {
  const auto id = checkout("V-CANCEL-4");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "Vipps"));
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  auto reply =
      http_request(service_->port(), "POST", "/v1/checkouts/" + id + "/cancel", {}, auth());
  EXPECT_EQ(reply.status, 409) << reply.body;
  EXPECT_TRUE(state_is(id, "paid"));
}

TEST_F(PaymentFlowTest, NoPhoneGoesStraightToTheInvoicePath) {
  const auto id = checkout("V-NOPHONE-1", /*with_phone=*/false);
  auto s = session(id);
  EXPECT_EQ(s["state"], "invoicing");
  EXPECT_EQ(s["invoice_reason"], "no_phone");
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(swedbank_->orders().empty());
  EXPECT_EQ(count("SELECT count(*) FROM outbox"), 0);
}

TEST_F(PaymentFlowTest, UndeliverableSmsMarksTheSessionForTheInvoicePath) {
  link_->set_final_result(kPhone, 2104);  // unknown subscriber
  const auto id = checkout("V-UNDELIV-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoicing"); }));
  auto s = session(id);
  EXPECT_EQ(s["invoice_reason"], "sms_undeliverable");
  EXPECT_EQ(
      count("SELECT count(*) FROM sms_messages WHERE status = 'failed' AND result_code = 2104"), 1);
}

TEST_F(PaymentFlowTest, QuietHoursHoldTheSmsUntilMorning) {
  service_.reset();
  start_time_ = *common::parse_rfc3339("2026-11-22T20:30:00Z");  // 21:30 in Oslo
  start_service();
  const auto id = checkout("V-QUIET-1");
  ASSERT_TRUE(eventually([&] { return swedbank_->orders().size() == 1; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(state_is(id, "pending"));
  EXPECT_TRUE(link_->inbox(kPhone).empty());

  service_->clock().set(*common::parse_rfc3339("2026-11-23T07:00:00Z"));  // 08:00 in Oslo
  service_->service().dispatcher().nudge();
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  EXPECT_EQ(session(id)["deadline_at"], "2026-11-25T07:00:00Z");  // the window starts at sending
  EXPECT_EQ(link_->inbox(kPhone).size(), 1u);
}

TEST_F(PaymentFlowTest, ReconcilerFindsAPaymentWhoseCallbackNeverArrived) {
  service_.reset();
  allowed_sources_ = {"192.0.2.1"};  // the mock's callbacks are refused
  reconcile_interval_ = 100ms;
  start_service();
  const auto id = checkout("V-RECON-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "CreditCard"));
  ASSERT_TRUE(eventually([&] { return swedbank_->orders()[0].callbacks_sent >= 1; }));
  std::this_thread::sleep_for(200ms);
  EXPECT_TRUE(state_is(id, "awaiting_payment"));
  EXPECT_EQ(swedbank_->orders()[0].callbacks_acknowledged, 0);

  // Not checked for ten minutes: the reconciler (polling every 100 ms here) asks the provider.
  service_->clock().advance(std::chrono::minutes(11));
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  EXPECT_EQ(swedbank_->orders()[0].captured, 65000);
}

TEST_F(PaymentFlowTest, RestartBetweenOrderAndSmsFinishesWithOneOfEach) {
  // The first instance creates the order but cannot reach the SMS gateway, then goes away.
  service_.reset();
  sms_account_override_ = "http://127.0.0.1:" + std::to_string(free_port());
  start_service();
  const auto id = checkout("V-CRASH-1");
  ASSERT_TRUE(eventually([&] {
    return count("SELECT count(*) FROM outbox WHERE kind = 'send_payment_sms' AND attempts >= 1") ==
           1;
  }));
  EXPECT_EQ(swedbank_->orders().size(), 1u);
  service_.reset();

  // A new instance on the same database finishes the work.
  sms_account_override_.clear();
  start_time_ += std::chrono::minutes(5);
  start_service();
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  EXPECT_EQ(swedbank_->orders().size(), 1u);
  EXPECT_EQ(link_->inbox(kPhone).size(), 1u);
}

TEST_F(PaymentFlowTest, DeadLettersAreListedAndRetriedByOperators) {
  const auto id = checkout("V-DEAD-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  // A sync for an order whose account is gone cannot succeed: it goes to the dead letters.
  {
    auto db = service_->db();
    ASSERT_TRUE(db.exec("UPDATE payment_orders SET account = 'gone'", {}));
  }
  const auto order_id = only_order_id();
  auto reply = http_request(service_->port(), "POST", "/v1/webhooks/swedbankpay",
                            Json{{"paymentOrder", {{"id", order_id}}}}.dump(),
                            {{"Content-Type", "application/json"}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  ASSERT_TRUE(
      eventually([&] { return count("SELECT count(*) FROM outbox WHERE status = 'dead'") == 1; }));

  reply = http_request(service_->port(), "GET", "/v1/outbox/dead", {}, auth());
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto items = Json::parse(reply.body)["items"];
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0]["kind"], "payment_callback");
  EXPECT_EQ(items[0]["session_id"], id);
  EXPECT_EQ(items[0]["last_error"].get<std::string>().find("41234567"), std::string::npos);

  {
    auto db = service_->db();
    ASSERT_TRUE(db.exec("UPDATE payment_orders SET account = 'main'", {}));
  }
  const auto item_id = items[0]["id"].get<std::int64_t>();
  reply = http_request(service_->port(), "POST", "/v1/outbox/" + std::to_string(item_id) + "/retry",
                       {}, auth());
  ASSERT_EQ(reply.status, 200) << reply.body;
  // Unpaid, so the callback's check is repeated a few times (backoff on the manual clock).
  ASSERT_TRUE(eventually([&] {
    advance(5s);
    return count(
               "SELECT count(*) FROM outbox WHERE status = 'done' AND kind = 'payment_callback'") ==
           1;
  }));
  reply = http_request(service_->port(), "POST", "/v1/outbox/" + std::to_string(item_id) + "/retry",
                       {}, auth());
  EXPECT_EQ(reply.status, 404);

  // Operators only.
  const auto clinic_token = service_->token("checkout:write");
  reply = http_request(service_->port(), "GET", "/v1/outbox/dead", {},
                       {{"Authorization", "Bearer " + clinic_token}});
  EXPECT_EQ(reply.status, 403);
}

TEST_F(PaymentFlowTest, WebhooksRejectBadBodiesAndIgnoreUnknownIds) {
  auto post = [&](const std::string& target, const std::string& body) {
    return http_request(service_->port(), "POST", target, body,
                        {{"Content-Type", "application/json"}});
  };
  EXPECT_EQ(post("/v1/webhooks/swedbankpay", "{not json").status, 400);
  auto reply = post("/v1/webhooks/swedbankpay", R"({"paymentOrder":{}})");
  EXPECT_EQ(reply.status, 422);
  EXPECT_NE(reply.body.find("/paymentOrder/id"), std::string::npos);
  EXPECT_EQ(
      post("/v1/webhooks/swedbankpay",
           R"({"paymentOrder":{"id":"/psp/paymentorders/00000000-0000-0000-0000-000000000000"}})")
          .status,
      200);
  EXPECT_EQ(post("/v1/webhooks/sms/linkmobility", R"({"id":"nope","resultCode":1001})").status,
            200);
  EXPECT_EQ(post("/v1/webhooks/sms/linkmobility", R"({"resultCode":1001})").status, 422);
}

TEST_F(PaymentFlowTest, LogsHoldNoPersonalDataOverTheWholeFlow) {
  const auto id = checkout("V-LOG-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "CreditCard"));
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  for (const auto& line : service_->log_lines()) {
    for (const char* secret : {"Kari", "Nordmann", "10915596784", "41234567", "Storgata"}) {
      EXPECT_EQ(line.find(secret), std::string::npos) << line;
    }
  }
}

}  // namespace
}  // namespace visitpay::testing
