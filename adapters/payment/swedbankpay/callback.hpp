#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "ports/webhooks.hpp"

namespace visitpay::adapters::payment::swedbankpay {

// What a v3.1 (or v3.0) callback points at. The callback is unsigned and only a hint: the
// receiver GETs the payment order to learn what happened (providers.md §1.4).
struct Callback {
  std::string order_id;         // "/psp/paymentorders/<id>"
  std::string order_reference;  // ours (the session id), when present
};

// validation_failed naming the missing field, or malformed_json.
common::Result<Callback> parse_callback(std::string_view body);

// The callback behind ports::PaymentNotifications: the core learns only which order to re-read.
class SwedbankPayNotifications final : public ports::PaymentNotifications {
 public:
  common::Result<ports::PaymentHint> parse(const ports::InboundWebhook& webhook) const override;
};

}  // namespace visitpay::adapters::payment::swedbankpay
