#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "domain/checkout.hpp"

namespace visitpay::config {

// The company that issues the clinic's invoices (one gapless invoice series each).
struct LegalEntity {
  std::string name;
  std::string org_number;           // 9 digits, MOD11-checked
  bool foretaksregisteret = false;  // AS/ASA/NUF print "Foretaksregisteret"
  bool vat_registered = false;
  std::string bank_account;  // 11 digits, MOD11-checked
};

struct Clinic {
  std::string id;
  std::string display_name;  // used in SMS text
  LegalEntity legal_entity;
  domain::Ore invoice_fee_ore = 0;
  std::chrono::seconds payment_window{std::chrono::hours(48)};
  int invoice_due_days = 14;
};

struct HttpConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  int threads = 2;
  std::size_t body_limit_bytes = std::size_t{64} * 1024;
  std::size_t header_limit_bytes = std::size_t{8} * 1024;
  std::chrono::milliseconds read_timeout{15000};
  std::chrono::milliseconds write_timeout{15000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds shutdown_grace{10000};
};

struct DatabaseConfig {
  std::string url;  // libpq conninfo or URI
  std::size_t pool_size = 8;
  std::chrono::milliseconds acquire_timeout{3000};
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds statement_timeout{5000};
};

struct AuthConfig {
  std::chrono::seconds token_cache_ttl{30};
};

struct Config {
  std::string environment = "production";  // "production" | "development"
  common::LogLevel log_level = common::LogLevel::info;
  HttpConfig http;
  DatabaseConfig database;
  AuthConfig auth;
  domain::CheckoutRules checkout;
  common::Bytes lookup_key;  // HMAC key for fingerprints and look-ups; secret, never printed
  std::vector<Clinic> clinics;

  const Clinic* find_clinic(std::string_view id) const;
};

// Reads the environment; injectable so tests need not touch the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

// Parses the config document, then applies VISITPAY_* overrides. Unknown keys and unknown
// VISITPAY_* variables are errors, so a typo never silently falls back to a default.
common::Result<Config> parse_config(std::string_view json_text, const EnvLookup& env);
common::Result<Config> load_config(const std::string& path, const EnvLookup& env);

std::optional<std::chrono::seconds> parse_duration(
    std::string_view text);  // "48h", "2m", "30s", "7d"
bool valid_org_number(std::string_view digits);
bool valid_bank_account(std::string_view text);  // "1234.56.78903" or "12345678903"

}  // namespace visitpay::config

namespace visitpay::config {
// Names of VISITPAY_* variables in `environ_list` that this build does not know.
std::vector<std::string> unknown_visitpay_env(char** environ_list);
}  // namespace visitpay::config
