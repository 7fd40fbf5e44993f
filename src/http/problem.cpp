#include "http/problem.hpp"

#include <nlohmann/json.hpp>

namespace visitpay::http {

Response json_response(bhttp::status status, std::string body, unsigned version) {
  Response res{status, version};
  res.set(bhttp::field::content_type, "application/json");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response problem_response(const common::Error& error, const RequestContext& context,
                          unsigned version) {
  nlohmann::json doc = {
      {"type", common::error_type_uri(error.code)},
      {"title", std::string(common::error_title(error.code))},
      {"status", common::error_http_status(error.code)},
      {"request_id", context.request_id},
  };
  if (!error.detail.empty()) doc["detail"] = error.detail;
  if (!error.fields.empty()) {
    auto& list = doc["errors"] = nlohmann::json::array();
    for (const auto& f : error.fields)
      list.push_back({{"pointer", f.pointer}, {"detail", f.detail}});
  }
  Response res{static_cast<bhttp::status>(common::error_http_status(error.code)), version};
  res.set(bhttp::field::content_type, "application/problem+json");
  if (error.code == common::ErrorCode::unauthenticated) {
    res.set(bhttp::field::www_authenticate, "Bearer");
  }
  res.body() = doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

Response logged_problem(common::Logger& log, std::string_view event, const common::Error& error,
                        const RequestContext& context, unsigned version) {
  if (error.code == common::ErrorCode::internal_error ||
      error.code == common::ErrorCode::database_unavailable) {
    log.warn(
        event,
        {{"request_id", context.request_id}, {"route", context.route}, {"detail", error.detail}});
  }
  return problem_response(error, context, version);
}

}  // namespace visitpay::http
