#include "domain/refund.hpp"

#include <algorithm>

#include "domain/provider_reference.hpp"

namespace visitpay::domain {

using common::ErrorCode;
using common::make_error;

std::string_view to_string(PaymentOperationKind kind) {
  switch (kind) {
    case PaymentOperationKind::cancel:
      return "cancel";
    case PaymentOperationKind::reversal:
      return "reversal";
  }
  return "reversal";
}

std::string_view to_string(PaymentOperationStatus status) {
  switch (status) {
    case PaymentOperationStatus::requested:
      return "requested";
    case PaymentOperationStatus::done:
      return "done";
    case PaymentOperationStatus::failed:
      return "failed";
  }
  return "failed";
}

std::optional<PaymentOperationKind> parse_payment_operation_kind(std::string_view text) {
  for (auto k : kAllPaymentOperationKinds) {
    if (to_string(k) == text) return k;
  }
  return std::nullopt;
}

std::optional<PaymentOperationStatus> parse_payment_operation_status(std::string_view text) {
  for (auto s : kAllPaymentOperationStatuses) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

std::string operation_payee_reference(PaymentOperationKind kind, std::string_view session_id,
                                      int number) {
  if (number < 1 || number > kMaxOperationsPerKind) return {};
  std::string base =
      payee_reference(kind == PaymentOperationKind::cancel ? "CN" : "RV", session_id);
  if (base.empty()) return {};
  const std::string digits = std::to_string(number);
  return base + std::string(3 - digits.size(), '0') + digits;
}

Ore vat_share(Ore part, Ore total, Ore total_vat, Ore vat_already, bool last_part) {
  if (total <= 0 || part <= 0) return 0;
  const Ore left = std::max<Ore>(total_vat - vat_already, 0);
  if (last_part) return left;
  // part * total_vat fits: both are bounded by the session's amount (< 2^40 øre in practice).
  return std::min(part * total_vat / total, left);
}

common::Result<RefundPlan> plan_refund(const RefundableFacts& facts, const RefundAsk& ask) {
  const bool closed_by_payment =
      facts.state == SessionState::paid || facts.state == SessionState::invoiced;
  if (!closed_by_payment || !facts.has_order || !facts.paid || facts.captured <= 0) {
    return make_error(ErrorCode::invalid_state,
                      "the session was not paid through the payment link (or the payment is not "
                      "captured yet): there is nothing to refund at the provider");
  }
  const Ore left = facts.captured - facts.refunded;
  if (left <= 0) {
    return make_error(ErrorCode::invalid_state, "the payment has been refunded in full already");
  }
  const Ore amount =
      ask.at_most ? std::min(ask.amount.value_or(left), left) : ask.amount.value_or(left);
  common::Error invalid = make_error(ErrorCode::validation_failed, "the refund is not possible");
  if (amount <= 0) {
    invalid.fields.push_back({"/amount_ore", "must be a positive whole number of øre"});
  } else if (amount > left) {
    invalid.fields.push_back({"/amount_ore", "must not exceed " + std::to_string(left) +
                                                 " øre: the amount paid through the link (" +
                                                 std::to_string(facts.captured) +
                                                 ") minus what was refunded already (" +
                                                 std::to_string(facts.refunded) + ")"});
  }
  if (!invalid.fields.empty()) return invalid;
  RefundPlan plan;
  plan.amount = amount;
  plan.vat_amount =
      vat_share(amount, facts.amount, facts.vat_amount, facts.refunded_vat, amount == left);
  return plan;
}

namespace {
bool lists(const OrderFacts& order, const std::string& reference) {
  return std::find(order.transaction_references.begin(), order.transaction_references.end(),
                   reference) != order.transaction_references.end();
}
}  // namespace

OperationDecision decide_operation(const PendingOperation& operation, const OrderFacts& order) {
  if (!operation.payee_reference.empty() && lists(order, operation.payee_reference)) {
    return {OperationStep::already_done, {}};
  }
  if (operation.kind == PaymentOperationKind::cancel) {
    if (order.can_cancel) return {OperationStep::send, {}};
    if (order.cancelled) return {OperationStep::already_done, {}};
    return {OperationStep::refuse,
            "the provider offers no cancel for the order (captured, reversed, or not paid)"};
  }
  if (!order.can_reverse || order.remaining_reversal <= 0) {
    return {OperationStep::refuse,
            "the provider offers no reversal for the order (nothing "
            "captured is left to reverse)"};
  }
  if (operation.amount > order.remaining_reversal) {
    return {OperationStep::refuse, "the reversal of " + std::to_string(operation.amount) +
                                       " øre exceeds what the provider can still reverse (" +
                                       std::to_string(order.remaining_reversal) + ")"};
  }
  return {OperationStep::send, {}};
}

}  // namespace visitpay::domain
