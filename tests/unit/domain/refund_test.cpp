#include "domain/refund.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace visitpay::domain {
namespace {

constexpr const char* kSession = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";

RefundableFacts paid_by_link(Ore captured = 65000, Ore refunded = 0) {
  RefundableFacts f;
  f.state = SessionState::paid;
  f.has_order = true;
  f.paid = true;
  f.captured = captured;
  f.refunded = refunded;
  f.amount = 65000;
  f.vat_amount = 13000;
  return f;
}

TEST(RefundPlan, NoAmountRefundsAllThatIsLeftWithItsVat) {
  auto plan = plan_refund(paid_by_link(), {});
  ASSERT_TRUE(plan);
  EXPECT_EQ(plan->amount, 65000);
  EXPECT_EQ(plan->vat_amount, 13000);
}

TEST(RefundPlan, APartCarriesItsShareOfVatAndTheRestWhatIsLeft) {
  auto part = plan_refund(paid_by_link(), {RefundAsk{20001}});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->vat_amount, 4000);  // 20001 * 13000 / 65000 = 4000.2, rounded down
  auto facts = paid_by_link(65000, 20001);
  facts.refunded_vat = part->vat_amount;
  auto rest = plan_refund(facts, {});
  ASSERT_TRUE(rest);
  EXPECT_EQ(rest->amount, 44999);
  EXPECT_EQ(rest->vat_amount, 9000);  // the parts add up to the whole VAT
}

TEST(RefundPlan, MoreThanPaidMinusRefundedIsRefusedNamingTheField) {
  auto over = plan_refund(paid_by_link(65000, 60000), {RefundAsk{5001}});
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code, common::ErrorCode::validation_failed);
  ASSERT_EQ(over.error().fields.size(), 1u);
  EXPECT_EQ(over.error().fields[0].pointer, "/amount_ore");
  EXPECT_NE(over.error().fields[0].detail.find("5000"), std::string::npos);
  auto zero = plan_refund(paid_by_link(), {RefundAsk{0}});
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().fields.at(0).pointer, "/amount_ore");
}

TEST(RefundPlan, OnlyASessionPaidThroughTheLinkWithMoneyLeftCanBeRefunded) {
  auto not_paid = paid_by_link();
  not_paid.paid = false;
  EXPECT_EQ(plan_refund(not_paid, {}).error().code, common::ErrorCode::invalid_state);
  auto no_order = paid_by_link();
  no_order.has_order = false;
  EXPECT_EQ(plan_refund(no_order, {}).error().code, common::ErrorCode::invalid_state);
  auto uncaptured = paid_by_link(0);
  EXPECT_EQ(plan_refund(uncaptured, {}).error().code, common::ErrorCode::invalid_state);
  auto cancelled = paid_by_link();
  cancelled.state = SessionState::cancelled;  // released by the system, not refunded
  EXPECT_EQ(plan_refund(cancelled, {}).error().code, common::ErrorCode::invalid_state);
  EXPECT_EQ(plan_refund(paid_by_link(65000, 65000), {}).error().code,
            common::ErrorCode::invalid_state);
  auto invoiced = paid_by_link();  // paid through the link after the invoice was made
  invoiced.state = SessionState::invoiced;
  EXPECT_TRUE(plan_refund(invoiced, {}));
}

TEST(OperationReference, ThirtyCharactersNoPersonalDataOnePerOperation) {
  const auto first = operation_payee_reference(PaymentOperationKind::reversal, kSession, 1);
  const auto second = operation_payee_reference(PaymentOperationKind::reversal, kSession, 2);
  const auto cancel = operation_payee_reference(PaymentOperationKind::cancel, kSession, 1);
  EXPECT_TRUE(std::regex_match(first, std::regex("RV[0-9A-Z]{25}001"))) << first;
  EXPECT_TRUE(std::regex_match(cancel, std::regex("CN[0-9A-Z]{25}001"))) << cancel;
  EXPECT_NE(first, second);
  EXPECT_EQ(first.substr(0, 27), second.substr(0, 27));
  EXPECT_EQ(operation_payee_reference(PaymentOperationKind::reversal, kSession, 0), "");
  EXPECT_EQ(operation_payee_reference(PaymentOperationKind::reversal, kSession, 1000), "");
  EXPECT_EQ(operation_payee_reference(PaymentOperationKind::reversal, "not-a-uuid", 1), "");
}

OrderFacts reversible(Ore remaining) {
  OrderFacts o;
  o.can_reverse = true;
  o.remaining_reversal = remaining;
  return o;
}

TEST(OperationDecision, AReferenceTheOrderListsIsDoneAndNeverSentAgain) {
  PendingOperation op{PaymentOperationKind::reversal, 1000, "RVX001"};
  auto order = reversible(0);
  order.can_reverse = false;
  order.transaction_references = {"CPX", "RVX001"};
  EXPECT_EQ(decide_operation(op, order).step, OperationStep::already_done);
}

TEST(OperationDecision, AReversalWithinWhatIsLeftIsSentOtherwiseRefused) {
  PendingOperation op{PaymentOperationKind::reversal, 1000, "RVX001"};
  EXPECT_EQ(decide_operation(op, reversible(1000)).step, OperationStep::send);
  EXPECT_EQ(decide_operation(op, reversible(999)).step, OperationStep::refuse);
  EXPECT_EQ(decide_operation(op, OrderFacts{}).step, OperationStep::refuse);
}

TEST(OperationDecision, ACancelNeedsTheCancelOperationOrFindsTheOrderCancelledAlready) {
  PendingOperation op{PaymentOperationKind::cancel, 65000, "CNX001"};
  OrderFacts cancellable;
  cancellable.can_cancel = true;
  EXPECT_EQ(decide_operation(op, cancellable).step, OperationStep::send);
  OrderFacts cancelled;
  cancelled.cancelled = true;
  EXPECT_EQ(decide_operation(op, cancelled).step, OperationStep::already_done);
  const auto captured = decide_operation(op, reversible(65000));  // a cancel never reverses
  EXPECT_EQ(captured.step, OperationStep::refuse);
  EXPECT_FALSE(captured.why.empty());
}

TEST(PaymentOperationNames, RoundTrip) {
  for (auto k : kAllPaymentOperationKinds)
    EXPECT_EQ(parse_payment_operation_kind(to_string(k)), k);
  for (auto s : kAllPaymentOperationStatuses)
    EXPECT_EQ(parse_payment_operation_status(to_string(s)), s);
  EXPECT_FALSE(parse_payment_operation_kind("capture"));
}

}  // namespace
}  // namespace visitpay::domain
