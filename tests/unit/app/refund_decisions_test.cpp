// app::carry_out against a gmock PaymentProvider: what is sent to the provider for a cancel or a
// reversal, and what is never sent (an operation the order already lists, one it cannot take).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include "app/payment_operation.hpp"
#include "mocks/ports/mock_payment_provider.hpp"

namespace visitpay::app {
namespace {

namespace asio = boost::asio;
using ::testing::_;
using ::testing::AllOf;
using ::testing::Field;
using ::testing::Return;
using ::testing::StrictMock;

const std::string kOrder = "/psp/paymentorders/7f3a";

ports::PaymentOrder paid_order() {
  ports::PaymentOrder o;
  o.id = kOrder;
  o.status = ports::PaymentStatus::paid;
  o.amount = 65000;
  return o;
}

ports::PaymentOrder captured(domain::Ore remaining_reversal) {
  auto o = paid_order();
  o.can_reverse = remaining_reversal > 0;
  o.remaining_reversal_amount = remaining_reversal;
  o.transactions = {{kOrder + "/financialtransactions/c1", "CP1"}};
  return o;
}

ports::PaymentOrder authorised() {
  auto o = paid_order();
  o.can_cancel = true;
  o.can_capture = true;
  return o;
}

store::PaymentOperationRecord operation(domain::PaymentOperationKind kind, domain::Ore amount,
                                        domain::Ore vat, std::string reference) {
  store::PaymentOperationRecord op;
  op.id = "op-1";
  op.session_id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
  op.kind = kind;
  op.amount = amount;
  op.vat_amount = vat;
  op.payee_reference = std::move(reference);
  return op;
}

class RefundDecisions : public ::testing::Test {
 protected:
  OperationResult run(const store::PaymentOperationRecord& op) {
    asio::io_context ioc;
    auto result = asio::co_spawn(ioc, carry_out(provider_, kOrder, op), asio::use_future);
    ioc.run();
    return result.get();
  }

  StrictMock<mocks::MockPaymentProvider> provider_;
};

TEST_F(RefundDecisions, AReversalIsSentOnceWithItsOwnReferenceAmountAndVat) {
  const auto op = operation(domain::PaymentOperationKind::reversal, 20000, 4000, "RV1");
  auto after = captured(45000);
  after.transactions.push_back({kOrder + "/financialtransactions/r1", "RV1"});
  EXPECT_CALL(provider_, get_order_now(kOrder)).WillOnce(Return(captured(65000)));
  EXPECT_CALL(provider_,
              reverse_now(kOrder, AllOf(Field(&ports::ReversalRequest::payee_reference, "RV1"),
                                        Field(&ports::ReversalRequest::amount, 20000),
                                        Field(&ports::ReversalRequest::vat_amount, 4000))))
      .WillOnce(Return(after));
  const auto result = run(op);
  EXPECT_EQ(result.kind, OperationResult::Kind::done);
  EXPECT_EQ(result.provider_reference, kOrder + "/financialtransactions/r1");
}

TEST_F(RefundDecisions, AnOperationTheOrderAlreadyListsIsDoneWithoutSendingIt) {
  const auto op = operation(domain::PaymentOperationKind::reversal, 20000, 4000, "RV1");
  auto order = captured(45000);
  order.transactions.push_back({kOrder + "/financialtransactions/r1", "RV1"});
  EXPECT_CALL(provider_, get_order_now(kOrder)).WillOnce(Return(order));
  // StrictMock: a reverse_now call would fail the test.
  EXPECT_EQ(run(op).kind, OperationResult::Kind::done);
}

TEST_F(RefundDecisions, NoAnswerIsRetriedARefusalFails) {
  const auto op = operation(domain::PaymentOperationKind::reversal, 20000, 4000, "RV1");
  EXPECT_CALL(provider_, get_order_now(kOrder)).WillRepeatedly(Return(captured(65000)));
  EXPECT_CALL(provider_, reverse_now(kOrder, _))
      .WillOnce(Return(common::make_error(common::ErrorCode::provider_outcome_unknown, "lost")))
      .WillOnce(Return(common::make_error(common::ErrorCode::provider_unavailable, "503")))
      .WillOnce(Return(common::make_error(common::ErrorCode::provider_conflict, "locked")));
  EXPECT_EQ(run(op).kind, OperationResult::Kind::retry);
  EXPECT_EQ(run(op).kind, OperationResult::Kind::retry);
  const auto refused = run(op);
  EXPECT_EQ(refused.kind, OperationResult::Kind::failed);
  EXPECT_EQ(refused.error.detail, "locked");
}

TEST_F(RefundDecisions, AnOrderThatCannotBeLookedAtIsRetried) {
  const auto op = operation(domain::PaymentOperationKind::reversal, 20000, 4000, "RV1");
  EXPECT_CALL(provider_, get_order_now(kOrder))
      .WillOnce(Return(common::make_error(common::ErrorCode::provider_unavailable, "502")));
  EXPECT_EQ(run(op).kind, OperationResult::Kind::retry);
}

TEST_F(RefundDecisions, AReversalBeyondWhatIsLeftIsNeverSent) {
  const auto op = operation(domain::PaymentOperationKind::reversal, 20000, 4000, "RV2");
  EXPECT_CALL(provider_, get_order_now(kOrder)).WillOnce(Return(captured(19999)));
  const auto result = run(op);
  EXPECT_EQ(result.kind, OperationResult::Kind::failed);
  EXPECT_FALSE(result.error.detail.empty());
}

TEST_F(RefundDecisions, APaymentAfterCancelIsCancelledNotCaptured) {
  const auto op = operation(domain::PaymentOperationKind::cancel, 65000, 0, "CN1");
  auto cancelled = paid_order();
  cancelled.status = ports::PaymentStatus::cancelled;
  EXPECT_CALL(provider_, get_order_now(kOrder)).WillOnce(Return(authorised()));
  EXPECT_CALL(provider_, cancel_now(kOrder, Field(&ports::CancelRequest::payee_reference, "CN1")))
      .WillOnce(Return(cancelled));
  // StrictMock: no capture_now.
  EXPECT_EQ(run(op).kind, OperationResult::Kind::done);
}

TEST_F(RefundDecisions, ACancelOfAnOrderCancelledMeanwhileIsDone) {
  const auto op = operation(domain::PaymentOperationKind::cancel, 65000, 0, "CN1");
  auto cancelled = paid_order();
  cancelled.status = ports::PaymentStatus::cancelled;
  EXPECT_CALL(provider_, get_order_now(kOrder)).WillOnce(Return(cancelled));
  EXPECT_EQ(run(op).kind, OperationResult::Kind::done);
}

}  // namespace
}  // namespace visitpay::app
