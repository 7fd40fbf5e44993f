// The payment-link flow end to end: the service in-process (manual clock) against a real
// PostgreSQL and the mock Swedbank Pay and LINK Mobility servers over real HTTP.
#include "flow_fixture.hpp"

namespace visitpay::testing {
namespace {

class PaymentFlowTest : public FlowTest {
 protected:
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
                 "AND status = 'pending' AND lease_owner IS NULL") == 1;
    }));
  }
};

TEST_F(PaymentFlowTest, CardPaymentFromCheckoutToCapturedAndPaid) {
  const auto id = checkout("V-CARD-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));

  // One order, one SMS with the link, the amount, the deadline in Oslo time and the fee.
  const auto orders = swedbank_->orders();
  ASSERT_EQ(orders.size(), 1u);
  EXPECT_EQ(orders[0].amount, 65000);
  EXPECT_EQ(orders[0].payee_reference.size(), 30u);  // the attempt number is in it
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

  // The fee counts as disclosed once the delivery report says the SMS arrived.
  ASSERT_TRUE(eventually([&] { return session(id).contains("invoice_fee_disclosed"); }));
  auto s = session(id);
  EXPECT_EQ(s["deadline_at"], "2026-11-24T13:10:00Z");
  EXPECT_EQ(s["invoice_fee_disclosed"], 3900);
  EXPECT_EQ(s["payment"]["status"], "open");

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
  ASSERT_TRUE(settle());  // the copies' work is done
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
  swedbank_->inject("lose_response");  // created, but the answer is lost: reaches nobody
  const auto id = checkout("V-FAULT-1");
  for (int i = 0; i < 10 && !state_is(id, "awaiting_payment"); ++i) {
    advance(30s);
    eventually([&] { return state_is(id, "awaiting_payment"); }, 1s);
  }
  ASSERT_TRUE(state_is(id, "awaiting_payment"));
  // The lost create's order stays behind (never sent); the next attempt's is the one kept.
  const auto orders = swedbank_->orders();
  ASSERT_EQ(orders.size(), 2u);
  EXPECT_EQ(orders[0].creates_with_same_payee_reference, 1);
  EXPECT_EQ(orders[1].creates_with_same_payee_reference, 1);
  const auto inbox = link_->inbox(kPhone);
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_NE(inbox[0].text.find(orders[1].checkout_path), std::string::npos);
}

TEST_F(PaymentFlowTest, SmsGatewayFaultsAreRetriedWithoutDuplicates) {
  link_->inject("http_503");
  link_->inject("lose_response");  // taken by the gateway, answer lost: its report settles it
  const auto id = checkout("V-SMSFAULT-1");
  ASSERT_TRUE(eventually([&] {
    advance(2s);
    return state_is(id, "awaiting_payment");
  }));
  ASSERT_TRUE(settle());
  advance(std::chrono::minutes(5));  // past the resend wait: nothing left to resend
  ASSERT_TRUE(settle());
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
  ASSERT_TRUE(settle());
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
  EXPECT_EQ(swedbank_->orders()[0].captured, 0);  // not captured: the money goes back
  // ... released at the provider (cancel_payment; tests/integration/refunds_flow_test.cpp).
  EXPECT_TRUE(eventually([&] {
    advance(2s);
    return swedbank_->orders()[0].status == "Cancelled";
  }));
  // The mock's callback comes before its status shows the cancel (status lag); the look again
  // that follows is scheduled on the manual clock, so time goes on here too.
  EXPECT_TRUE(eventually([&] {
    advance(2s);
    return session(id)["payment"]["status"] == "cancelled";
  }));
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
  // No loop runs here, so there is no pass to await: a nudge would wake one within milliseconds.
  service_->service().dispatcher().nudge();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE attempts > 0 OR lease_owner IS NOT NULL"), 0);
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
  // Straight to the invoice path: invoicing, then invoiced once the sweeper made the invoice.
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
  EXPECT_EQ(session(id)["invoice_reason"], "no_phone");
  EXPECT_TRUE(swedbank_->orders().empty());
  EXPECT_EQ(count("SELECT count(*) FROM outbox WHERE kind <> 'invoice_session'"), 0);
}

TEST_F(PaymentFlowTest, UndeliverableSmsMarksTheSessionForTheInvoicePath) {
  link_->set_final_result(kPhone, 2104);  // unknown subscriber
  const auto id = checkout("V-UNDELIV-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
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
  ASSERT_TRUE(settle());  // the SMS waits for the morning: nothing is due
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
  ASSERT_TRUE(settle());
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
  auto reply = http_request(service_->port(), "POST", kPaymentWebhookPath,
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
  EXPECT_EQ(post(kPaymentWebhookPath, "{not json").status, 400);
  auto reply = post(kPaymentWebhookPath, R"({"paymentOrder":{}})");
  EXPECT_EQ(reply.status, 422);
  EXPECT_NE(reply.body.find("/paymentOrder/id"), std::string::npos);
  EXPECT_EQ(
      post(kPaymentWebhookPath,
           R"({"paymentOrder":{"id":"/psp/paymentorders/00000000-0000-0000-0000-000000000000"}})")
          .status,
      200);
  EXPECT_EQ(post(kSmsWebhookPath, R"({"id":"nope","resultCode":1001})").status, 200);
  EXPECT_EQ(post(kSmsWebhookPath, R"({"resultCode":1001})").status, 422);
}

TEST_F(PaymentFlowTest, GenericWebhookRoutesDispatchToTheAdapterTheyName) {
  auto post = [&](const std::string& target, const std::string& body) {
    return http_request(service_->port(), "POST", target, body,
                        {{"Content-Type", "application/json"}});
  };
  const auto id = checkout("V-GENERIC-1");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  const std::string callbacks =
      "SELECT count(*) FROM outbox WHERE kind = 'payment_callback' AND session_id = '" + id + "'";
  EXPECT_EQ(count(callbacks), 0);
  // The adapter registered as payment.swedbankpay parses the body; the core queues the re-read.
  auto reply = post(kPaymentWebhookPath, Json{{"paymentOrder", {{"id", only_order_id()}}}}.dump());
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_TRUE(eventually([&] { return count(callbacks) >= 1; }));
  // The adapter's own errors come back as they are, naming the field.
  reply = post(kPaymentWebhookPath, R"({"paymentOrder":{}})");
  EXPECT_EQ(reply.status, 422);
  EXPECT_NE(reply.body.find("/paymentOrder/id"), std::string::npos);
  // No adapter of that name (nor of the other kind) receives anything.
  EXPECT_EQ(post(std::string("/v1/webhooks/payment/stripe/") + kPaymentWebhookToken, "{}").status,
            404);
  EXPECT_EQ(post(std::string("/v1/webhooks/payment/linkmobility/") + kSmsWebhookToken, "{}").status,
            404);
  EXPECT_EQ(post(std::string("/v1/webhooks/sms/swedbankpay/") + kPaymentWebhookToken, "{}").status,
            404);
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
