#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "ports/webhooks.hpp"

namespace visitpay::adapters::sms::linkmobility {

// A delivery report LINK POSTs to a gate (providers.md §8.3, PDF pp. 22-27); unknown fields are
// ignored. A multi-part message gets one report per part, its `id` suffixed "$<part>"
// ("abc123$0" is the first part of "abc123"); a single-part message's report carries the bare id.
struct DeliveryReport {
  std::string message_id;  // "id" without the part suffix: the messageId the send returned
  int part = 0;            // the "$n" suffix; 0 without one
  std::string ref_id;      // "refId": our reference ("" when null)
  int result_code = 0;
  int segments = 0;
  std::string timestamp;
};

// validation_failed naming the bad field (JSON pointer), or malformed_json.
common::Result<DeliveryReport> parse_delivery_report(std::string_view json);

// LINK's result-code table (PDF pp. 24-26, providers.md §8.3), code by code:
//   in_progress (TEMP): 1000 sent to operator, 1005 queued, 1007 delivered but billing delayed,
//     1008 billed before send, 1011 billed and sent, 1012 delayed, 1013 sent, bill delayed;
//     and any code the table does not list (waiting is harmless: the deadline ends it).
//   delivered (FINAL): 1001 billed and delivered.
//   undetermined (FINAL, delivery and billing unknown): 4 timeout, 5 operator unknown error,
//     1010 expired with no operator report.
//   failed (FINAL, not delivered): 0, 1 (a *temporary* routing error, yet final for this
//     message), 2, 3 max throttling, 6, 104, 105, 1002-1004, 1006, 1009 (billed, not delivered),
//     2000-2003, 2100-2102, 2103 (no FINAL/TEMP label, "not delivered, not billed": final),
//     2104-2107, 2200-2207, 3000-3002, 4000-4007.
ports::DeliveryOutcome classify_result_code(int code);

// The delivery report behind ports::SmsReports, its result code classified here (the core never
// sees LINK's codes as anything but a number to record).
class LinkMobilityReports final : public ports::SmsReports {
 public:
  common::Result<ports::SmsReport> parse(const ports::InboundWebhook& webhook) const override;
};

}  // namespace visitpay::adapters::sms::linkmobility
