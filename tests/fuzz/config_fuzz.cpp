// The config loader from JSON text (config::parse_config), with a fixed environment. Secrets
// named by "<key>_file" are read from disk: those paths are pointed at fixture files first, so a
// fuzzed config never reads an arbitrary file (/dev/zero, a FIFO).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

using nlohmann::json;

std::string g_fixtures;  // a private directory with the secret files

void write_file(const std::string& path, std::string_view text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Points every "<key>_file" string at a fixture (the same input always at the same one).
// True when something was rewritten.
bool confine_files(json& node) {
  bool changed = false;
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string& key = it.key();
      if (key.size() >= 5 && key.compare(key.size() - 5, 5, "_file") == 0 && it->is_string()) {
        static const char* const kNames[] = {"secret", "hex_key", "empty", "missing"};
        const auto pick = std::hash<std::string>{}(it->get<std::string>()) % 4;
        *it = g_fixtures + "/" + kNames[pick];
        changed = true;
      } else {
        changed = confine_files(*it) || changed;
      }
    }
  } else if (node.is_array()) {
    for (auto& element : node)
      changed = confine_files(element) || changed;
  }
  return changed;
}

std::optional<std::string> fixed_env(const std::string& name) {
  if (name == "DATABASE_URL") return "postgresql://visitpay@127.0.0.1/visitpay";
  if (name.rfind("MOCK_", 0) == 0 || name.rfind("FUZZ_", 0) == 0) return "fuzz-secret-" + name;
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  char dir[] = "/tmp/visitpay-config-fuzz-XXXXXX";
  if (mkdtemp(dir) == nullptr) std::abort();
  g_fixtures = dir;
  write_file(g_fixtures + "/secret", "s3cret-value\n");
  write_file(g_fixtures + "/hex_key", std::string(64, 'a') + "\n");
  write_file(g_fixtures + "/empty", "");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (!doc.is_discarded() && confine_files(doc)) text = doc.dump();

  auto config = visitpay::config::parse_config(text, fixed_env);
  if (!config) {
    FUZZ_CHECK(!config.error().detail.empty());
    return 0;
  }
  const auto& c = config.value();
  FUZZ_CHECK(c.environment == "production" || c.environment == "development");
  FUZZ_CHECK(!c.clinics.empty() && !c.database.url.empty());
  for (const auto& clinic : c.clinics) {
    FUZZ_CHECK(c.find_clinic(clinic.id) != nullptr);
    FUZZ_CHECK(visitpay::config::valid_org_number(clinic.legal_entity.org_number));
    FUZZ_CHECK(clinic.legal_entity.postal_code.size() == 4 && !clinic.legal_entity.city.empty());
    FUZZ_CHECK(clinic.legal_entity.kid_length >= 4 &&
               clinic.legal_entity.kid_length <= visitpay::domain::kKidMaxLength);
    if (!clinic.payment_account.empty()) {
      FUZZ_CHECK(c.find_payment_account(clinic.payment_account) != nullptr);
      FUZZ_CHECK(c.find_sms_account(clinic.sms_account) != nullptr);
    }
  }
  // An adapter's settings are the JSON object it parses at start-up.
  for (const auto& account : c.payment_accounts) {
    FUZZ_CHECK(json::parse(account.settings, nullptr, false).is_object());
  }
  for (const auto& account : c.sms_accounts) {
    FUZZ_CHECK(json::parse(account.settings, nullptr, false).is_object());
  }
  FUZZ_CHECK(c.http.body_limit_bytes >= 1024 && c.http.header_limit_bytes >= 1024);
  FUZZ_CHECK(c.http.threads >= 1 && c.http.max_connections >= 1);
  return 0;
}
