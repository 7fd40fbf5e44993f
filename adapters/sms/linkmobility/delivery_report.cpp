#include "adapters/sms/linkmobility/delivery_report.hpp"

#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

namespace visitpay::adapters::sms::linkmobility {

using common::Error;
using common::ErrorCode;
using common::FieldError;
using Json = nlohmann::json;

namespace {

Error field_error(const std::string& pointer, const std::string& problem) {
  Error error;
  error.code = ErrorCode::validation_failed;
  error.detail = "delivery report field " + pointer + " " + problem;
  FieldError field;
  field.pointer = pointer;
  field.detail = problem;
  error.fields.push_back(std::move(field));
  return error;
}

// An int given as a JSON integer or a decimal string ("1001"); nullopt otherwise.
std::optional<int> as_int(const Json& value) {
  if (value.is_number_integer()) {
    if (value.is_number_unsigned()) {
      const auto u = value.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) return std::nullopt;
      return static_cast<int>(u);
    }
    const auto v = value.get<std::int64_t>();
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
      return std::nullopt;
    }
    return static_cast<int>(v);
  }
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    int out = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, out);
    if (ec == std::errc() && ptr == end && !text.empty()) return out;
  }
  return std::nullopt;
}

}  // namespace

common::Result<DeliveryReport> parse_delivery_report(std::string_view json) {
  const Json root = Json::parse(json, nullptr, false);
  if (root.is_discarded()) {
    return common::make_error(ErrorCode::malformed_json, "the delivery report is not valid JSON");
  }
  if (!root.is_object()) return field_error("", "must be a JSON object");

  DeliveryReport report;
  auto id = root.find("id");
  if (id == root.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    return field_error("/id", "is missing or not a non-empty string");
  }
  report.message_id = id->get<std::string>();

  auto code = root.find("resultCode");
  if (code == root.end()) return field_error("/resultCode", "is missing");
  const auto result_code = as_int(*code);
  if (!result_code) return field_error("/resultCode", "is not an integer");
  report.result_code = *result_code;

  if (auto ref = root.find("refId"); ref != root.end() && !ref->is_null()) {
    if (!ref->is_string()) return field_error("/refId", "is not a string");
    report.ref_id = ref->get<std::string>();
  }
  if (auto segments = root.find("segments"); segments != root.end() && !segments->is_null()) {
    const auto n = as_int(*segments);
    if (!n || *n < 0) return field_error("/segments", "is not a non-negative integer");
    report.segments = *n;
  }
  if (auto ts = root.find("timestamp"); ts != root.end() && !ts->is_null()) {
    if (!ts->is_string()) return field_error("/timestamp", "is not a string");
    report.timestamp = ts->get<std::string>();
  }
  return report;
}

DeliveryOutcome classify_result_code(int code) {
  switch (code) {
    case 1001:
    case 1007:
      return DeliveryOutcome::delivered;
    case 0:
    case 2:
    case 5:
    case 6:
    case 104:
    case 105:
    case 1002:
    case 1003:
    case 1004:
    case 1006:
    case 1009:
    case 1010:
      return DeliveryOutcome::failed;
    default:
      break;
  }
  if (code >= 2000 && code <= 4999) return DeliveryOutcome::failed;
  return DeliveryOutcome::in_progress;
}

common::Result<ports::SmsReport> LinkMobilityReports::parse(
    const ports::InboundWebhook& webhook) const {
  auto report = parse_delivery_report(webhook.body);
  if (!report) return std::move(report).error();
  ports::SmsReport out;
  out.message_id = std::move(report.value().message_id);
  out.reference = std::move(report.value().ref_id);
  out.result_code = report->result_code;
  switch (classify_result_code(report->result_code)) {
    case DeliveryOutcome::delivered:
      out.outcome = ports::DeliveryOutcome::delivered;
      break;
    case DeliveryOutcome::failed:
      out.outcome = ports::DeliveryOutcome::failed;
      break;
    case DeliveryOutcome::in_progress:
      out.outcome = ports::DeliveryOutcome::in_progress;
      break;
  }
  return out;
}

}  // namespace visitpay::adapters::sms::linkmobility
