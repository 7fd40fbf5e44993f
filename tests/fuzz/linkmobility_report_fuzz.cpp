// The LINK Mobility delivery report body (POST /v1/webhooks/sms/linkmobility/...): a value or
// an Error (no exception), fields in their documented ranges, and a round trip.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "adapters/sms/linkmobility/delivery_report.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

namespace linkmobility = visitpay::adapters::sms::linkmobility;
using visitpay::common::ErrorCode;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto report = linkmobility::parse_delivery_report(body);

  linkmobility::LinkMobilityReports reports;
  visitpay::ports::InboundWebhook webhook{body,
                                          [](std::string_view) { return std::string_view{}; }};
  auto sms = reports.parse(webhook);
  FUZZ_CHECK(sms.ok() == report.ok());

  if (!report) {
    const auto code = report.error().code;
    FUZZ_CHECK(code == ErrorCode::malformed_json || code == ErrorCode::validation_failed);
    if (code == ErrorCode::validation_failed) FUZZ_CHECK(report.error().fields.size() == 1);
    return 0;
  }
  const auto& r = report.value();
  FUZZ_CHECK(!r.message_id.empty());
  FUZZ_CHECK(r.part >= 0 && r.part < 255);
  FUZZ_CHECK(r.segments >= 0 && r.segments <= 255);
  FUZZ_CHECK(sms->message_id == r.message_id && sms->reference == r.ref_id && sms->part == r.part &&
             sms->segments == r.segments && sms->result_code == r.result_code &&
             sms->outcome == linkmobility::classify_result_code(r.result_code));

  // The report as LINK would send it for the same part reads the same.
  nlohmann::json again = {{"id", r.message_id + "$" + std::to_string(r.part)},
                          {"resultCode", r.result_code},
                          {"refId", r.ref_id.empty() ? nlohmann::json() : nlohmann::json(r.ref_id)},
                          {"segments", r.segments},
                          {"timestamp", r.timestamp}};
  auto reparsed = linkmobility::parse_delivery_report(again.dump());
  FUZZ_CHECK(reparsed.ok());
  FUZZ_CHECK(reparsed->message_id == r.message_id && reparsed->part == r.part &&
             reparsed->ref_id == r.ref_id && reparsed->result_code == r.result_code &&
             reparsed->segments == r.segments && reparsed->timestamp == r.timestamp);
  return 0;
}
