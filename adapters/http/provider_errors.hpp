#pragma once

#include <string>
#include <string_view>

#include "adapters/http/http_client.hpp"
#include "common/error.hpp"

namespace visitpay::adapters::http {

inline bool is_success(int status) {
  return status >= 200 && status <= 299;
}

// The shared mapping of an unsuccessful HTTP status to the provider error codes:
//   5xx and 429 -> provider_unavailable (retry_after from the Retry-After header)
//   409         -> provider_conflict
//   other       -> provider_rejected
// `detail` is the caller's description (it must not hold personal data); the status is added.
common::Error classify_http_failure(const HttpResponse& response, std::string_view detail);

// Keeps what is safe to copy from a provider's text into our error details: identifier-like
// characters only ([A-Za-z0-9._-/]), at most `max` of them. Values never go through this.
std::string safe_token(std::string_view text, std::size_t max = 64);

}  // namespace visitpay::adapters::http
