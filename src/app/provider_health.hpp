#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/time_format.hpp"

namespace visitpay::app {

// What this instance last heard from each provider account about our own configuration: a
// provider that refuses our credentials, platform or gate (common::ErrorCode::
// provider_misconfigured) cannot be fixed by retrying, only by ops. The outbox work records it
// here and waits; /readyz shows it; the account's next accepted request clears it.
// In-process and per instance (like the metrics): an instance that sent nothing knows nothing.
class ProviderHealth {
 public:
  struct ConfigError {
    std::string account;   // "sms:<name>" / "payment:<name>"
    std::string provider;  // adapter id, e.g. "sms.linkmobility"
    std::string code;      // the provider's code ("106100") or "http_<status>"
    std::string detail;    // no personal data (adapter error details never hold any)
    common::Timestamp since{};
    common::Timestamp last_seen{};
    std::int64_t count = 0;
  };

  void config_error(const std::string& account, const std::string& provider,
                    const std::string& code, const std::string& detail, common::Timestamp at);
  void ok(const std::string& account);
  // The account's open configuration error, if any.
  std::optional<ConfigError> config_error_of(const std::string& account) const;
  std::vector<ConfigError> config_errors() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, ConfigError, std::less<>> errors_;
};

}  // namespace visitpay::app
