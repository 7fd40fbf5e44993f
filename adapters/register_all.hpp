#pragma once

#include "adapters/http/http_client.hpp"
#include "common/result.hpp"
#include "ports/adapter_registry.hpp"

namespace visitpay::adapters {

// What the adapters of this build share.
struct AdapterDeps {
  http::HttpClient& http;
};

// Registers every payment and SMS adapter of this build under its id. The one place that names
// them: adding a provider is a folder with a register_adapter() and a line here.
common::Result<void> register_all(ports::AdapterRegistry& registry, AdapterDeps deps);

}  // namespace visitpay::adapters
