#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/time_format.hpp"
#include "domain/order_status.hpp"
#include "domain/session_lifecycle.hpp"

namespace visitpay::domain {

using Ore = std::int64_t;  // money in integer øre (1/100 NOK)
using common::Timestamp;

struct CheckoutLine {
  std::string description;
  Ore amount = 0;
  Ore vat_amount = 0;
};

struct Address {
  std::string street;
  std::string postal_code;
  std::string city;
  std::string country;
};

// Personal data: stored apart from the session facts, never logged or echoed.
struct Payer {
  std::string name;
  std::optional<std::string> national_id;
  std::optional<std::string> phone;
  std::optional<std::string> email;  // where a clinic that mails invoices sends them
  Address address;
};

// The payer's acceptance of terms that name the invoice fee, before the visit (finansavtaleloven
// § 2-4 (1); forbrukerkjøpsloven § 37 (3) as the standard for services). Without it no invoice
// fee is disclosed or charged.
struct FeeTerms {
  Timestamp accepted_at{};
  std::string version;  // the clinic's name for the terms' text, e.g. "2026-01"
};

// A check-out event from a clinic's system, as the API accepts it.
struct CheckoutRequest {
  std::string clinic_id;
  std::string visit_id;
  Timestamp checked_out_at{};
  std::string currency;
  std::vector<CheckoutLine> lines;
  std::optional<Ore> total_amount;  // optional cross-check sent by the client
  std::optional<FeeTerms> fee_terms;
  Payer payer;

  Ore amount() const;
  Ore vat_amount() const;
};

struct CheckoutRules {
  std::size_t max_lines = 50;
  std::size_t max_description_length = 200;
  Ore max_line_amount = 100'000'000;  // NOK 1 000 000
  bool allow_synthetic_national_ids = false;
  std::chrono::hours max_future_skew{24};
};

// Semantic checks on a parsed request. Appends one FieldError per offending field, named by
// JSON pointer in the API's shape.
void validate_checkout(const CheckoutRequest& request, const CheckoutRules& rules,
                       const std::function<bool(std::string_view)>& clinic_exists, Timestamp now,
                       std::vector<common::FieldError>& errors);

// Deterministic encoding of everything the client sent; its keyed hash tells an idempotent
// replay from a conflicting re-use of the same (clinic_id, visit_id).
std::string canonical_form(const CheckoutRequest& request);

std::size_t utf8_length(std::string_view text);

// A line of a stored session. Its description is health information ("Konsultasjon psykiater"):
// stored only sealed under the session's retained key (app/line_descriptions.hpp), and absent
// once that key was purged.
struct SessionLine {
  std::optional<std::string> description;
  Ore amount = 0;
  Ore vat_amount = 0;
};

// A line description as the API and the PDF show it: once it was destroyed with the session's
// retained key, a placeholder that says nothing about the visit.
inline constexpr std::string_view kPurgedDescription = "(beskrivelse slettet)";
inline std::string shown_description(const std::optional<std::string>& description) {
  return description ? *description : std::string(kPurgedDescription);
}

// What a session looks like to API clients: the facts of the visit, never the payer's name,
// national id, phone or address.
struct SessionView {
  std::string id;
  std::string clinic_id;
  std::string visit_id;
  SessionState state = SessionState::pending;
  std::string currency;
  Ore amount = 0;
  Ore vat_amount = 0;
  Timestamp checked_out_at{};
  std::vector<SessionLine> lines;
  bool has_phone = false;
  Timestamp created_at{};
  Timestamp updated_at{};
  // The payment flow's facts, once known.
  std::optional<Timestamp> deadline_at;   // awaiting_payment: pay by then or get an invoice
  std::optional<FeeTerms> fee_terms;      // as the check-out said
  std::optional<Ore> fee_disclosed;       // the invoice fee the accepted SMS disclosed
  std::string invoice_reason;             // why the invoice path: no_phone, sms_rejected, ...
  std::optional<std::string> link_error;  // why the link could not be created or sent (ops)
  std::optional<Timestamp> paid_at;
  std::optional<Timestamp> cancelled_at;
  std::string payment_status;      // the order's last known status (domain::OrderStatus)
  std::string payment_instrument;  // CreditCard, Vipps, ... once paid
  std::string invoice_id;          // invoiced: its invoice
  std::optional<std::int64_t> invoice_number;
  std::string invoice_status;
};

// The view of the session `request` has just created: its starting state, no payment facts yet.
SessionView new_session_view(std::string id, const CheckoutRequest& request, Timestamp now);

}  // namespace visitpay::domain
