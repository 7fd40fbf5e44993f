// The Swedbank Pay payment callback body (POST /v1/webhooks/payment/swedbankpay/...): whatever
// arrives, a value or an Error comes back (no exception), and what is accepted round-trips.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "adapters/payment/swedbankpay/callback.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

namespace swedbankpay = visitpay::adapters::payment::swedbankpay;
using visitpay::common::ErrorCode;

constexpr std::string_view kPrefix = "/psp/paymentorders/";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto callback = swedbankpay::parse_callback(body);

  swedbankpay::SwedbankPayNotifications notifications;
  visitpay::ports::InboundWebhook webhook{body,
                                          [](std::string_view) { return std::string_view{}; }};
  auto hint = notifications.parse(webhook);
  FUZZ_CHECK(hint.ok() == callback.ok());

  if (!callback) {
    const auto code = callback.error().code;
    FUZZ_CHECK(code == ErrorCode::malformed_json || code == ErrorCode::validation_failed);
    if (code == ErrorCode::validation_failed) FUZZ_CHECK(!callback.error().fields.empty());
    return 0;
  }
  const auto& c = callback.value();
  FUZZ_CHECK(c.order_id.size() > kPrefix.size() && c.order_id.starts_with(kPrefix));
  FUZZ_CHECK(hint->order_id == c.order_id && hint->order_reference == c.order_reference);

  // What we read back out, sent again in the v3.1 shape, reads the same.
  nlohmann::json again = {{"paymentOrder", {{"id", c.order_id}, {"instrument", "CreditCard"}}}};
  if (!c.order_reference.empty()) again["orderReference"] = c.order_reference;
  auto reparsed = swedbankpay::parse_callback(again.dump());
  FUZZ_CHECK(reparsed.ok());
  FUZZ_CHECK(reparsed->order_id == c.order_id && reparsed->order_reference == c.order_reference);
  return 0;
}
