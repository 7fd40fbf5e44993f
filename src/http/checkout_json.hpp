#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "domain/checkout.hpp"

namespace visitpay::http {

// The wire shape of POST /v1/checkouts (schemas/checkout_request.schema.json) mapped to the
// domain. Shape problems (missing, unknown, wrongly typed fields) are collected per field so
// the client hears about all of them at once.
struct ParsedCheckout {
  domain::CheckoutRequest request;
  std::vector<common::FieldError> errors;
};

ParsedCheckout parse_checkout(const nlohmann::json& body);

// Keeps the first error per JSON pointer (a missing field should not also be "empty").
void merge_field_errors(std::vector<common::FieldError>& into,
                        std::vector<common::FieldError> more);

// The session as the API answers it (schemas/openapi.json, Session), as JSON text.
std::string session_json(const domain::SessionView& session);

// Top-level property names the parser accepts; the schema test compares them with the file.
std::vector<std::string> checkout_fields();

}  // namespace visitpay::http
