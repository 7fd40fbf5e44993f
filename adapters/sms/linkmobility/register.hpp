#pragma once

#include <string_view>

#include "adapters/http/http_client.hpp"
#include "adapters/sms/linkmobility/linkmobility_gateway.hpp"
#include "common/result.hpp"
#include "ports/adapter_registry.hpp"

namespace visitpay::adapters::sms::linkmobility {

inline constexpr std::string_view kAdapterId = "sms.linkmobility";

// The account's own keys: username, password_file|password_env (secret), platform_id,
// platform_partner_id (required); source (default sender id, validated as sender_ton() says),
// delivery_report_gate (the gate id LINK Support configured; without it no reports are asked for).
common::Result<LinkMobilityConfig> parse_settings(const ports::AdapterAccount& account);

// Registers `sms.linkmobility`, whose gateways send through `client`.
common::Result<void> register_adapter(ports::AdapterRegistry& registry, http::HttpClient& client);

}  // namespace visitpay::adapters::sms::linkmobility
