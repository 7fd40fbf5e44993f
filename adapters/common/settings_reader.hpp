#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "ports/adapter_factory.hpp"

namespace visitpay::adapters {

// Reads an adapter's own keys from its account section (ports::AdapterAccount::settings) the way
// the core reads its config: typed, every problem named by its key's path, unknown keys fatal,
// so a typo never silently falls back to a default.
class SettingsReader {
 public:
  explicit SettingsReader(const ports::AdapterAccount& account);

  void string(const std::string& key, std::string& out, bool required = false);
  // A secret the core resolved from "<key>_file" / "<key>_env"; writing "<key>" inline is refused.
  void secret(const std::string& key, std::string& out);

  // Ok, or bad_request listing every problem (including keys and secrets nobody read).
  common::Result<void> finish();

 private:
  const ports::AdapterAccount& account_;
  nlohmann::json settings_;
  std::set<std::string, std::less<>> seen_;
  std::set<std::string, std::less<>> secrets_seen_;
  std::vector<std::string> problems_;
};

}  // namespace visitpay::adapters
