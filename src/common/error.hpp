#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace visitpay::common {

// One table of stable error codes; names, HTTP statuses and problem types derive from it.
// Numbers are part of the contract: never renumber, only append.
#define VISITPAY_ERROR_CODES(X)                                                            \
  X(1, validation_failed, 422, "The request has invalid fields")                           \
  X(2, malformed_json, 400, "The request body is not valid JSON")                          \
  X(3, unsupported_media_type, 415, "The request body must be application/json")           \
  X(4, payload_too_large, 413, "The request body is larger than allowed")                  \
  X(5, unauthenticated, 401, "A valid bearer token is required")                           \
  X(6, forbidden, 403, "The token is not allowed to do this")                              \
  X(7, not_found, 404, "No such resource")                                                 \
  X(8, method_not_allowed, 405, "The method is not allowed on this resource")              \
  X(9, idempotency_conflict, 409, "This visit was already checked out with other content") \
  X(10, database_unavailable, 503, "The database is unavailable")                          \
  X(11, internal_error, 500, "Internal error")                                             \
  X(12, bad_request, 400, "The request is malformed")                                      \
  X(13, headers_too_large, 431, "The request headers are larger than allowed")             \
  X(14, shutting_down, 503, "The service is shutting down")                                \
  X(15, invalid_state, 409, "The resource is not in a state that allows this")             \
  X(16, provider_unavailable, 502, "A payment or SMS provider is unavailable")             \
  X(17, provider_rejected, 502, "A payment or SMS provider rejected the request")          \
  X(18, provider_conflict, 409, "The provider refused the operation in the current state") \
  X(19, provider_outcome_unknown, 502,                                                     \
    "A provider did not answer; the request may have taken effect")                        \
  X(20, database_outcome_unknown, 503,                                                     \
    "The database connection was lost after a write was sent; it may have taken effect")   \
  X(21, too_many_requests, 429, "Too many failed attempts; retry later")                   \
  X(22, not_implemented, 501, "The request uses a feature that is not implemented")        \
  X(23, http_version_not_supported, 505, "The HTTP version is not supported")              \
  X(24, provider_misconfigured, 502,                                                       \
    "A provider refused our credentials or account configuration")                         \
  X(25, login_throttled, 429, "Too many failed logins; try again later")                   \
  X(26, second_factor_required, 401, "A one-time code is needed as well")                  \
  X(27, csrf_refused, 403, "No CSRF token of the session, or another site's request")      \
  X(28, idempotency_key_reused, 409,                                                       \
    "This Idempotency-Key was used for a request with other content")

enum class ErrorCode : int {
#define VISITPAY_ERROR_ENUM(num, name, status, title) name = num,
  VISITPAY_ERROR_CODES(VISITPAY_ERROR_ENUM)
#undef VISITPAY_ERROR_ENUM
};

std::string_view error_name(ErrorCode code);   // "validation_failed"
std::string_view error_title(ErrorCode code);  // human title
int error_http_status(ErrorCode code);         // 422
std::string error_type_uri(ErrorCode code);    // https://visitpay.dev/problems/validation-failed

// A problem with one field of a request, named by JSON pointer (RFC 6901).
struct FieldError {
  std::string pointer;
  std::string detail;
};

struct Error {
  ErrorCode code = ErrorCode::internal_error;
  std::string detail;  // must never hold personal data
  std::vector<FieldError> fields;
  std::optional<std::chrono::milliseconds> retry_after;  // a provider's Retry-After, if any
  // The provider's own error code when it gave one ("106100"), for metrics and ops; no personal
  // data, never shown to API clients.
  std::string provider_code;
};

}  // namespace visitpay::common
