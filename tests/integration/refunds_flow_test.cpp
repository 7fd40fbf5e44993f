// Refunds end to end (the service in-process on a manual clock, a real PostgreSQL, the mock
// Swedbank Pay in strict mode over real HTTP): finance's refund of a session paid through the
// link is one reversal at the provider (in full or in parts, each with its own payeeReference,
// a repeat with the same Idempotency-Key none more), an over-refund is refused before anything is
// written, a payment confirmed after the session was cancelled is cancelled at the provider and
// never captured, and an outage or a lost answer during a reversal is retried by the outbox
// without a second reversal.
#include "flow_fixture.hpp"

namespace visitpay::testing {
namespace {

using Transactions = std::vector<mocks::SwedbankPayMock::TransactionSnapshot>;

class RefundsFlowTest : public FlowTest {
 protected:
  void SetUp() override {
    FlowTest::SetUp();
    finance_token_ = service_->token("invoices:review");
  }

  HttpReply refund(const std::string& id, const Json& body, const std::string& key = "") {
    std::map<std::string, std::string> headers = {{"Authorization", "Bearer " + finance_token_},
                                                  {"Content-Type", "application/json"}};
    if (!key.empty()) headers["Idempotency-Key"] = key;
    return http_request(service_->port(), "POST", "/v1/sessions/" + id + "/refunds", body.dump(),
                        headers);
  }

  Json refunds(const std::string& id) {
    auto reply = http_request(service_->port(), "GET", "/v1/sessions/" + id + "/refunds", {},
                              {{"Authorization", "Bearer " + finance_token_}});
    EXPECT_EQ(reply.status, 200) << reply.body;
    return Json::parse(reply.body);
  }

  // A session the payer paid by card through the link, captured in full.
  std::string paid_session(const std::string& visit) {
    const auto id = checkout(visit);
    EXPECT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
    EXPECT_TRUE(swedbank_->pay(only_order_id(), "CreditCard"));
    EXPECT_TRUE(eventually(
        [&] { return state_is(id, "paid") && swedbank_->orders().at(0).remaining_capture == 0; }));
    EXPECT_TRUE(settle());
    return id;
  }

  Transactions at_provider(const std::string& kind) {
    Transactions out;
    const auto orders = swedbank_->orders();  // a range-for would not keep the temporary alive
    for (const auto& t : orders.at(0).transactions) {
      if (t.kind == kind) out.push_back(t);
    }
    return out;
  }

  std::string status_of(const std::string& operation_id) {
    auto db = service_->db();
    auto r = db.exec("SELECT status FROM payment_operations WHERE id = '" + operation_id + "'");
    if (!r || r->empty()) return "";
    return r->string(0, 0);
  }

  bool done(const std::string& operation_id) {
    return eventually([&] {
      advance(2s);
      return status_of(operation_id) == "done";
    });
  }

  std::string finance_token_;
};

TEST_F(RefundsFlowTest, ACreditOnALinkPaidSessionIsOneReversalAtTheProviderAndARepeatIsNone) {
  const auto id = paid_session("V-REFUND-1");
  const auto order = swedbank_->orders().at(0);

  auto reply = refund(id, {{"reason", "Feil takst"}}, "credit-4711");
  ASSERT_EQ(reply.status, 202) << reply.body;
  EXPECT_EQ(reply.headers["content-type"], "application/json");
  const Json created = Json::parse(reply.body);
  EXPECT_EQ(created["kind"], "reversal");
  EXPECT_EQ(created["amount_ore"], 65000);
  EXPECT_EQ(created["vat_amount_ore"], order.vat_amount);
  EXPECT_EQ(created["status"], "requested");
  const std::string reference = created["payee_reference"];
  EXPECT_EQ(reference.size(), 30u);
  EXPECT_EQ(reference.find(id), std::string::npos);
  ASSERT_TRUE(done(created["id"].get<std::string>()));

  // One reversal at the provider, with the refund's own reference and the whole VAT.
  auto reversals = at_provider("Reversal");
  ASSERT_EQ(reversals.size(), 1u);
  EXPECT_EQ(reversals[0].amount, 65000);
  EXPECT_EQ(reversals[0].vat_amount, order.vat_amount);
  EXPECT_EQ(reversals[0].payee_reference, reference);
  EXPECT_NE(reversals[0].payee_reference, order.payee_reference);
  EXPECT_EQ(swedbank_->orders().at(0).status, "Reversed");

  // The same Idempotency-Key: the same refund, nothing new at the provider.
  auto again = refund(id, {{"reason", "Feil takst"}}, "credit-4711");
  ASSERT_EQ(again.status, 202) << again.body;
  EXPECT_EQ(again.headers["idempotent-replayed"], "true");
  EXPECT_EQ(Json::parse(again.body)["id"], created["id"]);
  EXPECT_EQ(Json::parse(again.body)["status"], "done");
  ASSERT_TRUE(settle());
  EXPECT_EQ(at_provider("Reversal").size(), 1u);
  // Another request: nothing is left to refund.
  auto more = refund(id, Json::object());
  EXPECT_EQ(more.status, 409) << more.body;

  const Json listed = refunds(id);
  EXPECT_EQ(listed["paid_ore"], 65000);
  EXPECT_EQ(listed["refunded_ore"], 65000);
  EXPECT_EQ(listed["refundable_ore"], 0);
  ASSERT_EQ(listed["items"].size(), 1u);
  EXPECT_EQ(listed["items"][0]["status"], "done");
  EXPECT_EQ(listed["items"][0]["reason"], "Feil takst");
  EXPECT_TRUE(state_is(id, "paid"));
  // Audited: who asked, and what the provider made of it.
  EXPECT_EQ(count("SELECT count(*) FROM payment_operation_events WHERE operation_id = '" +
                  created["id"].get<std::string>() + "' AND action IN ('request', 'done')"),
            2);
  EXPECT_EQ(metric("visitpay_refunds_total", "kind=\"reversal\",outcome=\"requested\""), 1);
  EXPECT_EQ(metric("visitpay_refunds_total", "kind=\"reversal\",outcome=\"replayed\""), 1);
  EXPECT_EQ(metric("visitpay_refunds_total", "kind=\"reversal\",outcome=\"done\""), 1);
  EXPECT_EQ(metric("visitpay_refunds_total", "kind=\"reversal\",outcome=\"refused\""), 1);
}

TEST_F(RefundsFlowTest, APartialReversalThenTheRestEachWithItsOwnReference) {
  const auto id = paid_session("V-REFUND-2");
  auto part = refund(id, {{"amount_ore", 20000}});
  ASSERT_EQ(part.status, 202) << part.body;
  ASSERT_TRUE(done(Json::parse(part.body)["id"].get<std::string>()));
  EXPECT_EQ(swedbank_->orders().at(0).status, "Paid");  // partly reversed
  EXPECT_EQ(refunds(id)["refundable_ore"], 45000);

  auto rest = refund(id, Json::object());
  ASSERT_EQ(rest.status, 202) << rest.body;
  EXPECT_EQ(Json::parse(rest.body)["amount_ore"], 45000);
  ASSERT_TRUE(done(Json::parse(rest.body)["id"].get<std::string>()));

  const auto reversals = at_provider("Reversal");
  ASSERT_EQ(reversals.size(), 2u);
  EXPECT_EQ(reversals[0].amount, 20000);
  EXPECT_EQ(reversals[1].amount, 45000);
  EXPECT_NE(reversals[0].payee_reference, reversals[1].payee_reference);
  EXPECT_EQ(reversals[0].vat_amount + reversals[1].vat_amount,
            swedbank_->orders().at(0).vat_amount);
  EXPECT_EQ(swedbank_->orders().at(0).status, "Reversed");
}

TEST_F(RefundsFlowTest, AnOverRefundIsRefusedNamingTheFieldAndNothingIsWritten) {
  const auto id = paid_session("V-REFUND-3");
  auto part = refund(id, {{"amount_ore", 20000}});
  ASSERT_EQ(part.status, 202) << part.body;

  auto over = refund(id, {{"amount_ore", 45001}});
  ASSERT_EQ(over.status, 422) << over.body;
  EXPECT_EQ(over.headers["content-type"], "application/problem+json");
  const Json problem = Json::parse(over.body);
  ASSERT_EQ(problem["errors"].size(), 1u) << over.body;
  EXPECT_EQ(problem["errors"][0]["pointer"], "/amount_ore");

  auto malformed = refund(id, {{"amount_ore", "all"}, {"note", "x"}});
  ASSERT_EQ(malformed.status, 422) << malformed.body;
  EXPECT_EQ(Json::parse(malformed.body)["errors"].size(), 2u) << malformed.body;

  EXPECT_EQ(count("SELECT count(*) FROM payment_operations WHERE session_id = '" + id + "'"), 1);
  ASSERT_TRUE(done(Json::parse(part.body)["id"].get<std::string>()));
  ASSERT_TRUE(settle());
  EXPECT_EQ(at_provider("Reversal").size(), 1u);

  // The same key for another amount is a conflict, not a second refund.
  auto keyed = refund(id, {{"amount_ore", 1000}}, "k-1");
  ASSERT_EQ(keyed.status, 202) << keyed.body;
  EXPECT_EQ(refund(id, {{"amount_ore", 2000}}, "k-1").status, 409);
}

TEST_F(RefundsFlowTest, OnlyALinkPaidSessionOfTheCallersClinicsCanBeRefunded) {
  const auto awaiting = checkout("V-REFUND-4");
  ASSERT_TRUE(eventually([&] { return state_is(awaiting, "awaiting_payment"); }));
  auto reply = refund(awaiting, Json::object());
  EXPECT_EQ(reply.status, 409) << reply.body;
  EXPECT_EQ(reply.headers["content-type"], "application/problem+json");
  EXPECT_EQ(refund("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", Json::object()).status, 404);
  // A token without the finance scope, and one bound to another clinic.
  auto checkout_only =
      http_request(service_->port(), "POST", "/v1/sessions/" + awaiting + "/refunds", "{}", auth());
  EXPECT_EQ(checkout_only.status, 403);
  const auto bergen = service_->token("invoices:review", "bergen-brygge");
  auto other_clinic = http_request(service_->port(), "GET", "/v1/sessions/" + awaiting + "/refunds",
                                   {}, {{"Authorization", "Bearer " + bergen}});
  EXPECT_EQ(other_clinic.status, 404);
  EXPECT_EQ(count("SELECT count(*) FROM payment_operations"), 0);
}

TEST_F(RefundsFlowTest, APaymentAfterCancelIsCancelledAtTheProviderNotCaptured) {
  const auto id = checkout("V-REFUND-5");
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  // The abort is refused while the payer is in the Vipps app; the payer completes there.
  swedbank_->inject("abort_refused_in_app");
  auto cancelled =
      http_request(service_->port(), "POST", "/v1/checkouts/" + id + "/cancel", {}, auth());
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  ASSERT_TRUE(eventually([&] {
    return count(
               "SELECT count(*) FROM outbox WHERE kind = 'abort_payment' AND attempts >= 1 "
               "AND status = 'pending' AND lease_owner IS NULL") == 1;
  }));
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "Vipps"));
  // The mock shows the order cancelled as it answers; the service records the operation done
  // when the answer arrives (also from a callback's handler, which settle() does not wait for).
  const std::string done_cancel =
      "SELECT count(*) FROM payment_operations WHERE session_id = '" + id +
      "' AND kind = 'cancel' AND purpose = 'release' AND status = 'done'";
  ASSERT_TRUE(eventually([&] {
    advance(10s);
    return swedbank_->orders().at(0).status == "Cancelled" && count(done_cancel) == 1;
  }));
  ASSERT_TRUE(settle());

  const auto order = swedbank_->orders().at(0);
  EXPECT_EQ(order.captured, 0);
  EXPECT_EQ(order.cancelled, order.amount);
  const auto cancels = at_provider("Cancellation");
  ASSERT_EQ(cancels.size(), 1u);
  EXPECT_EQ(cancels[0].payee_reference.substr(0, 2), "CN");
  EXPECT_TRUE(at_provider("Capture").empty());
  EXPECT_TRUE(state_is(id, "cancelled"));
  EXPECT_EQ(count("SELECT count(*) FROM payment_orders WHERE paid_after_close"), 1);
  EXPECT_EQ(metric("visitpay_refunds_total", "kind=\"cancel\",outcome=\"done\""), 1);
  EXPECT_EQ(metric("visitpay_payments_total", "instrument=\"Vipps\""), 0);
  // Finance cannot refund what was released.
  EXPECT_EQ(refund(id, Json::object()).status, 409);
}

TEST_F(RefundsFlowTest, AProviderOutageDuringAReversalIsRetriedAndThenSucceeds) {
  const auto id = paid_session("V-REFUND-6");
  swedbank_->inject("http_500", 3);  // the reversal's look at the order, with its retries
  auto reply = refund(id, Json::object());
  ASSERT_EQ(reply.status, 202) << reply.body;
  const std::string operation = Json::parse(reply.body)["id"];
  ASSERT_TRUE(eventually([&] {
    return count(
               "SELECT count(*) FROM outbox WHERE kind = 'reverse_payment' AND attempts >= 1 "
               "AND status = 'pending' AND last_error IS NOT NULL") == 1;
  }));
  EXPECT_TRUE(at_provider("Reversal").empty());
  EXPECT_EQ(status_of(operation), "requested");

  swedbank_->clear_faults();  // the outage ends
  ASSERT_TRUE(done(operation));
  EXPECT_EQ(at_provider("Reversal").size(), 1u);
}

TEST_F(RefundsFlowTest, ALostReversalAnswerIsFoundByItsReferenceAndNotSentAgain) {
  const auto id = paid_session("V-REFUND-7");
  swedbank_->inject("lose_post_purchase_response");  // carried out, the answer never arrives
  auto reply = refund(id, {{"amount_ore", 30000}});
  ASSERT_EQ(reply.status, 202) << reply.body;
  const std::string operation = Json::parse(reply.body)["id"];
  ASSERT_TRUE(done(operation));
  const auto reversals = at_provider("Reversal");
  ASSERT_EQ(reversals.size(), 1u);
  EXPECT_EQ(reversals[0].amount, 30000);
  EXPECT_EQ(swedbank_->orders().at(0).post_purchase_refusals, 0);  // never resent
  EXPECT_EQ(refunds(id)["refundable_ore"], 35000);
}

}  // namespace
}  // namespace visitpay::testing
