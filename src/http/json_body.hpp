#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "common/error.hpp"
#include "common/result.hpp"
#include "http/router.hpp"

namespace visitpay::http {

// Appends "/" and `key` as a JSON pointer reference token (RFC 6901: "~" is written "~0" and
// "/" is written "~1").
void append_pointer_token(std::string& pointer, std::string_view key);

// Parses a JSON document; the error to answer with when it is not one (400), or when an object
// in it has a key twice (422 naming the key by JSON pointer: parsers differ on which copy wins,
// so the request is ambiguous).
std::variant<nlohmann::json, common::Error> parse_json(std::string_view text);

// The JSON object body of an action; an empty body counts as {}. Otherwise the error to answer
// with (415 without Content-Type: application/json, 400 malformed, 422 not an object or a key
// twice).
std::variant<nlohmann::json, common::Error> object_body(const Request& req);

// A string member of at most `max_bytes`; records a field error ("/key") otherwise.
std::string text_member(const nlohmann::json& body, const std::string& key, bool required,
                        std::size_t max_bytes, std::vector<common::FieldError>& errors);

// A validation error (422) listing each offending field.
common::Error invalid(std::vector<common::FieldError> errors);

}  // namespace visitpay::http
