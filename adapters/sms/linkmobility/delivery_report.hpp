#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "ports/webhooks.hpp"

namespace visitpay::adapters::sms::linkmobility {

// A delivery report LINK POSTs to the gate (providers.md §3.1); unknown fields are ignored.
struct DeliveryReport {
  std::string message_id;  // "id": the messageId the send returned
  std::string ref_id;      // "refId": our reference
  int result_code = 0;
  int segments = 0;
  std::string timestamp;
};

// validation_failed naming the bad field (JSON pointer), or malformed_json.
common::Result<DeliveryReport> parse_delivery_report(std::string_view json);

enum class DeliveryOutcome { in_progress, delivered, failed };

// Follows providers.md §3.1 (codes and names from deveel ResultCodes.cs):
// delivered: 1001 billed and delivered, 1007 delivered (billing delayed).
// failed, final: 0, 2, 5, 6, 104, 105, 1002 expired, 1003 deleted, 1004 mobile full,
//   1006 not delivered, 1009 billed not delivered, 1010 expired, 2000-2999 (source,
//   destination, charging), 3000-4999 (encoding, content).
// in_progress, not final: 1000 sent to operator, 1005 queued, 1008, 1011-1013 (billing and
//   delay variants), the temporary errors 1 (routing) and 4 (timeout), 3 (throttling: not
//   listed as final; a wrong "failed" would start the invoice path at once, a wrong
//   "in_progress" only waits for the deadline), and any code not listed.
DeliveryOutcome classify_result_code(int code);

// The delivery report behind ports::SmsReports, its result code classified here (the core never
// sees LINK's codes as anything but a number to record).
class LinkMobilityReports final : public ports::SmsReports {
 public:
  common::Result<ports::SmsReport> parse(const ports::InboundWebhook& webhook) const override;
};

}  // namespace visitpay::adapters::sms::linkmobility
