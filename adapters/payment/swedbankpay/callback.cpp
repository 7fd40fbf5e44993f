#include "adapters/payment/swedbankpay/callback.hpp"

#include <nlohmann/json.hpp>

namespace visitpay::adapters::payment::swedbankpay {

using common::ErrorCode;
using common::make_error;

common::Result<Callback> parse_callback(std::string_view body) {
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return make_error(ErrorCode::malformed_json, "the callback body is not a JSON object");
  }
  Callback c;
  // v3.1: {"orderReference", "paymentOrder": {"id", "instrument", "number"}, "payment",
  // "transaction"}; v3.0 has the same paymentOrder.id.
  const auto order = json.find("paymentOrder");
  if (order != json.end() && order->is_object()) {
    const auto id = order->find("id");
    if (id != order->end() && id->is_string()) c.order_id = id->get<std::string>();
  }
  constexpr std::string_view kPrefix = "/psp/paymentorders/";
  if (c.order_id.size() <= kPrefix.size() || c.order_id.compare(0, kPrefix.size(), kPrefix) != 0) {
    auto error = make_error(ErrorCode::validation_failed, "the callback names no payment order");
    error.fields.push_back({"/paymentOrder/id", "required: the payment order's id"});
    return error;
  }
  const auto reference = json.find("orderReference");
  if (reference != json.end() && reference->is_string()) {
    c.order_reference = reference->get<std::string>();
  }
  return c;
}

common::Result<ports::PaymentHint> SwedbankPayNotifications::parse(
    const ports::InboundWebhook& webhook) const {
  auto callback = parse_callback(webhook.body);
  if (!callback) return std::move(callback).error();
  return ports::PaymentHint{std::move(callback.value().order_id),
                            std::move(callback.value().order_reference)};
}

}  // namespace visitpay::adapters::payment::swedbankpay
