#include "app/provider_health.hpp"

namespace visitpay::app {

void ProviderHealth::config_error(const std::string& account, const std::string& provider,
                                  const std::string& code, const std::string& detail,
                                  common::Timestamp at) {
  std::lock_guard lock(mutex_);
  auto [it, added] = errors_.try_emplace(account);
  auto& e = it->second;
  if (added || e.code != code) {
    e.account = account;
    e.since = at;
    e.count = 0;
  }
  e.provider = provider;
  e.code = code;
  e.detail = detail;
  e.last_seen = at;
  ++e.count;
}

void ProviderHealth::ok(const std::string& account) {
  std::lock_guard lock(mutex_);
  errors_.erase(account);
}

std::optional<ProviderHealth::ConfigError> ProviderHealth::config_error_of(
    const std::string& account) const {
  std::lock_guard lock(mutex_);
  const auto it = errors_.find(account);
  if (it == errors_.end()) return std::nullopt;
  return it->second;
}

std::vector<ProviderHealth::ConfigError> ProviderHealth::config_errors() const {
  std::lock_guard lock(mutex_);
  std::vector<ConfigError> out;
  out.reserve(errors_.size());
  for (const auto& [account, error] : errors_)
    out.push_back(error);
  return out;
}

}  // namespace visitpay::app
