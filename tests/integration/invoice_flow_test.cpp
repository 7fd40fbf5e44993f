// The 48-hour window and the invoice path end to end: the service in-process with a manual clock,
// a real PostgreSQL, and the mock Swedbank Pay and LINK Mobility servers over real HTTP.
#include <cstdio>
#include <fstream>
#include <set>

#include "domain/kid.hpp"
#include "flow_fixture.hpp"

namespace visitpay::testing {
namespace {

constexpr auto kWindow = std::chrono::hours(48);
constexpr std::int64_t kVisitAmount = 65000;
constexpr std::int64_t kFee = 3900;

class InvoiceFlowTest : public FlowTest {
 protected:
  void SetUp() override {
    FlowTest::SetUp();
    finance_token_ = service_->token("invoices:review");
  }

  HttpReply finance(const std::string& method, const std::string& target,
                    const std::string& body = {}) {
    return http_request(
        service_->port(), method, target, body,
        {{"Authorization", "Bearer " + finance_token_}, {"Content-Type", "application/json"}});
  }

  Json finance_json(const std::string& method, const std::string& target, int expected_status,
                    const std::string& body = {}) {
    auto reply = finance(method, target, body);
    EXPECT_EQ(reply.status, expected_status) << method << " " << target << ": " << reply.body;
    auto json = Json::parse(reply.body, nullptr, false);
    return json.is_discarded() ? Json() : json;
  }

  // Checks out and waits until the link SMS was accepted (the window runs).
  // Awaiting payment; with `delivered`, also the SMS's delivery report in (so the fee counts as
  // disclosed).
  std::string awaiting(const std::string& visit_id, bool delivered = true) {
    const auto id = checkout(visit_id);
    EXPECT_TRUE(eventually([&] {
      const auto s = session(id);
      return s.value("state", "") == "awaiting_payment" &&
             (!delivered || s.contains("invoice_fee_disclosed"));
    }));
    return id;
  }

  // The session's invoice as finance sees it, once it exists.
  Json invoice_of(const std::string& session_id) {
    std::string id;
    EXPECT_TRUE(eventually([&] {
      auto db = service_->db();
      store::PgParams p;
      p.add(session_id);
      auto r =
          db.exec("SELECT id::text FROM invoices WHERE session_id = $1 AND kind = 'invoice'", p);
      if (!r || r->empty()) return false;
      id = r->string(0, 0);
      return true;
    }));
    if (id.empty()) return Json();
    return finance_json("GET", "/v1/invoices/" + id, 200);
  }

  // Moves past the deadline of a session that became awaiting at start_time_.
  void expire() { advance(kWindow + std::chrono::seconds(1)); }

  std::string order_status() { return swedbank_->orders().at(0).status; }

  std::string finance_token_;
};

TEST_F(InvoiceFlowTest, WithoutFeeTermsTheSmsStatesNoFeeAndTheInvoiceCarriesNone) {
  const auto id = checkout("V-NO-TERMS", /*with_phone=*/true, /*with_fee_terms=*/false);
  ASSERT_TRUE(eventually([&] { return session(id).contains("invoice_fee_disclosed"); }));
  auto s = session(id);
  EXPECT_EQ(s["invoice_fee_disclosed"], 0);
  EXPECT_FALSE(s.contains("fee_terms"));
  const auto messages = link_->messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].text.find("gebyr"), std::string::npos) << messages[0].text;

  expire();
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
  const auto invoice = invoice_of(id);
  EXPECT_EQ(invoice["fee_ore"], 0);
  EXPECT_EQ(invoice["total_ore"], kVisitAmount);
  for (const auto& line : invoice["lines"])
    EXPECT_FALSE(line["is_fee"].get<bool>());
}

TEST_F(InvoiceFlowTest, TheSessionShowsTheFeeTermsTheCheckOutSent) {
  const auto id = checkout("V-TERMS");
  const auto s = session(id);
  EXPECT_EQ(s["fee_terms"]["accepted_at"], "2026-11-22T12:40:00Z");
  EXPECT_EQ(s["fee_terms"]["version"], "2026-01");
}

TEST_F(InvoiceFlowTest, ExpiryBecomesAnInvoiceWithTheDisclosedFee) {
  const auto id = awaiting("V-EXP-1");
  // Nothing happens before the deadline: the workers' own passes find nothing to do.
  advance(kWindow - std::chrono::seconds(1));
  ASSERT_TRUE(settle());
  EXPECT_TRUE(state_is(id, "awaiting_payment"));

  advance(std::chrono::seconds(2));
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
  EXPECT_EQ(order_status(), "Aborted");  // invariant 3: aborted before the invoice exists

  const auto invoice = invoice_of(id);
  EXPECT_EQ(invoice["status"], "pending_review");
  EXPECT_EQ(invoice["reason"], "window_expired");
  EXPECT_EQ(invoice["number"], 1);
  EXPECT_EQ(invoice["org_number"], "912345688");
  // The seller's business address, copied from the clinic's legal entity.
  EXPECT_EQ(invoice["seller"]["street"], "Karl Johans gate 12");
  EXPECT_EQ(invoice["seller"]["postal_code"], "0154");
  EXPECT_EQ(invoice["seller"]["city"], "Oslo");
  EXPECT_EQ(invoice["fee_ore"], kFee);
  EXPECT_EQ(invoice["total_ore"], kVisitAmount + kFee);
  EXPECT_FALSE(invoice["flags"]["fee_not_disclosed"].get<bool>());
  const auto kid = invoice["kid"].get<std::string>();
  EXPECT_EQ(kid.size(), 10u);
  EXPECT_TRUE(domain::is_valid_kid(kid, domain::KidAlgorithm::mod10)) << kid;
  EXPECT_EQ(kid.substr(0, 9), "000000001");
  EXPECT_EQ(invoice["delivered_on"], "2026-11-22");
  EXPECT_TRUE(invoice["issue_date"].is_null());  // set when finance approves
  EXPECT_EQ(invoice["buyer"]["name"], "Kari Nordmann");
  EXPECT_EQ(invoice["buyer"]["city"], "Oslo");
  const auto& lines = invoice["lines"];
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines.back()["description"], "Fakturagebyr");
  EXPECT_EQ(lines.back()["amount_ore"], kFee);
  EXPECT_TRUE(lines.back()["is_fee"].get<bool>());
  EXPECT_EQ(invoice["history"][0]["action"], "create");
  EXPECT_EQ(invoice["history"][0]["actor"], "system");
  // Only the name and address are copied: no national id, no phone anywhere on the invoice.
  EXPECT_EQ(invoice.dump().find("4741234567"), std::string::npos);
  EXPECT_EQ(metric("visitpay_invoices_total", "reason=\"window_expired\",fee=\"charged\""), 1);
  // The clinic's system sees which invoice its session became.
  const auto s = session(id);
  EXPECT_EQ(s["invoice"]["id"], invoice["id"]);
  EXPECT_EQ(s["invoice"]["number"], 1);
  EXPECT_EQ(s["invoice"]["status"], "pending_review");
}

TEST_F(InvoiceFlowTest, PaidOneSecondBeforeTheDeadlineIsPaidNotInvoiced) {
  // The callback never arrives (refused by the allowlist): the sweep itself finds the payment.
  allowed_sources_ = {"192.0.2.1"};
  service_.reset();
  start_service();
  const auto id = awaiting("V-LASTSEC-1", /*delivered=*/false);  // reports are refused too
  advance(kWindow - std::chrono::seconds(1));
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "CreditCard"));
  advance(std::chrono::seconds(2));
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  EXPECT_TRUE(eventually([&] { return swedbank_->orders()[0].captured == kVisitAmount; }));
  ASSERT_TRUE(settle());
  EXPECT_EQ(count("SELECT count(*) FROM invoices"), 0);
  EXPECT_EQ(metric("visitpay_payments_total", "instrument=\"CreditCard\""), 1);
}

TEST_F(InvoiceFlowTest, CallbackArrivingDuringTheAbortEndsPaidOnce) {
  // The payer pays as the window closes: the callback is out, but GET still shows Initialized
  // for a moment and the abort is refused because the payment is under way.
  status_lag_ = 600ms;
  swedbank_.reset();
  service_.reset();
  SetUp();
  const auto id = awaiting("V-RACE-1");
  advance(kWindow - std::chrono::milliseconds(10));
  swedbank_->inject("callback_before_status");
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "Vipps"));
  advance(std::chrono::milliseconds(20));
  // The window's work GETs Initialized, and the abort is refused: the payment is under way.
  ASSERT_TRUE(eventually([&] {
    return count(
               "SELECT count(*) FROM outbox WHERE kind = 'invoice_session' AND attempts >= 1 "
               "AND status = 'pending' AND lease_owner IS NULL") == 1;
  }));
  EXPECT_EQ(count("SELECT count(*) FROM invoices"), 0);
  std::this_thread::sleep_for(status_lag_);  // the payment becomes visible on GET
  advance(std::chrono::minutes(1));          // the callback's re-check and the window's retry
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  EXPECT_TRUE(eventually([&] { return swedbank_->orders()[0].captured == kVisitAmount; }));
  // Whichever ran second found the session paid.
  advance(std::chrono::minutes(5));
  EXPECT_TRUE(eventually([&] {
    return count(
               "SELECT count(*) FROM outbox WHERE kind = 'invoice_session' AND status = "
               "'pending'") == 0;
  }));
  EXPECT_EQ(count("SELECT count(*) FROM invoices"), 0);
  EXPECT_EQ(metric("visitpay_payments_total", "instrument=\"Vipps\""), 1);
  EXPECT_EQ(swedbank_->orders()[0].captured, kVisitAmount);
}

TEST_F(InvoiceFlowTest, AbortRefusedWhileInTheAppThenPaid) {
  const auto id = awaiting("V-INAPP-PAID");
  swedbank_->inject("abort_refused_in_app");
  expire();
  ASSERT_TRUE(eventually([&] {
    return count(
               "SELECT count(*) FROM outbox WHERE kind = 'invoice_session' AND attempts >= 1 "
               "AND status = 'pending' AND lease_owner IS NULL") == 1;
  }));
  EXPECT_TRUE(state_is(id, "invoicing"));
  // The payer finishes in the Vipps app: paid, and the invoice work is stopped with it.
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "Vipps"));
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  advance(std::chrono::minutes(1));
  EXPECT_TRUE(eventually([&] {
    return count(
               "SELECT count(*) FROM outbox WHERE kind = 'invoice_session' AND status = "
               "'cancelled'") == 1;
  }));
  EXPECT_EQ(count("SELECT count(*) FROM invoices"), 0);
  EXPECT_EQ(swedbank_->orders()[0].captured, kVisitAmount);
}

TEST_F(InvoiceFlowTest, AbortRefusedWhileInTheAppThenNotPaidIsInvoicedAfterTheAbort) {
  const auto id = awaiting("V-INAPP-UNPAID");
  swedbank_->inject("abort_refused_in_app", 2);
  expire();
  ASSERT_TRUE(eventually([&] {
    return count(
               "SELECT count(*) FROM outbox WHERE kind = 'invoice_session' AND attempts >= 1 "
               "AND status = 'pending' AND lease_owner IS NULL") == 1;
  }));
  EXPECT_EQ(count("SELECT count(*) FROM invoices"), 0);  // not while the order is payable
  advance(std::chrono::minutes(1));                      // refused again
  ASSERT_TRUE(eventually([&] {
    return count(
               "SELECT attempts FROM outbox WHERE kind = 'invoice_session' AND "
               "lease_owner IS NULL") >= 2;
  }));
  EXPECT_EQ(order_status(), "Initialized");  // the mock's (Swedbank Pay's) word
  EXPECT_EQ(count("SELECT count(*) FROM invoices"), 0);
  advance(std::chrono::minutes(2));  // the payer left the app: the abort goes through
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
  EXPECT_EQ(order_status(), "Aborted");
  EXPECT_EQ(invoice_of(id)["fee_ore"], kFee);
}

TEST_F(InvoiceFlowTest, PaymentAfterInvoicingVoidsAPendingInvoice) {
  const auto id = awaiting("V-LATE-PENDING");
  swedbank_->inject("paid_after_abort");
  expire();
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
  ASSERT_EQ(invoice_of(id)["status"], "pending_review");
  // The Vipps payment that was under way completes after the abort; its callback arrives.
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "Vipps"));
  ASSERT_TRUE(eventually([&] { return invoice_of(id)["status"] == "void"; }));
  const auto invoice = invoice_of(id);
  EXPECT_EQ(invoice["void_reason"], "paid by link");
  EXPECT_TRUE(invoice["flags"]["paid_by_link"].get<bool>());
  EXPECT_FALSE(invoice["flags"]["credit_note_needed"].get<bool>());
  EXPECT_EQ(invoice["history"].back()["action"], "void");
  EXPECT_EQ(invoice["history"].back()["actor"], "system");
  // Recorded, captured once, the session stays invoiced (it ends exactly once).
  EXPECT_TRUE(eventually([&] { return swedbank_->orders()[0].captured == kVisitAmount; }));
  EXPECT_TRUE(state_is(id, "invoiced"));
  EXPECT_EQ(count("SELECT count(*) FROM payment_orders WHERE paid_after_close"), 1);
  // Finance can no longer approve it.
  EXPECT_EQ(finance("POST", "/v1/invoices/" + invoice["id"].get<std::string>() + "/approve").status,
            409);
}

TEST_F(InvoiceFlowTest, PaymentAfterAnIssuedInvoiceFlagsItForACreditNote) {
  const auto id = awaiting("V-LATE-ISSUED");
  swedbank_->inject("paid_after_abort");
  expire();
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
  const auto invoice_id = invoice_of(id)["id"].get<std::string>();
  finance_json("POST", "/v1/invoices/" + invoice_id + "/approve", 200);
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "Vipps"));
  ASSERT_TRUE(eventually([&] { return invoice_of(id)["flags"]["paid_by_link"] == true; }));
  auto invoice = invoice_of(id);
  EXPECT_EQ(invoice["status"], "issued");  // issued stays issued: finance credits it
  EXPECT_TRUE(invoice["flags"]["credit_note_needed"].get<bool>());
  EXPECT_NE(invoice["history"].dump().find(R"("action":"flag")"), std::string::npos);
  auto note = finance_json("POST", "/v1/invoices/" + invoice_id + "/credit", 201,
                           R"({"reason":"paid by link after issue"})");
  EXPECT_EQ(note["kind"], "credit_note");
  EXPECT_EQ(note["total_ore"], -(kVisitAmount + kFee));
  invoice = invoice_of(id);
  EXPECT_EQ(invoice["status"], "credited");
  EXPECT_FALSE(invoice["flags"]["credit_note_needed"].get<bool>());
  // The payer paid once (through the link): the credit note withdraws the claim, no reversal.
  advance(std::chrono::minutes(1));
  ASSERT_TRUE(settle());
  EXPECT_EQ(count("SELECT count(*) FROM payment_operations"), 0);
  const auto orders = swedbank_->orders();
  for (const auto& t : orders.at(0).transactions)
    EXPECT_NE(t.kind, "Reversal");
}

TEST_F(InvoiceFlowTest, ACreditNoteOnAnInvoicePaidTwiceReversesTheLinkPaymentOnce) {
  const auto id = awaiting("V-PAID-TWICE");
  swedbank_->inject("paid_after_abort");
  expire();
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
  const auto invoice = "/v1/invoices/" + invoice_of(id)["id"].get<std::string>();
  finance_json("POST", invoice + "/approve", 200);
  finance_json("POST", invoice + "/mark-paid", 200, R"({"reference":"bank 0412"})");
  // The payer also finished the Vipps payment: the session was paid twice.
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "Vipps"));
  ASSERT_TRUE(eventually([&] {
    return invoice_of(id)["flags"]["paid_by_link"] == true &&
           swedbank_->orders().at(0).captured == kVisitAmount;
  }));
  finance_json("POST", invoice + "/credit", 201, R"({"reason":"paid twice"})");
  finance_json("POST", invoice + "/credit", 409);

  // One reversal of what the link took (the invoice received more: the fee stays with the bank
  // payment, which finance settles), with its own reference, audited as finance's.
  ASSERT_TRUE(eventually([&] {
    advance(std::chrono::seconds(2));
    return count("SELECT count(*) FROM payment_operations WHERE status = 'done'") == 1;
  }));
  ASSERT_TRUE(settle());
  std::vector<mocks::SwedbankPayMock::TransactionSnapshot> reversals;
  const auto order = swedbank_->orders().at(0);
  for (const auto& t : order.transactions) {
    if (t.kind == "Reversal") reversals.push_back(t);
  }
  ASSERT_EQ(reversals.size(), 1u);
  EXPECT_EQ(reversals[0].amount, kVisitAmount);
  EXPECT_NE(reversals[0].payee_reference, order.payee_reference);
  EXPECT_EQ(count("SELECT count(*) FROM payment_operations WHERE purpose = 'refund' AND "
                  "kind = 'reversal' AND idempotency_key LIKE 'credit-note:%' AND "
                  "requested_by <> 'system'"),
            1);
  EXPECT_TRUE(state_is(id, "invoiced"));
}

TEST_F(InvoiceFlowTest, VatPerLineFromTheCheckOutAndTheFeeFollowsTheMainSupply) {
  // Two visits: a taxable certificate beside the consultation (the main supply, exempt), and a
  // taxable certificate that is the main supply. 25 % VAT: 4000 of 20000, 16000 of 80000.
  const auto visit = [&](const std::string& visit_id, const Json& lines) {
    Json body = Json::parse(checkout_body(visit_id, true));
    body["lines"] = lines;
    auto reply = http_request(service_->port(), "POST", "/v1/checkouts", body.dump(), auth());
    EXPECT_EQ(reply.status, 201) << reply.body;
    const std::string id = Json::parse(reply.body).value("session_id", "");
    EXPECT_TRUE(eventually([&] { return session(id).contains("invoice_fee_disclosed"); }));
    return id;
  };
  const auto exempt_main =
      visit("V-VAT-1", Json::parse(R"([{"description":"Konsultasjon","amount":65000,"vat_amount":0},
                                 {"description":"Attest","amount":20000,"vat_amount":4000}])"));
  const auto taxable_main =
      visit("V-VAT-2", Json::parse(R"([{"description":"Konsultasjon","amount":30000,"vat_amount":0},
                                 {"description":"Attest","amount":80000,"vat_amount":16000}])"));
  expire();
  const auto lines_of = [&](const std::string& id) { return invoice_of(id)["lines"]; };
  auto lines = lines_of(exempt_main);
  ASSERT_EQ(lines.size(), 3u) << lines.dump();
  // Each visit line's description opened from its own ciphertext; the fee line's is plaintext.
  EXPECT_EQ(lines[0]["description"], "Konsultasjon");
  EXPECT_EQ(lines[1]["description"], "Attest");
  EXPECT_EQ(lines[2]["description"], "Fakturagebyr");
  EXPECT_EQ(count("SELECT count(*) FROM invoice_lines WHERE description IS NOT NULL AND NOT "
                  "is_fee"),
            0);
  EXPECT_EQ(lines[0]["vat_ore"], 0);
  EXPECT_EQ(lines[1]["vat_ore"], 4000);
  EXPECT_TRUE(lines[2]["is_fee"].get<bool>());
  EXPECT_EQ(lines[2]["vat_ore"], 0);  // follows the exempt consultation
  lines = lines_of(taxable_main);
  ASSERT_EQ(lines.size(), 3u) << lines.dump();
  EXPECT_TRUE(lines[2]["is_fee"].get<bool>());
  EXPECT_EQ(lines[2]["vat_ore"], kFee / 5);  // 20 % of a VAT-inclusive price: 25 % VAT

  // A credit note carries the VAT back, line by line.
  const auto invoice = "/v1/invoices/" + invoice_of(taxable_main)["id"].get<std::string>();
  finance_json("POST", invoice + "/approve", 200);
  const auto note = finance_json("POST", invoice + "/credit", 201, R"({"reason":"feil"})");
  ASSERT_EQ(note["lines"].size(), 3u) << note.dump();
  EXPECT_EQ(note["lines"][1]["vat_ore"], -16000);
  EXPECT_EQ(note["lines"][1]["description"], "Attest");
}

TEST_F(InvoiceFlowTest, NoPhoneIsInvoicedAtOnceWithoutFee) {
  const auto id = checkout("V-NOPHONE-INV", /*with_phone=*/false);
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));  // no window to wait out
  const auto invoice = invoice_of(id);
  EXPECT_EQ(invoice["reason"], "no_phone");
  EXPECT_EQ(invoice["fee_ore"], 0);
  EXPECT_EQ(invoice["total_ore"], kVisitAmount);
  EXPECT_TRUE(invoice["flags"]["no_phone"].get<bool>());
  EXPECT_TRUE(invoice["flags"]["fee_not_disclosed"].get<bool>());
  for (const auto& line : invoice["lines"])
    EXPECT_FALSE(line["is_fee"].get<bool>());
  EXPECT_TRUE(swedbank_->orders().empty());
  EXPECT_EQ(metric("visitpay_invoices_total", "reason=\"no_phone\",fee=\"none\""), 1);
}

TEST_F(InvoiceFlowTest, UndeliverableSmsIsInvoicedAtOnceWithoutFeeAfterTheAbort) {
  link_->set_final_result(kPhone, 2104);  // unknown subscriber
  const auto id = checkout("V-UNDELIV-INV");
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
  EXPECT_EQ(order_status(), "Aborted");  // the link is dead before the invoice exists
  const auto invoice = invoice_of(id);
  EXPECT_EQ(invoice["reason"], "sms_undeliverable");
  EXPECT_EQ(invoice["fee_ore"], 0);  // disclosed in an SMS that never arrived: no fee
  EXPECT_TRUE(invoice["flags"]["sms_undeliverable"].get<bool>());
  EXPECT_TRUE(invoice["flags"]["fee_not_disclosed"].get<bool>());
}

// --- finance ----------------------------------------------------------------------------------

class FinanceReviewTest : public InvoiceFlowTest {
 protected:
  // Three invoices (no phone: made at once), numbers 1..3.
  std::vector<std::string> three_invoices() {
    std::vector<std::string> ids;
    for (int i = 1; i <= 3; ++i) {
      const auto session_id = checkout("V-FIN-" + std::to_string(i), /*with_phone=*/false);
      EXPECT_TRUE(eventually([&] { return state_is(session_id, "invoiced"); }));
      ids.push_back(invoice_of(session_id)["id"].get<std::string>());
      advance(std::chrono::seconds(1));  // distinct creation times: a known queue order
    }
    return ids;
  }
};

TEST_F(FinanceReviewTest, EveryTransitionAllowedAndRefused) {
  const auto ids = three_invoices();
  const auto a = "/v1/invoices/" + ids[0];
  const auto b = "/v1/invoices/" + ids[1];

  // approve: pending_review -> issued, dated today (Oslo) with the due date 14 days later.
  auto issued = finance_json("POST", a + "/approve", 200);
  EXPECT_EQ(issued["status"], "issued");
  EXPECT_EQ(issued["issue_date"], "2026-11-22");
  EXPECT_EQ(issued["due_date"], "2026-12-06");
  finance_json("POST", a + "/approve", 409);
  finance_json("POST", a + "/void", 409, R"({"reason":"too late"})");
  // Delivered to the print-and-post folder.
  ASSERT_TRUE(
      eventually([&] { return !finance_json("GET", a, 200)["delivery"]["reference"].is_null(); }));
  EXPECT_TRUE(std::filesystem::exists(delivery_dir_ / "912345688-invoice-1.pdf"));

  // mark-paid: issued -> paid; not into the future, not twice.
  auto bad = finance_json("POST", a + "/mark-paid", 422, R"({"paid_on":"2031-01-01"})");
  EXPECT_EQ(bad["errors"][0]["pointer"], "/paid_on");
  auto paid = finance_json("POST", a + "/mark-paid", 200,
                           R"({"paid_on":"2026-11-22","reference":"bank 2211"})");
  EXPECT_EQ(paid["status"], "paid");
  EXPECT_EQ(paid["paid_on"], "2026-11-22");
  finance_json("POST", a + "/mark-paid", 409);

  // credit: a credit note with the next number of the same series.
  auto note = finance_json("POST", a + "/credit", 201, R"({"reason":"wrong patient"})");
  EXPECT_EQ(note["kind"], "credit_note");
  EXPECT_EQ(note["number"], 4);
  EXPECT_EQ(note["credits"]["number"], 1);
  EXPECT_EQ(note["status"], "issued");
  EXPECT_EQ(note["total_ore"], -kVisitAmount);
  EXPECT_TRUE(note["kid"].is_null());
  EXPECT_EQ(note["seller"]["street"], "Karl Johans gate 12");  // the credit note's, the same
  EXPECT_EQ(finance_json("GET", a, 200)["status"], "credited");
  finance_json("POST", a + "/credit", 409);
  finance_json("POST", "/v1/invoices/" + note["id"].get<std::string>() + "/approve", 409);
  ASSERT_TRUE(eventually(
      [&] { return std::filesystem::exists(delivery_dir_ / "912345688-credit_note-4.pdf"); }));

  // void: needs a reason; then approving, crediting or marking it paid is refused.
  auto missing = finance_json("POST", b + "/void", 422, "{}");
  EXPECT_EQ(missing["errors"][0]["pointer"], "/reason");
  EXPECT_EQ(finance_json("GET", b, 200)["status"], "pending_review");  // nothing half-written
  EXPECT_EQ(finance_json("POST", b + "/void", 200, R"({"reason":"duplicate visit"})")["status"],
            "void");
  auto refused = finance_json("POST", b + "/approve", 409);
  EXPECT_NE(refused["detail"].get<std::string>().find("void"), std::string::npos);
  finance_json("POST", b + "/credit", 409);
  finance_json("POST", b + "/mark-paid", 409);
  finance_json("POST", b + "/void", 409, R"({"reason":"again"})");

  // The audit log: who, what, when, from which state, refused attempts too.
  const auto history = finance_json("GET", a, 200)["history"];
  const auto dump = history.dump();
  for (const auto* expected : {"approve", "deliver", "mark_paid", "credit", "refused"}) {
    EXPECT_NE(dump.find(expected), std::string::npos) << expected << " in " << dump;
  }
  for (const auto& e : history) {
    if (e["action"] == "approve" && e["to_status"] == "issued") {
      EXPECT_EQ(e["from_status"], "pending_review");
      EXPECT_NE(e["actor"].get<std::string>(), "system");
    }
  }
  EXPECT_EQ(count("SELECT count(*) FROM invoice_events WHERE detail = 'refused'"), 8);

  // Unknown and malformed ids.
  finance_json("GET", "/v1/invoices/7d2b5f7e-0000-4000-8000-000000000000", 404);
  finance_json("POST", "/v1/invoices/not-a-uuid/approve", 404);
}

TEST_F(FinanceReviewTest, DeliveryFailureIsRetriedUntilTheLetterIsWritten) {
  const auto ids = three_invoices();
  // The print-and-post folder cannot be created: a regular file is in its place.
  std::ofstream(delivery_dir_) << "not a directory";
  finance_json("POST", "/v1/invoices/" + ids[0] + "/approve", 200);
  ASSERT_TRUE(eventually([&] {
    return count(
               "SELECT count(*) FROM outbox WHERE kind = 'deliver_invoice' AND attempts >= 1 "
               "AND status = 'pending' AND lease_owner IS NULL") == 1;
  }));
  auto invoice = finance_json("GET", "/v1/invoices/" + ids[0], 200);
  EXPECT_EQ(invoice["status"], "issued");  // approved stays approved
  EXPECT_TRUE(invoice["delivery"]["reference"].is_null());
  EXPECT_EQ(metric("visitpay_invoice_deliveries_total", "outcome=\"failed\""), 1);
  // The operator fixes the folder; the next attempt delivers it.
  std::filesystem::remove(delivery_dir_);
  advance(std::chrono::minutes(1));
  ASSERT_TRUE(eventually(
      [&] { return std::filesystem::exists(delivery_dir_ / "912345688-invoice-1.pdf"); }));
  EXPECT_TRUE(eventually([&] {
    return !finance_json("GET", "/v1/invoices/" + ids[0], 200)["delivery"]["reference"].is_null();
  }));
}

TEST_F(FinanceReviewTest, BulkApproveReportsEachId) {
  const auto ids = three_invoices();
  finance_json("POST", "/v1/invoices/" + ids[1] + "/void", 200, R"({"reason":"duplicate"})");
  const Json request = {{"ids", {ids[0], ids[1], ids[2], "7d2b5f7e-0000-4000-8000-000000000000"}}};
  auto result = finance_json("POST", "/v1/invoices/approve", 200, request.dump());
  EXPECT_EQ(result["approved"], 2);
  EXPECT_EQ(result["refused"], 2);
  EXPECT_EQ(result["results"][0]["status"], "issued");
  EXPECT_EQ(result["results"][1]["error"]["status"], 409);
  EXPECT_EQ(result["results"][2]["status"], "issued");
  EXPECT_EQ(result["results"][3]["error"]["status"], 404);
  auto empty = finance_json("POST", "/v1/invoices/approve", 422, R"({"ids":[]})");
  EXPECT_EQ(empty["errors"][0]["pointer"], "/ids");
  finance_json("POST", "/v1/invoices/approve", 422, R"({"ids":["a", 5]})");
}

TEST_F(FinanceReviewTest, QueueIsPaginatedFilteredAndExported) {
  const auto ids = three_invoices();
  finance_json("POST", "/v1/invoices/" + ids[0] + "/approve", 200);

  auto page1 = finance_json("GET", "/v1/invoices?limit=2", 200);
  ASSERT_EQ(page1["items"].size(), 2u);
  EXPECT_EQ(page1["totals"]["count"], 3);
  EXPECT_EQ(page1["totals"]["total_ore"], 3 * kVisitAmount);
  ASSERT_TRUE(page1["next_cursor"].is_string());
  auto page2 = finance_json(
      "GET", "/v1/invoices?limit=2&cursor=" + page1["next_cursor"].get<std::string>(), 200);
  ASSERT_EQ(page2["items"].size(), 1u);
  EXPECT_TRUE(page2["next_cursor"].is_null());
  std::set<std::string> seen;
  for (const auto* page : {&page1, &page2}) {
    for (const auto& item : (*page)["items"])
      seen.insert(item["id"].get<std::string>());
  }
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(page1["items"][0]["number"], 1);  // stable order: oldest first

  auto pending = finance_json("GET", "/v1/invoices?status=pending_review", 200);
  EXPECT_EQ(pending["totals"]["count"], 2);
  EXPECT_EQ(finance_json("GET", "/v1/invoices?clinic_id=bergen-brygge", 200)["totals"]["count"], 0);
  EXPECT_EQ(
      finance_json("GET", "/v1/invoices?from=2026-11-22&to=2026-11-22", 200)["totals"]["count"], 3);
  EXPECT_EQ(finance_json("GET", "/v1/invoices?from=2026-11-23", 200)["totals"]["count"], 0);
  auto bad = finance_json("GET", "/v1/invoices?status=bogus&limit=0&from=yesterday&cursor=x", 422);
  EXPECT_EQ(bad["errors"].size(), 4u);

  auto csv = finance("GET", "/v1/invoices/export.csv?clinic_id=oslo-sentrum");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.headers["content-type"], "text/csv; charset=utf-8");
  std::istringstream lines(csv.body);
  std::string header;
  std::getline(lines, header);
  EXPECT_EQ(header.rfind("kind,number,", 0), 0u);
  int rows = 0;
  for (std::string row; std::getline(lines, row);) {
    if (!row.empty()) ++rows;
  }
  EXPECT_EQ(rows, 3);
  EXPECT_NE(csv.body.find(",650.00,0.00,650.00,"), std::string::npos) << csv.body;
  EXPECT_EQ(csv.body.find("Kari"), std::string::npos);  // no personal data in the export
}

TEST_F(FinanceReviewTest, ScopeAndClinicBinding) {
  const auto ids = three_invoices();
  const auto checkout_only = service_->token("checkout:write");
  auto reply = http_request(service_->port(), "GET", "/v1/invoices", {},
                            {{"Authorization", "Bearer " + checkout_only}});
  EXPECT_EQ(reply.status, 403);
  EXPECT_EQ(http_request(service_->port(), "GET", "/v1/invoices").status, 401);
  const auto bergen = service_->token("invoices:review", "bergen-brygge");
  reply = http_request(service_->port(), "GET", "/v1/invoices/" + ids[0], {},
                       {{"Authorization", "Bearer " + bergen}});
  EXPECT_EQ(reply.status, 404);  // another clinic's invoice does not exist for this token
  reply = http_request(service_->port(), "GET", "/v1/invoices", {},
                       {{"Authorization", "Bearer " + bergen}});
  EXPECT_EQ(Json::parse(reply.body)["totals"]["count"], 0);
}

TEST_F(FinanceReviewTest, PdfHoldsWhatTheBookkeepingRulesRequire) {
  const auto session_id = awaiting("V-PDF-1");
  expire();
  ASSERT_TRUE(eventually([&] { return state_is(session_id, "invoiced"); }));
  const auto invoice = invoice_of(session_id);
  const auto id = invoice["id"].get<std::string>();
  finance_json("POST", "/v1/invoices/" + id + "/approve", 200);
  auto pdf = finance("GET", "/v1/invoices/" + id + "/pdf");
  ASSERT_EQ(pdf.status, 200);
  EXPECT_EQ(pdf.headers["content-type"], "application/pdf");
  ASSERT_EQ(pdf.body.rfind("%PDF-", 0), 0u);
  const auto path = delivery_dir_.parent_path() / ("visitpay-test-" + id + ".pdf");
  std::ofstream(path, std::ios::binary) << pdf.body;
  std::string text;
  if (FILE* p = popen(("pdftotext -layout " + path.string() + " - 2>/dev/null").c_str(), "r")) {
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = fread(buf.data(), 1, buf.size(), p)) > 0)
      text.append(buf.data(), n);
    pclose(p);
  }
  std::filesystem::remove(path);
  ASSERT_FALSE(text.empty()) << "pdftotext (poppler-utils) is needed";
  for (const std::string& expected : std::vector<std::string>{
           "Faktura", "Oslo Sentrum Klinikk AS", "912 345 688", "Foretaksregisteret",
           "Kari Nordmann", "Konsultasjon spesialist", invoice["kid"].get<std::string>(),
           "24.11.2026",  // issued when approved, after the window
           "08.12.2026",  // due 14 days later
           "22.11.2026",  // delivered: the visit
           "689,00", "39,00", "1503.20.80003", "unntatt mva"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " in:\n" << text;
  }
}

}  // namespace
}  // namespace visitpay::testing
