#pragma once

#include <string_view>

#include "adapters/http/http_client.hpp"
#include "adapters/payment/swedbankpay/swedbankpay_provider.hpp"
#include "common/result.hpp"
#include "ports/adapter_registry.hpp"

namespace visitpay::adapters::payment::swedbankpay {

inline constexpr std::string_view kAdapterId = "payment.swedbankpay";

// The account's own keys: token_file|token_env (secret), payee_id, payee_name (required).
common::Result<SwedbankPayConfig> parse_settings(const ports::AdapterAccount& account,
                                                 const ports::AdapterContext& context);

// Registers `payment.swedbankpay`, whose providers send their requests through `client`.
common::Result<void> register_adapter(ports::AdapterRegistry& registry, http::HttpClient& client);

}  // namespace visitpay::adapters::payment::swedbankpay
