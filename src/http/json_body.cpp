#include "http/json_body.hpp"

namespace visitpay::http {

using common::ErrorCode;
using common::make_error;
using Json = nlohmann::json;

namespace {

bool is_json(const Request& req) {
  const std::string_view value = req[bhttp::field::content_type];
  return value.substr(0, value.find(';')) == "application/json";
}

}  // namespace

std::variant<Json, common::Error> object_body(const Request& req) {
  if (req.body().empty()) return Json::object();
  if (!is_json(req)) {
    return make_error(ErrorCode::unsupported_media_type, "send Content-Type: application/json");
  }
  auto body = Json::parse(req.body(), nullptr, false);
  if (body.is_discarded()) {
    return make_error(ErrorCode::malformed_json, "the body is not a valid UTF-8 JSON document");
  }
  if (!body.is_object()) {
    common::Error e = make_error(ErrorCode::validation_failed, "the body must be a JSON object");
    e.fields.push_back({"", "must be an object"});
    return e;
  }
  return body;
}

std::string text_member(const Json& body, const std::string& key, bool required,
                        std::size_t max_bytes, std::vector<common::FieldError>& errors) {
  const auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required) errors.push_back({"/" + key, "is required"});
    return {};
  }
  if (!it->is_string()) {
    errors.push_back({"/" + key, "must be a string"});
    return {};
  }
  auto value = it->get<std::string>();
  if (required && value.find_first_not_of(" \t") == std::string::npos) {
    errors.push_back({"/" + key, "must not be empty"});
  } else if (value.size() > max_bytes) {
    errors.push_back({"/" + key, "must be at most " + std::to_string(max_bytes) + " bytes"});
  }
  return value;
}

common::Error invalid(std::vector<common::FieldError> errors) {
  common::Error e = make_error(ErrorCode::validation_failed,
                               std::to_string(errors.size()) + " field(s) are invalid");
  e.fields = std::move(errors);
  return e;
}

}  // namespace visitpay::http
