#include "adapters/http/provider_errors.hpp"

#include <cctype>

namespace visitpay::adapters::http {

using common::ErrorCode;

common::Error classify_http_failure(const HttpResponse& response, std::string_view detail) {
  const int status = response.status;
  std::string text(detail);
  text += " (HTTP " + std::to_string(status) + ")";
  if (status >= 500 || status == 429) {
    common::Error error = common::make_error(ErrorCode::provider_unavailable, std::move(text));
    error.retry_after = response.retry_after();
    return error;
  }
  if (status == 409) return common::make_error(ErrorCode::provider_conflict, std::move(text));
  return common::make_error(ErrorCode::provider_rejected, std::move(text));
}

std::string safe_token(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text) {
    if (out.size() >= max) break;
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '.' || c == '_' || c == '-' || c == '/') out += c;
  }
  return out;
}

}  // namespace visitpay::adapters::http
