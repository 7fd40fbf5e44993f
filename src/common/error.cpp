#include "common/error.hpp"

#include <algorithm>

namespace visitpay::common {
namespace {

struct ErrorInfo {
  ErrorCode code;
  std::string_view name;
  int status;
  std::string_view title;
};

constexpr ErrorInfo kErrors[] = {
#define VISITPAY_ERROR_ROW(num, name, status, title) {ErrorCode::name, #name, status, title},
    VISITPAY_ERROR_CODES(VISITPAY_ERROR_ROW)
#undef VISITPAY_ERROR_ROW
};

const ErrorInfo& info(ErrorCode code) {
  for (const auto& e : kErrors) {
    if (e.code == code) return e;
  }
  return info(ErrorCode::internal_error);
}

}  // namespace

std::string_view error_name(ErrorCode code) {
  return info(code).name;
}
std::string_view error_title(ErrorCode code) {
  return info(code).title;
}
int error_http_status(ErrorCode code) {
  return info(code).status;
}

std::string error_type_uri(ErrorCode code) {
  std::string slug(info(code).name);
  std::replace(slug.begin(), slug.end(), '_', '-');
  return "https://visitpay.dev/problems/" + slug;
}

}  // namespace visitpay::common
