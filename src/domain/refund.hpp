#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "domain/checkout.hpp"

// Money going back to the payer after a payment through the link: the operations on the
// provider's order, and the decisions about them (pure; the store and the workers act on them).
//   cancel    releases an authorisation nothing was captured of (a payment confirmed after the
//             session was cancelled: it is never captured); the provider's cancel has no amount
//   reversal  returns captured (or sold) money, in full or in part, each with its own reference
namespace visitpay::domain {

enum class PaymentOperationKind { cancel, reversal };
enum class PaymentOperationStatus { requested, done, failed };

inline constexpr std::array kAllPaymentOperationKinds = {PaymentOperationKind::cancel,
                                                         PaymentOperationKind::reversal};
inline constexpr std::array kAllPaymentOperationStatuses = {PaymentOperationStatus::requested,
                                                            PaymentOperationStatus::done,
                                                            PaymentOperationStatus::failed};

std::string_view to_string(PaymentOperationKind kind);
std::string_view to_string(PaymentOperationStatus status);
std::optional<PaymentOperationKind> parse_payment_operation_kind(std::string_view text);
std::optional<PaymentOperationStatus> parse_payment_operation_status(std::string_view text);

// The payeeReference of a session's `number`-th operation of `kind` (1..999): "CN" (cancel) or
// "RV" (reversal), the session's UUID in base 36 and three digits: 30 characters of [A-Za-z0-9],
// no personal data, new for every operation (Swedbank Pay: unique per operation). Empty if
// `session_id` is not a UUID or `number` is out of range.
inline constexpr int kMaxOperationsPerKind = 999;
std::string operation_payee_reference(PaymentOperationKind kind, std::string_view session_id,
                                      int number);

// What a session's link payment allows finance to refund.
struct RefundableFacts {
  SessionState state = SessionState::pending;  // only paid and invoiced sessions refund
  bool has_order = false;                      // the session has a payment order
  bool paid = false;  // the order was paid (its status is paid or reversed)
  Ore captured = 0;   // captured or sold through the link
  Ore refunded = 0;   // reversals requested or done so far (failed ones do not count)
  Ore amount = 0;     // the session's amount and VAT (the VAT share of a part)
  Ore vat_amount = 0;
  Ore refunded_vat = 0;
};

// A refund finance asked for; `amount` nullopt = all that is left. With `at_most`, `amount` is
// an upper bound: what is left, if that is less (a credit note's refund of a double payment).
struct RefundAsk {
  std::optional<Ore> amount;
  bool at_most = false;
};

// The reversal to request: its amount and VAT part.
struct RefundPlan {
  Ore amount = 0;
  Ore vat_amount = 0;
};

// invalid_state when the session was not paid through the link or nothing is left to return;
// validation_failed naming /amount_ore when the amount is not positive or more than is left.
common::Result<RefundPlan> plan_refund(const RefundableFacts& facts, const RefundAsk& ask);

// The VAT part of `part` of a payment of `total` with `total_vat`: proportional, rounded down,
// and for the last part (the rest) whatever VAT is left, so the parts add up to the whole.
Ore vat_share(Ore part, Ore total, Ore total_vat, Ore vat_already, bool last_part);

// The provider's view of the order, as far as an operation needs it.
struct OrderFacts {
  bool cancelled = false;   // fully cancelled at the provider
  bool can_cancel = false;  // the provider offers the operation now
  bool can_reverse = false;
  Ore remaining_reversal = 0;
  std::vector<std::string> transaction_references;  // payeeReferences of its transactions
};

struct PendingOperation {
  PaymentOperationKind kind = PaymentOperationKind::reversal;
  Ore amount = 0;
  std::string payee_reference;
};

// What to do about one requested operation, given the order as the provider shows it now.
//   already_done  the provider lists a transaction with our reference (an answer was lost), or
//                 the order is already fully cancelled (a cancel) at the provider
//   send          ask the provider now
//   refuse        impossible in the order's state: the operation fails (finance sees why)
enum class OperationStep { already_done, send, refuse };
struct OperationDecision {
  OperationStep step = OperationStep::refuse;
  std::string why;  // for refuse; no personal data
};
OperationDecision decide_operation(const PendingOperation& operation, const OrderFacts& order);

}  // namespace visitpay::domain
