// POST /v1/checkouts without the transport: the body through parse_json (duplicate keys),
// parse_checkout (shape) and validate_checkout (meaning), as routes.cpp runs them.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "common/time_format.hpp"
#include "domain/checkout.hpp"
#include "http/checkout_json.hpp"
#include "http/json_body.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using nlohmann::json;
using visitpay::common::ErrorCode;
using visitpay::common::FieldError;
using visitpay::domain::CheckoutRequest;

// Every field error names a syntactically valid RFC 6901 pointer.
void check_pointers(const std::vector<FieldError>& errors) {
  for (const auto& e : errors) {
    try {
      json::json_pointer pointer(e.pointer);
      (void)pointer;
    } catch (const json::exception&) {
      FUZZ_CHECK(!"a field error's pointer is not a JSON pointer");
    }
    FUZZ_CHECK(!e.detail.empty());
  }
}

// The wire form of a parsed request, as a client would send it again.
json wire_form(const CheckoutRequest& r) {
  json lines = json::array();
  for (const auto& l : r.lines) {
    lines.push_back(
        {{"description", l.description}, {"amount", l.amount}, {"vat_amount", l.vat_amount}});
  }
  json payer = {{"name", r.payer.name},
                {"address",
                 {{"street", r.payer.address.street},
                  {"postal_code", r.payer.address.postal_code},
                  {"city", r.payer.address.city},
                  {"country", r.payer.address.country}}}};
  if (r.payer.national_id) payer["national_id"] = *r.payer.national_id;
  if (r.payer.phone) payer["phone"] = *r.payer.phone;
  json out = {{"clinic_id", r.clinic_id},
              {"visit_id", r.visit_id},
              {"checked_out_at", visitpay::common::format_rfc3339_utc(r.checked_out_at)},
              {"currency", r.currency},
              {"lines", std::move(lines)},
              {"payer", std::move(payer)}};
  if (r.total_amount) out["total_amount"] = *r.total_amount;
  return out;
}

const visitpay::domain::Timestamp kNow =
    std::chrono::sys_days{std::chrono::year{2026} / 12 / 1} + std::chrono::hours{12};

std::vector<FieldError> validate(const CheckoutRequest& r) {
  std::vector<FieldError> errors;
  visitpay::domain::CheckoutRules rules;
  rules.allow_synthetic_national_ids = true;
  visitpay::domain::validate_checkout(
      r, rules, [](std::string_view id) { return id == "oslo-sentrum"; }, kNow, errors);
  return errors;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto document = visitpay::http::parse_json(text);

  // The duplicate-key finder changes nothing about which documents parse.
  const json plain = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (auto* error = std::get_if<visitpay::common::Error>(&document)) {
    if (error->code == ErrorCode::malformed_json) {
      FUZZ_CHECK(plain.is_discarded());
      return 0;
    }
    FUZZ_CHECK(error->code == ErrorCode::validation_failed);
    FUZZ_CHECK(!plain.is_discarded());
    FUZZ_CHECK(error->fields.size() == 1);
    check_pointers(error->fields);
    // The repeated key is named by its path, so never by the empty (whole-document) pointer. It
    // need not exist in the parsed document: it may sit in a value a later duplicate replaced.
    FUZZ_CHECK(!error->fields[0].pointer.empty());
    return 0;
  }
  const json& doc = std::get<json>(document);
  FUZZ_CHECK(!plain.is_discarded() && plain == doc);

  auto parsed = visitpay::http::parse_checkout(doc);
  check_pointers(parsed.errors);
  const auto shape_errors = parsed.errors.size();
  const bool shape_ok = parsed.errors.empty();
  auto meaning = validate(parsed.request);
  check_pointers(meaning);
  const auto meaning_count = meaning.size();
  visitpay::http::merge_field_errors(parsed.errors, std::move(meaning));
  FUZZ_CHECK(parsed.errors.size() >= shape_errors &&
             parsed.errors.size() <= shape_errors + meaning_count);
  (void)visitpay::domain::canonical_form(parsed.request);

  if (!shape_ok) return 0;
  // Parse -> serialise -> parse gives the same request (the same canonical form, the keyed hash
  // of which tells a replay from a conflict).
  const std::string again = wire_form(parsed.request).dump();
  auto redocument = visitpay::http::parse_json(again);
  FUZZ_CHECK(std::holds_alternative<json>(redocument));
  auto reparsed = visitpay::http::parse_checkout(std::get<json>(redocument));
  FUZZ_CHECK(reparsed.errors.empty());
  FUZZ_CHECK(visitpay::domain::canonical_form(reparsed.request) ==
             visitpay::domain::canonical_form(parsed.request));
  FUZZ_CHECK(validate(reparsed.request).size() == meaning_count);

  if (parsed.errors.empty()) {
    // An accepted check-out has a positive total whose VAT part is not larger than it.
    const auto& r = parsed.request;
    FUZZ_CHECK(r.amount() > 0 && r.vat_amount() >= 0 && r.vat_amount() <= r.amount());
    FUZZ_CHECK(!r.total_amount || *r.total_amount == r.amount());
  }
  return 0;
}
