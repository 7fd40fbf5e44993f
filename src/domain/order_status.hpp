#pragma once

#include <optional>
#include <string_view>

namespace visitpay::domain {

// A payment order's status in the core's own words; each payment adapter maps its provider's
// vocabulary onto these (the database and the public API store and show only these).
enum class OrderStatus {
  open,       // can still be paid
  paid,       // the payer paid (authorised or sold)
  aborted,    // closed by us before payment
  failed,     // the payment failed and the order can no longer be paid
  cancelled,  // an authorisation was cancelled
  reversed,   // a payment was paid back
  unknown,    // a status this version does not know: treated as possibly payable
};

// Closed without money taken: an invoice may follow.
constexpr bool closed_unpaid(OrderStatus s) {
  return s == OrderStatus::aborted || s == OrderStatus::failed || s == OrderStatus::cancelled ||
         s == OrderStatus::reversed;
}

std::string_view to_string(OrderStatus status);
std::optional<OrderStatus> parse_order_status(std::string_view text);

}  // namespace visitpay::domain
