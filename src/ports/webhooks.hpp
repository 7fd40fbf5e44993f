#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace visitpay::ports {

// An inbound provider notification as an adapter's parser sees it: no HTTP library types.
struct InboundWebhook {
  std::string_view body;
  // A request header by (case-insensitive) name; "" when absent. Signed webhooks verify with it.
  std::function<std::string_view(std::string_view name)> header;
};

// A payment callback is only a hint: it names the order whose status the core then re-reads
// from the provider (the GET is the truth, never the callback body).
struct PaymentHint {
  std::string order_id;  // the provider's opaque order id, as PaymentOrder::id
  // Ours as given at create (the session id), when the callback carries it: lets an order the
  // service never kept (a create whose answer was lost) be looked at. Unverified until the GET.
  std::string order_reference;
};

// Failures: malformed_json, or validation_failed naming the bad field (the route answers with
// them, so the provider's logs show why a notification was refused).
class PaymentNotifications {
 public:
  virtual ~PaymentNotifications() = default;
  virtual common::Result<PaymentHint> parse(const InboundWebhook& webhook) const = 0;
};

// What one delivery report says about its message (or one part of it). `undetermined` is final
// but says neither delivered nor not delivered (the gateway lost track): no fee can count as
// disclosed, and nothing starts the invoice path early either.
enum class DeliveryOutcome { in_progress, delivered, failed, undetermined };

// What an SMS delivery report says, in the core's words. The adapter owns the vendor's result
// codes and their classification; `result_code` is kept only to be recorded as the vendor gave it.
// A long SMS travels as several parts and each part gets its own report: `part` says which (0 for
// a single-part message), and `segments`, when the gateway says so, how many parts there are.
struct SmsReport {
  std::string message_id;  // SmsAccepted::message_id of the send it reports on (no part suffix)
  std::string reference;   // SmsMessage::reference echoed back ("" when the gateway omits it)
  int part = 0;
  int segments = 0;  // 0: not stated
  int result_code = 0;
  DeliveryOutcome outcome = DeliveryOutcome::in_progress;
};

class SmsReports {
 public:
  virtual ~SmsReports() = default;
  virtual common::Result<SmsReport> parse(const InboundWebhook& webhook) const = 0;
};

}  // namespace visitpay::ports
