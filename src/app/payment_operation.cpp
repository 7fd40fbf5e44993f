#include "app/payment_operation.hpp"

#include <algorithm>

#include "domain/refund.hpp"

namespace visitpay::app {

using common::ErrorCode;
using domain::PaymentOperationKind;

namespace {

// Descriptions the provider shows in its portal and statements: no personal data.
constexpr const char* kCancelDescription = "Kansellert betaling";
constexpr const char* kRefundDescription = "Refusjon";

OperationResult done(const ports::PaymentOrder& order, const std::string& reference) {
  OperationResult r;
  r.kind = OperationResult::Kind::done;
  auto it = std::find_if(
      order.transactions.begin(), order.transactions.end(),
      [&](const ports::ProviderTransaction& t) { return t.payee_reference == reference; });
  if (it != order.transactions.end() && !it->id.empty()) r.provider_reference = it->id;
  return r;
}

OperationResult failed(std::string why) {
  OperationResult r;
  r.kind = OperationResult::Kind::failed;
  r.error = common::make_error(ErrorCode::provider_conflict, std::move(why));
  return r;
}

// A refusal for good (the request or the order's state) fails the operation; anything else
// (no answer, 5xx, 429, a configuration ops will fix) is looked at again later.
OperationResult from_error(common::Error error) {
  OperationResult r;
  const bool permanent = error.code == ErrorCode::provider_rejected ||
                         error.code == ErrorCode::provider_conflict ||
                         error.code == ErrorCode::validation_failed;
  r.kind = permanent ? OperationResult::Kind::failed : OperationResult::Kind::retry;
  r.error = std::move(error);
  return r;
}

domain::OrderFacts facts_of(const ports::PaymentOrder& order) {
  domain::OrderFacts f;
  f.cancelled = order.status == ports::PaymentStatus::cancelled;
  f.can_cancel = order.can_cancel;
  f.can_reverse = order.can_reverse;
  f.remaining_reversal = order.remaining_reversal_amount;
  for (const auto& t : order.transactions)
    f.transaction_references.push_back(t.payee_reference);
  return f;
}

domain::PendingOperation pending_of(const store::PaymentOperationRecord& op) {
  return {op.kind, op.amount, op.payee_reference};
}

}  // namespace

boost::asio::awaitable<OperationResult> carry_out(ports::PaymentProvider& provider,
                                                  const std::string& order_id,
                                                  const store::PaymentOperationRecord& operation) {
  auto order = co_await provider.get_order(order_id);
  if (!order) co_return from_error(std::move(order).error());
  const auto decision = domain::decide_operation(pending_of(operation), facts_of(*order));
  if (decision.step == domain::OperationStep::already_done) {
    co_return done(*order, operation.payee_reference);
  }
  if (decision.step == domain::OperationStep::refuse) co_return failed(decision.why);

  common::Result<ports::PaymentOrder> after;
  if (operation.kind == PaymentOperationKind::cancel) {
    const ports::CancelRequest request{operation.payee_reference, kCancelDescription};
    after = co_await provider.cancel(order_id, request);
  } else {
    const ports::ReversalRequest request{operation.payee_reference, operation.amount,
                                         operation.vat_amount, kRefundDescription};
    after = co_await provider.reverse(order_id, request);
  }
  if (!after) co_return from_error(std::move(after).error());
  co_return done(*after, operation.payee_reference);
}

}  // namespace visitpay::app
