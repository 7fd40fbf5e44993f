#include "adapters/sms/linkmobility/delivery_report.hpp"

#include <algorithm>
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

// Splits "abc123$1" into the message id and the part; an id without a suffix is part 0. A suffix
// that is not a small number keeps the id whole (it then matches nothing we sent).
void split_part(std::string id, DeliveryReport& out) {
  const auto dollar = id.rfind('$');
  if (dollar != std::string::npos && dollar > 0 && dollar + 1 < id.size()) {
    int part = 0;
    const char* begin = id.data() + dollar + 1;
    const char* end = id.data() + id.size();
    const auto [ptr, ec] = std::from_chars(begin, end, part);
    // LINK splits into at most 254 segments (PDF pp. 4-5).
    if (ec == std::errc() && ptr == end && part >= 0 && part < 255) {
      out.part = part;
      id.resize(dollar);
    }
  }
  out.message_id = std::move(id);
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
  split_part(id->get<std::string>(), report);

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
    report.segments = std::min(*n, 255);
  }
  if (auto ts = root.find("timestamp"); ts != root.end() && !ts->is_null()) {
    if (!ts->is_string()) return field_error("/timestamp", "is not a string");
    report.timestamp = ts->get<std::string>();
  }
  return report;
}

ports::DeliveryOutcome classify_result_code(int code) {
  using ports::DeliveryOutcome;
  const auto in = [code](int low, int high) { return code >= low && code <= high; };
  if (code == 1001) return DeliveryOutcome::delivered;
  if (code == 4 || code == 5 || code == 1010) return DeliveryOutcome::undetermined;
  if (in(0, 3) || code == 6 || code == 104 || code == 105 || in(1002, 1004) || code == 1006 ||
      code == 1009 || in(2000, 2003) || in(2100, 2107) || in(2200, 2207) || in(3000, 3002) ||
      in(4000, 4007)) {
    return DeliveryOutcome::failed;
  }
  return DeliveryOutcome::in_progress;  // the TEMP codes, and codes the table does not list
}

common::Result<ports::SmsReport> LinkMobilityReports::parse(
    const ports::InboundWebhook& webhook) const {
  auto report = parse_delivery_report(webhook.body);
  if (!report) return std::move(report).error();
  ports::SmsReport out;
  out.message_id = std::move(report.value().message_id);
  out.reference = std::move(report.value().ref_id);
  out.part = report->part;
  out.segments = report->segments;
  out.result_code = report->result_code;
  out.outcome = classify_result_code(report->result_code);
  return out;
}

}  // namespace visitpay::adapters::sms::linkmobility
