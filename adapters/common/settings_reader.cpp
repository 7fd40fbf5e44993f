#include "adapters/common/settings_reader.hpp"

namespace visitpay::adapters {

using common::ErrorCode;
using common::make_error;

SettingsReader::SettingsReader(const ports::AdapterAccount& account)
    : account_(account),
      settings_(nlohmann::json::parse(account.settings, nullptr, /*allow_exceptions=*/false)) {
  if (!settings_.is_object()) {
    problems_.push_back(account_.path + ": must be an object");
    settings_ = nlohmann::json::object();
  }
}

void SettingsReader::string(const std::string& key, std::string& out, bool required) {
  seen_.insert(key);
  const auto it = settings_.find(key);
  if (it == settings_.end()) {
    if (required) problems_.push_back(account_.path + "/" + key + ": required");
    return;
  }
  if (!it->is_string()) {
    problems_.push_back(account_.path + "/" + key + ": must be a string");
    return;
  }
  out = it->get<std::string>();
}

void SettingsReader::secret(const std::string& key, std::string& out) {
  secrets_seen_.insert(key);
  if (settings_.contains(key)) {
    seen_.insert(key);
    // The value is never echoed: it is the secret.
    problems_.push_back(account_.path + "/" + key + ": secrets are not accepted inline; use " +
                        key + "_file or " + key + "_env");
    return;
  }
  const auto it = account_.secrets.find(key);
  if (it == account_.secrets.end()) {
    problems_.push_back(account_.path + ": " + key + "_file or " + key + "_env is required");
    return;
  }
  out = it->second;
}

common::Result<void> SettingsReader::finish() {
  for (const auto& [key, value] : settings_.items()) {
    if (!seen_.count(key)) problems_.push_back(account_.path + "/" + key + ": unknown key");
  }
  for (const auto& [key, value] : account_.secrets) {
    if (!secrets_seen_.count(key)) {
      problems_.push_back(account_.path + "/" + key + "_file|" + key + "_env: unknown key");
    }
  }
  if (problems_.empty()) return common::Ok{};
  std::string detail = "invalid configuration:";
  for (const auto& p : problems_)
    detail += "\n  " + p;
  return make_error(ErrorCode::bad_request, detail);
}

}  // namespace visitpay::adapters
