#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "ports/payment_provider.hpp"

// The Swedbank Pay Payment Order v3.1 wire format: request bodies and response parsing, with no
// I/O (providers.md §1). Parsing never throws and ignores unknown fields (robustness principle).
namespace visitpay::adapters::payment::swedbankpay {

// One entry of `operations[]`. The href is opaque: use it as given, never build it.
struct Operation {
  std::string rel;
  std::string method;
  std::string href;
  std::string content_type;
};

struct ParsedOrder {
  ports::PaymentOrder order;
  std::string status_text;  // as the provider spelled it, for error details
  std::vector<Operation> operations;

  const Operation* find(std::string_view rel) const;
};

// A 2xx body of POST/GET/PATCH on a payment order.
common::Result<ParsedOrder> parse_payment_order(std::string_view body);

// RFC 7807 problem+json. Only `type` is meant for program logic; title/detail/descriptions are
// free text that may echo values, so they never go into our error details.
struct Problem {
  std::string type;
  std::string title;
  std::string detail;
  std::string instance;
  int status = 0;
  std::vector<std::string> names;         // problems[].name (field names)
  std::vector<std::string> descriptions;  // problems[].description

  std::string kind() const;  // the last path segment of `type`, e.g. "inputerror"
  bool mentions(std::string_view needle) const;  // case-insensitive, in any field
  bool about_order_state() const;
};
std::optional<Problem> parse_problem(std::string_view body);

ports::PaymentStatus parse_status(std::string_view status);

struct CreateOrderParties {
  std::string payee_id;
  std::string payee_name;
  std::string user_agent;
};
// Guest mode: no payer node, so no personal data leaves us.
std::string create_order_body(const ports::PaymentOrderRequest& request,
                              const CreateOrderParties& parties);
std::string abort_body();
std::string capture_body(const ports::CaptureRequest& request);
// `{"transaction":{"description","payeeReference"}}`: a cancel has no amount (providers.md §7.2).
std::string cancel_body(const ports::CancelRequest& request);
// `{"transaction":{"description","amount","vatAmount","payeeReference"}}` (§7.3).
std::string reversal_body(const ports::ReversalRequest& request);

}  // namespace visitpay::adapters::payment::swedbankpay
