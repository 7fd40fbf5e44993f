#include "config/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace visitpay::config {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using Env = std::map<std::string, std::string>;

const std::string kLookupKeyHex =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

EnvLookup env_of(Env vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Env base_env() {
  return {{"DATABASE_URL", "postgresql://localhost/visitpay"},
          {"VISITPAY_LOOKUP_KEY", kLookupKeyHex},
          {"MOCK_SWEDBANKPAY_TOKEN", "test-token"},
          {"MOCK_LINKMOBILITY_PASSWORD", "secret"}};
}

std::string local_json() {
  const std::string path = std::string(VISITPAY_SOURCE_DIR) + "/deploy/config/local.json";
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The smallest valid document: one clinic, everything else defaulted.
Json minimal() {
  return Json::parse(R"({
    "database": { "url": "postgresql://db.example/visitpay" },
    "clinics": [ {
      "id": "oslo-sentrum",
      "display_name": "Oslo Sentrum Klinikk",
      "legal_entity": {
        "name": "Oslo Sentrum Klinikk AS",
        "org_number": "912345688",
        "bank_account": "1503.20.80003",
        "address": { "street": "Karl Johans gate 12", "postal_code": "0154", "city": "Oslo" }
      }
    } ]
  })");
}

common::Result<Config> parse(const Json& doc, const Env& env = {}) {
  return parse_config(doc.dump(), env_of(env));
}

// Parses, expects failure, and returns the error detail.
std::string error_of(const Json& doc, const Env& env = {}) {
  auto result = parse(doc, env);
  EXPECT_FALSE(result.ok()) << doc.dump();
  return result.ok() ? std::string() : result.error().detail;
}

std::string error_of_text(const std::string& text, const Env& env) {
  auto result = parse_config(text, env_of(env));
  EXPECT_FALSE(result.ok());
  return result.ok() ? std::string() : result.error().detail;
}

TEST(ParseConfig, CommittedLocalConfigParsesWithEnvironmentSecrets) {
  const std::string text = local_json();
  ASSERT_FALSE(text.empty());
  auto result = parse_config(text, env_of(base_env()));
  ASSERT_TRUE(result.ok()) << result.error().detail;
  const Config& c = result.value();
  EXPECT_EQ(c.environment, "development");
  EXPECT_EQ(c.log_level, common::LogLevel::info);
  EXPECT_EQ(c.http.host, "127.0.0.1");
  EXPECT_EQ(c.http.port, 8080);
  EXPECT_EQ(c.http.threads, 2);
  EXPECT_EQ(c.http.body_limit_bytes, 65536u);
  EXPECT_EQ(c.http.read_timeout, std::chrono::milliseconds(15000));
  EXPECT_EQ(c.database.url, "postgresql://localhost/visitpay");
  EXPECT_EQ(c.database.pool_size, 8u);
  EXPECT_EQ(c.auth.token_cache_ttl, std::chrono::seconds(30));
  EXPECT_EQ(c.checkout.max_lines, 50u);
  EXPECT_TRUE(c.checkout.allow_synthetic_national_ids);
  common::Bytes key;
  ASSERT_TRUE(common::from_hex(kLookupKeyHex, key));
  EXPECT_EQ(c.lookup_key, key);

  ASSERT_EQ(c.clinics.size(), 2u);
  const Clinic* oslo = c.find_clinic("oslo-sentrum");
  ASSERT_NE(oslo, nullptr);
  EXPECT_EQ(oslo->display_name, "Oslo Sentrum Klinikk");
  EXPECT_EQ(oslo->legal_entity.org_number, "912345688");
  EXPECT_EQ(oslo->legal_entity.bank_account, "1503.20.80003");
  EXPECT_TRUE(oslo->legal_entity.foretaksregisteret);
  EXPECT_FALSE(oslo->legal_entity.vat_registered);
  EXPECT_EQ(oslo->invoice_fee_ore, 3900);
  EXPECT_EQ(oslo->payment_window, std::chrono::hours(48));
  EXPECT_EQ(oslo->invoice_due_days, 14);
  ASSERT_NE(c.find_clinic("bergen-brygge"), nullptr);
  EXPECT_EQ(c.find_clinic("bergen-brygge")->invoice_fee_ore, 2900);
  EXPECT_EQ(c.find_clinic("trondheim"), nullptr);
}

TEST(ParseConfig, CommittedLocalConfigNeedsADatabaseUrl) {
  Env env = base_env();
  env.erase("DATABASE_URL");
  EXPECT_THAT(error_of_text(local_json(), env), HasSubstr("/database/url: required"));
}

TEST(ParseConfig, MinimalDocumentUsesDefaults) {
  auto result = parse(minimal());
  ASSERT_TRUE(result.ok()) << result.error().detail;
  const Config& c = result.value();
  EXPECT_EQ(c.environment, "production");
  EXPECT_EQ(c.database.url, "postgresql://db.example/visitpay");
  EXPECT_FALSE(c.checkout.allow_synthetic_national_ids);
  EXPECT_EQ(c.clinics.at(0).payment_window, std::chrono::hours(48));
  EXPECT_EQ(c.clinics.at(0).invoice_due_days, 14);
  EXPECT_TRUE(c.lookup_key.empty());
}

TEST(ParseConfig, EdgeLimitsHaveDefaultsAndAreRead) {
  auto defaults = parse(minimal());
  ASSERT_TRUE(defaults.ok()) << defaults.error().detail;
  EXPECT_EQ(defaults->http.max_connections, 1024u);
  EXPECT_EQ(defaults->http.max_requests_per_connection, 1000u);
  EXPECT_EQ(defaults->http.idle_timeout, std::chrono::milliseconds(15000));
  EXPECT_EQ(defaults->auth.failed_token_ttl, std::chrono::seconds(300));
  EXPECT_EQ(defaults->auth.failures_burst, 20);
  EXPECT_EQ(defaults->auth.failures_per_minute, 30);

  auto doc = minimal();
  doc["http"] = {{"max_connections", 300}, {"max_requests_per_connection", 7}};
  doc["auth"] = {{"failed_token_cache_seconds", 0},
                 {"failures_per_address_burst", 0},
                 {"failures_per_address_per_minute", 5}};
  auto set = parse(doc);
  ASSERT_TRUE(set.ok()) << set.error().detail;
  EXPECT_EQ(set->http.max_connections, 300u);
  EXPECT_EQ(set->http.max_requests_per_connection, 7u);
  EXPECT_EQ(set->auth.failed_token_ttl, std::chrono::seconds(0));
  EXPECT_EQ(set->auth.failures_burst, 0);
  EXPECT_EQ(set->auth.failures_per_minute, 5);

  doc = minimal();
  doc["http"] = {{"max_connections", 0}};
  EXPECT_THAT(error_of(doc), HasSubstr("/http/max_connections: must be an integer from 1"));
  doc = minimal();
  doc["auth"] = {{"failures_per_address_per_minute", 0}};
  EXPECT_THAT(error_of(doc),
              HasSubstr("/auth/failures_per_address_per_minute: must be an integer from 1"));
}

TEST(ParseConfig, CommentsAreAllowed) {
  const std::string text = "// local settings\n" + minimal().dump();
  EXPECT_TRUE(parse_config(text, env_of({})).ok());
}

TEST(ParseConfig, InvalidJsonIsRejected) {
  EXPECT_THAT(error_of_text("{\"clinics\": [", {}), HasSubstr("not valid JSON"));
}

TEST(ParseConfig, UnknownTopLevelKeyIsNamed) {
  auto doc = minimal();
  doc["databse"] = Json::object();
  EXPECT_THAT(error_of(doc), HasSubstr("/databse: unknown key"));
}

TEST(ParseConfig, UnknownNestedKeysAreNamedWithTheirPath) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/http/listen_port", "/http/listen_port: unknown key"},
      {"/database/password", "/database/password: unknown key"},
      {"/checkout/max_line", "/checkout/max_line: unknown key"},
      {"/secrets/lookup_key", "/secrets/lookup_key: unknown key"},
      {"/auth/ttl", "/auth/ttl: unknown key"},
      {"/clinics/0/fee", "/clinics/0/fee: unknown key"},
      {"/clinics/0/legal_entity/iban", "/clinics/0/legal_entity/iban: unknown key"},
  };
  for (const auto& [pointer, message] : cases) {
    auto doc = minimal();
    doc[Json::json_pointer(pointer)] = 1;
    EXPECT_THAT(error_of(doc), HasSubstr(message)) << pointer;
  }
}

TEST(ParseConfig, WrongTypesAreRejectedWithTheirPath) {
  const std::vector<std::tuple<std::string, Json, std::string>> cases = {
      {"/environment", 5, "/environment: must be a string"},
      {"/log_level", "verbose", "/log_level: must be debug, info, warn or error"},
      {"/http", Json::array(), "/http: must be an object"},
      {"/http/threads", "2", "/http/threads: must be an integer from 1 to 256"},
      {"/http/threads", 2.5, "/http/threads: must be an integer from 1 to 256"},
      {"/http/threads", 0, "/http/threads: must be an integer from 1 to 256"},
      {"/http/listen", "localhost", "/http/listen: must be host:port"},
      {"/http/read_timeout_ms", 0, "/http/read_timeout_ms: must be an integer from 1"},
      {"/database/pool_size", 1001, "/database/pool_size: must be an integer from 1 to 1000"},
      {"/database/url", 1, "/database/url: must be a string"},
      {"/checkout/allow_synthetic_national_ids", "yes",
       "/checkout/allow_synthetic_national_ids: must be true or false"},
      {"/clinics", Json::object(), "/clinics: must be an array"},
      {"/clinics/0", "oslo-sentrum", "/clinics/0: must be an object"},
      {"/clinics/0/payment_window", "2 days", "/clinics/0/payment_window: must be a duration"},
      {"/clinics/0/invoice_due_days", 91,
       "/clinics/0/invoice_due_days: must be an integer from 1 to 90"},
      {"/clinics/0/invoice_fee_ore", -1,
       "/clinics/0/invoice_fee_ore: must be an integer from 0 to 100000"},
      {"/clinics/0/invoice_fee_cost_ore", -1,
       "/clinics/0/invoice_fee_cost_ore: must be an integer from 0 to 100000"},
      {"/clinics/0/legal_entity/foretaksregisteret", 1,
       "/clinics/0/legal_entity/foretaksregisteret: must be true or false"},
  };
  for (const auto& [pointer, value, message] : cases) {
    auto doc = minimal();
    doc[Json::json_pointer(pointer)] = value;
    EXPECT_THAT(error_of(doc), HasSubstr(message)) << pointer << " = " << value.dump();
  }
}

TEST(ParseConfig, TheInvoiceFeeNeedsADocumentedCostItDoesNotExceed) {
  auto doc = minimal();
  doc["clinics"][0]["invoice_fee_ore"] = 1500;
  EXPECT_THAT(error_of(doc),
              HasSubstr("/clinics/0/invoice_fee_cost_ore: required with an invoice fee"));
  doc["clinics"][0]["invoice_fee_cost_ore"] = 1200;
  EXPECT_THAT(error_of(doc),
              HasSubstr("/clinics/0/invoice_fee_ore: must not exceed invoice_fee_cost_ore (1200"));
  doc["clinics"][0]["invoice_fee_cost_ore"] = 1500;
  const auto c = parse(doc);
  ASSERT_TRUE(c.ok()) << c.error().detail;
  EXPECT_EQ(c->clinics[0].invoice_fee_cost_ore, 1500);
  doc["clinics"][0]["invoice_fee_ore"] = 0;  // no fee: no cost to document
  doc["clinics"][0].erase("invoice_fee_cost_ore");
  EXPECT_TRUE(parse(doc).ok());
}

TEST(ParseConfig, HugeUnsignedIntegerIsOutOfRangeNotWrapped) {
  auto doc = minimal();
  doc["http"]["threads"] = std::numeric_limits<std::uint64_t>::max();
  EXPECT_THAT(error_of(doc), HasSubstr("/http/threads: must be an integer"));
}

TEST(ParseConfig, MissingClinicFieldsAreRequired) {
  auto doc = minimal();
  doc["clinics"][0].erase("display_name");
  doc["clinics"][0]["legal_entity"].erase("bank_account");
  const std::string detail = error_of(doc);
  EXPECT_THAT(detail, HasSubstr("/clinics/0/display_name: required"));
  EXPECT_THAT(detail, HasSubstr("/clinics/0/legal_entity/bank_account: required"));

  doc = minimal();
  doc["clinics"][0].erase("legal_entity");
  EXPECT_THAT(error_of(doc), HasSubstr("/clinics/0/legal_entity: required"));
}

TEST(ParseConfig, TheSellersBusinessAddressIsRequired) {
  auto config = parse(minimal());
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->clinics[0].legal_entity.street, "Karl Johans gate 12");
  EXPECT_EQ(config->clinics[0].legal_entity.postal_code, "0154");
  EXPECT_EQ(config->clinics[0].legal_entity.city, "Oslo");

  auto doc = minimal();
  doc["clinics"][0]["legal_entity"].erase("address");
  EXPECT_THAT(error_of(doc), HasSubstr("/clinics/0/legal_entity/address: required"));
  doc = minimal();
  doc["clinics"][0]["legal_entity"]["address"].erase("city");
  doc["clinics"][0]["legal_entity"]["address"]["postal_code"] = "154";
  const std::string detail = error_of(doc);
  EXPECT_THAT(detail, HasSubstr("/clinics/0/legal_entity/address/city: required"));
  EXPECT_THAT(detail, HasSubstr("/clinics/0/legal_entity/address/postal_code: must be 4 digits"));
}

TEST(ParseConfig, InvalidOrgNumberIsRejected) {
  auto doc = minimal();
  doc["clinics"][0]["legal_entity"]["org_number"] = "912345689";
  EXPECT_THAT(error_of(doc),
              HasSubstr("/clinics/0/legal_entity/org_number: not a valid organisation number"));
}

TEST(ParseConfig, InvalidBankAccountIsRejected) {
  auto doc = minimal();
  doc["clinics"][0]["legal_entity"]["bank_account"] = "1503.20.80004";
  EXPECT_THAT(error_of(doc),
              HasSubstr("/clinics/0/legal_entity/bank_account: not a valid Norwegian account"));
}

TEST(ParseConfig, KidSchemeOfTheBankAgreement) {
  auto config = parse(minimal());
  ASSERT_TRUE(config.ok());
  const auto& le = config->clinics[0].legal_entity;
  EXPECT_EQ(le.kid_algorithm, visitpay::domain::KidAlgorithm::mod10);
  EXPECT_EQ(le.kid_length, 10u);
  EXPECT_FALSE(le.kid_allow_dash);

  auto doc = minimal();
  doc["clinics"][0]["legal_entity"]["kid"] = {
      {"algorithm", "mod11"}, {"length", 12}, {"allow_dash", true}};
  config = parse(doc);
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->clinics[0].legal_entity.kid_algorithm, visitpay::domain::KidAlgorithm::mod11);
  EXPECT_EQ(config->clinics[0].legal_entity.kid_length, 12u);
  EXPECT_TRUE(config->clinics[0].legal_entity.kid_allow_dash);

  doc["clinics"][0]["legal_entity"]["kid"] = {{"algorithm", "luhn"}, {"length", 30}, {"x", 1}};
  const auto detail = error_of(doc);
  EXPECT_THAT(detail, HasSubstr("/clinics/0/legal_entity/kid/algorithm: must be mod10 or mod11"));
  EXPECT_THAT(detail,
              HasSubstr("/clinics/0/legal_entity/kid/length: must be an integer from 4 to 25"));
  EXPECT_THAT(detail, HasSubstr("/clinics/0/legal_entity/kid/x"));
}

TEST(ParseConfig, RemindersAreOffUnlessConfigured) {
  auto config = parse(minimal());
  ASSERT_TRUE(config.ok());
  EXPECT_FALSE(config->clinics[0].reminders.enabled);
  EXPECT_EQ(config->invoices.reminder_interval, std::chrono::hours(1));
}

TEST(ParseConfig, RemindersWithinTheLaw) {
  auto doc = minimal();
  doc["clinics"][0]["reminders"] = {
      {"fee_ore", 3500},
      {"purringer", 1},
      {"fee_purringer", 1},
      {"inkassovarsel", true},
      {"deadline_days", 21},
      {"collection", {{"agency", "Inkasso AS"}, {"dir", "/srv/collection/oslo"}}}};
  auto config = parse(doc);
  ASSERT_TRUE(config.ok()) << config.error().detail;
  const auto& clinic = config->clinics[0];
  EXPECT_TRUE(clinic.reminders.enabled);
  EXPECT_EQ(clinic.reminders.fee, 3500);
  EXPECT_EQ(clinic.reminders.deadline_days, 21);
  EXPECT_TRUE(clinic.reminders.collection);
  EXPECT_EQ(clinic.collection_agency, "Inkasso AS");
  EXPECT_EQ(clinic.collection_dir, "/srv/collection/oslo");

  // Shorter than the law's 14 days, or a fee for two purringer and an inkassovarsel: refused.
  doc["clinics"][0]["reminders"] = {{"deadline_days", 10},
                                    {"first_after_days", 7},
                                    {"purringer", 2},
                                    {"fee_purringer", 2},
                                    {"inkassovarsel", true},
                                    {"collection", {{"agency", "Inkasso AS"}}},
                                    {"typo", 1}};
  const auto detail = error_of(doc);
  EXPECT_THAT(detail, HasSubstr("/clinics/0/reminders/deadline_days: at least 14"));
  EXPECT_THAT(detail, HasSubstr("/clinics/0/reminders/first_after_days: at least 14"));
  EXPECT_THAT(detail, HasSubstr("/clinics/0/reminders/fee_purringer: at most 1"));
  EXPECT_THAT(detail, HasSubstr("/clinics/0/reminders/collection/dir: required"));
  EXPECT_THAT(detail, HasSubstr("/clinics/0/reminders/typo"));
}

TEST(ParseConfig, InvoiceSectionAndDirectoryOverride) {
  auto doc = minimal();
  doc["invoices"] = {{"sweep_interval_ms", 250},
                     {"sweep_batch", 100},
                     {"abort_retry_ms", 5000},
                     {"delivery_dir", "/srv/print"}};
  auto config = parse(doc);
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->invoices.sweep_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(config->invoices.sweep_batch, 100);
  EXPECT_EQ(config->invoices.abort_retry, std::chrono::milliseconds(5000));
  EXPECT_EQ(config->invoices.delivery_dir, "/srv/print");
  config = parse(doc, {{"VISITPAY_INVOICE_DIR", "/tmp/letters"}});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->invoices.delivery_dir, "/tmp/letters");
  doc["invoices"] = {{"sweep_batch", 0}, {"sweep_every", 1}};
  const auto detail = error_of(doc);
  EXPECT_THAT(detail, HasSubstr("/invoices/sweep_batch"));
  EXPECT_THAT(detail, HasSubstr("/invoices/sweep_every"));
}

TEST(ParseConfig, PrivacyRetentionPolicyAndOverride) {
  auto doc = minimal();
  auto config = parse(doc);
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->privacy.retention.paid, std::chrono::days(7));  // the defaults
  EXPECT_EQ(config->privacy.retention.cancelled, std::chrono::seconds(0));
  EXPECT_EQ(config->privacy.retention.bookkeeping_years, 5);
  EXPECT_EQ(config->privacy.purge_interval, std::chrono::minutes(1));

  doc["privacy"] = {
      {"retention",
       {{"paid", "2m"}, {"cancelled", "1h"}, {"bookkeeping_years", 10}, {"safety_net", "4400d"}}},
      {"purge_interval_ms", 5000},
      {"purge_batch", 50}};
  config = parse(doc);
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->privacy.retention.paid, std::chrono::minutes(2));
  EXPECT_EQ(config->privacy.retention.cancelled, std::chrono::hours(1));
  EXPECT_EQ(config->privacy.retention.bookkeeping_years, 10);
  EXPECT_EQ(config->privacy.retention.safety_net, std::chrono::days(4400));
  EXPECT_EQ(config->privacy.purge_interval, std::chrono::milliseconds(5000));
  EXPECT_EQ(config->privacy.purge_batch, 50);
  config = parse(doc, {{"VISITPAY_RETENTION_PAID", "30s"}});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->privacy.retention.paid, std::chrono::seconds(30));
  EXPECT_THAT(parse(doc, {{"VISITPAY_RETENTION_PAID", "soon"}}).error().detail,
              HasSubstr("VISITPAY_RETENTION_PAID"));

  // The safety net must outlast the bookkeeping period: 10 years + 1 do not fit in 4000 days.
  doc["privacy"]["retention"]["safety_net"] = "4000d";
  doc["privacy"]["retention"]["paid"] = "-1d";
  const auto detail = error_of(doc);
  EXPECT_THAT(detail, HasSubstr("/privacy/retention/safety_net: must be longer"));
  EXPECT_THAT(detail, HasSubstr("/privacy/retention/paid"));
}

TEST(ParseConfig, DuplicateClinicIdIsRejected) {
  auto doc = minimal();
  doc["clinics"].push_back(doc["clinics"][0]);
  EXPECT_THAT(error_of(doc), HasSubstr("/clinics/1/id: duplicate clinic id"));
}

TEST(ParseConfig, AtLeastOneClinicIsRequired) {
  auto doc = minimal();
  doc["clinics"] = Json::array();
  EXPECT_THAT(error_of(doc), HasSubstr("/clinics: at least one clinic is required"));
  doc.erase("clinics");
  EXPECT_THAT(error_of(doc), HasSubstr("/clinics: at least one clinic is required"));
}

TEST(ParseConfig, EnvironmentMustBeKnown) {
  auto doc = minimal();
  doc["environment"] = "staging";
  EXPECT_THAT(error_of(doc), HasSubstr("/environment: must be \"production\" or \"development\""));
  EXPECT_THAT(error_of(minimal(), {{"VISITPAY_ENVIRONMENT", "prod"}}), HasSubstr("/environment"));
}

TEST(ParseConfig, ReportsEveryProblemAtOnce) {
  auto doc = minimal();
  doc["extra"] = true;
  doc["http"]["threads"] = 0;
  doc["clinics"][0]["legal_entity"]["org_number"] = "123";
  const std::string detail = error_of(doc);
  EXPECT_THAT(detail, HasSubstr("/extra: unknown key"));
  EXPECT_THAT(detail, HasSubstr("/http/threads"));
  EXPECT_THAT(detail, HasSubstr("/clinics/0/legal_entity/org_number"));
}

TEST(ParseConfig, SecretsAreNotEchoedInErrors) {
  auto doc = minimal();
  doc["extra"] = true;
  const std::string detail =
      error_of(doc, {{"DATABASE_URL", "postgresql://app:s3cr3t-pw@db/visitpay"},
                     {"VISITPAY_LOOKUP_KEY", "deadbeefcafe"}});
  EXPECT_THAT(detail, Not(HasSubstr("s3cr3t-pw")));
  EXPECT_THAT(detail, Not(HasSubstr("deadbeefcafe")));
  EXPECT_THAT(detail, HasSubstr("VISITPAY_LOOKUP_KEY"));
}

TEST(ParseConfig, ListenOverrideSetsHostAndPort) {
  auto result = parse(minimal(), {{"VISITPAY_LISTEN", "0.0.0.0:9090"}});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(result->http.host, "0.0.0.0");
  EXPECT_EQ(result->http.port, 9090);

  auto doc = minimal();
  doc["http"]["listen"] = "127.0.0.1:8080";
  result = parse(doc, {{"VISITPAY_LISTEN", "127.0.0.2:0"}});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(result->http.host, "127.0.0.2");
  EXPECT_EQ(result->http.port, 0);
}

TEST(ParseConfig, InvalidListenOverrideIsRejected) {
  for (const char* value : {"localhost", ":8080", "localhost:", "localhost:65536", "localhost:80x",
                            "localhost:-1", ""}) {
    EXPECT_THAT(error_of(minimal(), {{"VISITPAY_LISTEN", value}}),
                HasSubstr("VISITPAY_LISTEN: must be host:port"))
        << value;
  }
}

TEST(ParseConfig, PoolSizeOverride) {
  auto result = parse(minimal(), {{"VISITPAY_DB_POOL_SIZE", "16"}});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(result->database.pool_size, 16u);
  for (const char* value : {"0", "1001", "-1", "abc", "16 ", "", "1e3", "+4"}) {
    EXPECT_THAT(error_of(minimal(), {{"VISITPAY_DB_POOL_SIZE", value}}),
                HasSubstr("VISITPAY_DB_POOL_SIZE: must be an integer from 1 to 1000"))
        << "[" << value << "]";
  }
}

TEST(ParseConfig, ThreadsOverride) {
  auto result = parse(minimal(), {{"VISITPAY_THREADS", "8"}});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(result->http.threads, 8);
  EXPECT_THAT(error_of(minimal(), {{"VISITPAY_THREADS", "257"}}), HasSubstr("VISITPAY_THREADS"));
}

TEST(ParseConfig, PaymentWindowOverrideAppliesToEveryClinic) {
  Env env = base_env();
  env["VISITPAY_PAYMENT_WINDOW"] = "2m";
  auto result = parse_config(local_json(), env_of(env));
  ASSERT_TRUE(result.ok()) << result.error().detail;
  ASSERT_EQ(result->clinics.size(), 2u);
  for (const auto& clinic : result->clinics) {
    EXPECT_EQ(clinic.payment_window, std::chrono::minutes(2)) << clinic.id;
  }
}

TEST(ParseConfig, InvalidPaymentWindowOverrideIsRejected) {
  for (const char* value : {"soon", "0m", "2", "2w", "-5m"}) {
    EXPECT_THAT(error_of(minimal(), {{"VISITPAY_PAYMENT_WINDOW", value}}),
                HasSubstr("VISITPAY_PAYMENT_WINDOW: must be a duration"))
        << value;
  }
}

TEST(ParseConfig, DatabaseUrlPrecedence) {
  // File value, then DATABASE_URL, then VISITPAY_DATABASE_URL.
  auto result = parse(minimal());
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->database.url, "postgresql://db.example/visitpay");

  result = parse(minimal(), {{"DATABASE_URL", "postgresql://generic/db"}});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->database.url, "postgresql://generic/db");

  result = parse(minimal(), {{"VISITPAY_DATABASE_URL", "postgresql://specific/db"}});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->database.url, "postgresql://specific/db");

  result = parse(minimal(), {{"DATABASE_URL", "postgresql://generic/db"},
                             {"VISITPAY_DATABASE_URL", "postgresql://specific/db"}});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->database.url, "postgresql://specific/db");
}

TEST(ParseConfig, MissingDatabaseUrlIsRejected) {
  auto doc = minimal();
  doc.erase("database");
  EXPECT_THAT(error_of(doc), HasSubstr("/database/url: required"));
  doc["database"]["url"] = "";
  EXPECT_THAT(error_of(doc), HasSubstr("/database/url: required"));
}

TEST(ParseConfig, LogLevelAndSyntheticIdOverrides) {
  auto result =
      parse(minimal(), {{"VISITPAY_LOG_LEVEL", "debug"}, {"VISITPAY_ALLOW_SYNTHETIC_IDS", "true"}});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(result->log_level, common::LogLevel::debug);
  EXPECT_TRUE(result->checkout.allow_synthetic_national_ids);

  auto doc = minimal();
  doc["checkout"]["allow_synthetic_national_ids"] = true;
  result = parse(doc, {{"VISITPAY_ALLOW_SYNTHETIC_IDS", "0"}});
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->checkout.allow_synthetic_national_ids);

  EXPECT_THAT(error_of(minimal(), {{"VISITPAY_LOG_LEVEL", "loud"}}),
              HasSubstr("VISITPAY_LOG_LEVEL"));
  EXPECT_THAT(error_of(minimal(), {{"VISITPAY_ALLOW_SYNTHETIC_IDS", "yes"}}),
              HasSubstr("VISITPAY_ALLOW_SYNTHETIC_IDS: must be true or false"));
}

TEST(ParseConfig, LookupKeyMustBeAtLeastSixtyFourHexCharacters) {
  for (const std::string& key :
       std::vector<std::string>{kLookupKeyHex.substr(0, 62), kLookupKeyHex.substr(0, 63), "",
                                std::string(63, 'a') + "g", std::string(64, 'z')}) {
    EXPECT_THAT(error_of(minimal(), {{"VISITPAY_LOOKUP_KEY", key}}),
                HasSubstr("VISITPAY_LOOKUP_KEY: must be at least 64 hex characters"))
        << key.size();
  }
}

TEST(ParseConfig, LookupKeyAcceptsLongerKeysAndSurroundingWhitespace) {
  auto result = parse(minimal(), {{"VISITPAY_LOOKUP_KEY", "  " + kLookupKeyHex + "\n"}});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(result->lookup_key.size(), 32u);
  EXPECT_EQ(result->lookup_key.front(), 0x00);
  EXPECT_EQ(result->lookup_key[1], 0x11);

  result = parse(minimal(), {{"VISITPAY_LOOKUP_KEY", kLookupKeyHex + "abcd"}});
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->lookup_key.size(), 34u);
}

TEST(ParseConfig, UnreadableLookupKeyFileIsRejected) {
  auto doc = minimal();
  doc["secrets"]["lookup_key_file"] = "/nonexistent/visitpay/lookup.key";
  EXPECT_THAT(error_of(doc), HasSubstr("cannot be read"));
  // The environment variable takes precedence over the file.
  EXPECT_TRUE(parse(doc, {{"VISITPAY_LOOKUP_KEY", kLookupKeyHex}}).ok());
}

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(parse_duration("48h"), std::chrono::hours(48));
  EXPECT_EQ(parse_duration("2m"), std::chrono::minutes(2));
  EXPECT_EQ(parse_duration("30s"), std::chrono::seconds(30));
  EXPECT_EQ(parse_duration("7d"), std::chrono::hours(7 * 24));
  EXPECT_EQ(parse_duration("1s"), std::chrono::seconds(1));
}

TEST(ParseDuration, RejectsMalformedText) {
  for (const char* text : {"", "h", "0h", "-1h", "48", "48H", "1.5h", "48hh", " 48h", "48 h", "1w",
                           "+2m", "ms", "5ms"}) {
    EXPECT_EQ(parse_duration(text), std::nullopt) << "[" << text << "]";
  }
}

TEST(ParseDuration, RejectsValuesThatOverflowSeconds) {
  for (const char* text : {"3000000000000000h", "400000000000000000d", "200000000000000000m"}) {
    const auto d = parse_duration(text);
    EXPECT_EQ(d, std::nullopt) << text << " -> " << (d ? d->count() : 0);
  }
}

TEST(ValidOrgNumber, ChecksMod11) {
  for (const char* n : {"912345688", "923456783", "974760673", "123456785"}) {
    EXPECT_TRUE(valid_org_number(n)) << n;
  }
  for (const char* n :
       {"912345689", "912345680", "91234568", "9123456880", "91234568a", "", "912 345 688",
        // Weighted sum leaves remainder 1: no check digit exists.
        "100000130", "100000131"}) {
    EXPECT_FALSE(valid_org_number(n)) << n;
  }
}

TEST(ValidBankAccount, ChecksMod11WithOrWithoutSeparators) {
  for (const char* n : {"1503.20.80003", "15032080003", "1234.56.78903", "1234 56 78903"}) {
    EXPECT_TRUE(valid_bank_account(n)) << n;
  }
  for (const char* n : {"1503.20.80004", "1234.56.78904", "1503208000", "150320800030", "",
                        "1503-20-80003", "ABCD.EF.GHIJK", "10000000090", "10000000091"}) {
    EXPECT_FALSE(valid_bank_account(n)) << n;
  }
}

TEST(UnknownVisitpayEnv, FlagsOnlyUnknownVisitpayNames) {
  std::vector<std::string> storage = {"VISITPAY_TYPO=1",
                                      "VISITPAY_LISTEN=127.0.0.1:8080",
                                      "VISITPAY_DATABASE_URL=postgresql://x/y",
                                      "VISITPAY_LOOKUP_KEY_FILE=/k",
                                      "PATH=/usr/bin:/bin",
                                      "DATABASE_URL=postgresql://x/y",
                                      "MY_VISITPAY_THING=1",
                                      "VISITPAY_LISTENER=x",
                                      "VISITPAY_BARE"};
  std::vector<char*> environ_list;
  for (auto& s : storage)
    environ_list.push_back(s.data());
  environ_list.push_back(nullptr);
  EXPECT_EQ(unknown_visitpay_env(environ_list.data()),
            (std::vector<std::string>{"VISITPAY_TYPO", "VISITPAY_LISTENER", "VISITPAY_BARE"}));
}

TEST(UnknownVisitpayEnv, EmptyOrNullListHasNothingUnknown) {
  char* empty[] = {nullptr};
  EXPECT_TRUE(unknown_visitpay_env(empty).empty());
  EXPECT_TRUE(unknown_visitpay_env(nullptr).empty());
}

// --- providers, outbox, quiet hours ---------------------------------------------------------

const std::string kWebhookToken =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
const std::string kOldWebhookToken = "old_token-0123456789abcdefghijklmnopqrstuvwxyz";

// A file holding `text` (a secret), named after the test process.
std::string secret_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "visitpay-config-test-" + name;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  return path;
}

Json with_providers() {
  Json doc = minimal();
  doc["payment_accounts"] = {
      {"main",
       {{"provider", "payment.swedbankpay"},
        {"base_url", "https://api.externalintegration.payex.com"},
        {"token_env", "SPAY_TOKEN"},
        {"payee_id", "5cabf558-5283-482f-b252-4d58e06f6f3b"},
        {"payee_name", "Oslo Sentrum Klinikk"},
        {"webhook_token_file", secret_file("payment-token", kWebhookToken)}}}};
  doc["sms_accounts"] = {
      {"main",
       {{"provider", "linkmobility"},
        {"base_url", "https://n-eu.linkmobility.io"},
        {"username", "visitpay"},
        {"password_env", "LINK_PASSWORD"},
        {"platform_id", "COMMON_API"},
        {"platform_partner_id", "1234"},
        {"webhook_token_file",
         secret_file("sms-tokens", kOldWebhookToken + "\n" + kWebhookToken + "\n")}}}};
  doc["clinics"][0]["payment_account"] = "main";
  doc["clinics"][0]["sms_account"] = "main";
  doc["clinics"][0]["terms_of_service_url"] = "https://oslo-sentrum.example/vilkar";
  return doc;
}

TEST(ParseConfig, ProviderAccountsKeepTheCommonKeysAndHandTheRestToTheAdapter) {
  auto result = parse(with_providers(), {{"SPAY_TOKEN", "tok"}, {"LINK_PASSWORD", "pw"}});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  ASSERT_EQ(result->payment_accounts.size(), 1u);
  const auto& pay = result->payment_accounts[0];
  EXPECT_EQ(pay.provider, "payment.swedbankpay");
  EXPECT_EQ(pay.base_url, "https://api.externalintegration.payex.com");
  // Secret references are resolved by the core; the adapter gets the value, by key.
  EXPECT_EQ(pay.secrets.at("token"), "tok");
  EXPECT_EQ(Json::parse(pay.settings), (Json{{"payee_id", "5cabf558-5283-482f-b252-4d58e06f6f3b"},
                                             {"payee_name", "Oslo Sentrum Klinikk"}}));
  const auto& sms = result->sms_accounts[0];
  EXPECT_EQ(sms.provider, "linkmobility");  // the bare name is resolved by the registry
  EXPECT_EQ(sms.secrets.at("password"), "pw");
  EXPECT_FALSE(Json::parse(sms.settings).contains("password_env"));
  EXPECT_EQ(Json::parse(sms.settings)["platform_partner_id"], "1234");
  EXPECT_EQ(result->clinics[0].payment_account, "main");
  EXPECT_TRUE(result->quiet_hours.enabled);
  EXPECT_EQ(result->quiet_hours.start_minute, 21 * 60);
}

TEST(ParseConfig, ProviderAccountsNeedAProviderAndResolvableSecrets) {
  Json doc = with_providers();
  doc["payment_accounts"]["main"].erase("provider");
  EXPECT_THAT(error_of(doc, {{"SPAY_TOKEN", "t"}, {"LINK_PASSWORD", "pw"}}),
              HasSubstr("/payment_accounts/main/provider: required"));
  EXPECT_THAT(error_of(with_providers(), {{"LINK_PASSWORD", "pw"}}),
              HasSubstr("token_env: SPAY_TOKEN is not set"));
  doc = with_providers();
  doc["payment_accounts"]["main"]["token_file"] = "/nonexistent";
  EXPECT_THAT(error_of(doc, {{"SPAY_TOKEN", "t"}, {"LINK_PASSWORD", "pw"}}),
              HasSubstr("/payment_accounts/main: give token_file or token_env, not both"));
}

TEST(ParseConfig, ClinicAccountsMustExist) {
  Json doc = with_providers();
  doc["clinics"][0]["payment_account"] = "other";
  EXPECT_THAT(error_of(doc, {{"SPAY_TOKEN", "t"}, {"LINK_PASSWORD", "p"}}),
              HasSubstr("/clinics/0/payment_account: no such entry in /payment_accounts"));
}

TEST(ParseConfig, QuietHoursFromConfigAndEnvironment) {
  Json doc = minimal();
  doc["quiet_hours"] = "22:30-07:15";
  auto result = parse(doc);
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(result->quiet_hours.start_minute, 22 * 60 + 30);
  EXPECT_EQ(result->quiet_hours.end_minute, 7 * 60 + 15);
  result = parse(doc, {{"VISITPAY_QUIET_HOURS", "off"}});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_FALSE(result->quiet_hours.enabled);
  EXPECT_THAT(error_of(doc, {{"VISITPAY_QUIET_HOURS", "25:00-08:00"}}),
              HasSubstr("VISITPAY_QUIET_HOURS"));
  doc["quiet_hours"] = "night";
  EXPECT_THAT(error_of(doc), HasSubstr("/quiet_hours"));
}

TEST(ParseConfig, OutboxCanBeSwitchedOffForApiOnlyInstances) {
  auto result = parse(minimal());
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_TRUE(result->outbox.enabled);
  result = parse(minimal(), {{"VISITPAY_OUTBOX", "off"}});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_FALSE(result->outbox.enabled);
  Json doc = minimal();
  doc["outbox"] = {{"enabled", false}};
  result = parse(doc, {{"VISITPAY_OUTBOX", "on"}});
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_TRUE(result->outbox.enabled);
  EXPECT_THAT(error_of(minimal(), {{"VISITPAY_OUTBOX", "maybe"}}), HasSubstr("VISITPAY_OUTBOX"));
}

TEST(ParseConfig, OutboxRetryBudgetsAreDurationsByKind) {
  auto result = parse(minimal());
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(result->outbox.default_budget, std::chrono::hours(1));
  EXPECT_TRUE(result->outbox.budgets.empty());
  EXPECT_EQ(result->outbox.retention, std::chrono::hours(24 * 7));
  Json doc = minimal();
  doc["outbox"] = {{"budgets", {{"default", "30m"}, {"send_payment_sms", "6h"}}},
                   {"claim_batch", 8},
                   {"max_in_flight", 20},
                   {"retention", "2d"},
                   {"shutdown_grace_ms", 5000}};
  result = parse(doc);
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(result->outbox.default_budget, std::chrono::minutes(30));
  EXPECT_EQ(result->outbox.budgets.at("send_payment_sms"), std::chrono::hours(6));
  EXPECT_EQ(result->outbox.claim_batch, 8);
  EXPECT_EQ(result->outbox.max_in_flight, 20);
  EXPECT_EQ(result->outbox.retention, std::chrono::hours(48));
  EXPECT_EQ(result->outbox.shutdown_grace, std::chrono::seconds(5));
  doc["outbox"] = {{"budgets", {{"send_payment_sms", 3}}}};
  EXPECT_THAT(error_of(doc), HasSubstr("/outbox/budgets/send_payment_sms: must be a duration"));
}

TEST(ParseConfig, RemovedOutboxKeysSayWhatReplacedThem) {
  Json doc = minimal();
  doc["outbox"] = {{"max_attempts", 8}};
  EXPECT_THAT(error_of(doc), HasSubstr("/outbox/max_attempts: removed; retry budgets are time "
                                       "horizons now"));
  doc["outbox"] = {{"concurrency", 4}};
  EXPECT_THAT(error_of(doc), HasSubstr("/outbox/concurrency: removed; use outbox.max_in_flight"));
}

}  // namespace
}  // namespace visitpay::config

namespace visitpay::config {
namespace {

// --- webhooks ---------------------------------------------------------------------------------

const Env kProviderEnv = {{"SPAY_TOKEN", "t"}, {"LINK_PASSWORD", "p"}};

TEST(ParseConfig, WebhookTokensBelongToTheCoreNotTheAdapter) {
  auto result = parse(with_providers(), kProviderEnv);
  ASSERT_TRUE(result.ok()) << result.error().detail;
  const auto& pay = result->payment_accounts[0];
  EXPECT_EQ(pay.webhook_tokens, std::vector<std::string>{kWebhookToken});
  EXPECT_FALSE(pay.secrets.count("webhook_token"));  // the adapter would refuse it as unknown
  EXPECT_FALSE(Json::parse(pay.settings).contains("webhook_token_file"));
  // One per line; the last is the current one (a rotation appends).
  EXPECT_EQ(result->sms_accounts[0].webhook_tokens,
            (std::vector<std::string>{kOldWebhookToken, kWebhookToken}));
}

TEST(ParseConfig, WebhookTokensMustBeLongUrlSafeAndNeverEchoed) {
  for (const std::string& bad :
       {std::string(31, 'a'), std::string(129, 'a'), std::string(40, 'a') + "/x",
        std::string(40, 'a') + "%2F", std::string(40, 'a') + "\xc3\xa6"}) {
    Json doc = with_providers();
    doc["payment_accounts"]["main"]["webhook_token_file"] = secret_file("bad-token", bad);
    const auto detail = error_of(doc, kProviderEnv);
    EXPECT_THAT(detail, HasSubstr("/payment_accounts/main/webhook_token: each token must be"));
    EXPECT_THAT(detail, Not(HasSubstr(bad)));
  }
}

TEST(ParseConfig, ProductionNeedsAWebhookTokenPerAccount) {
  Json doc = with_providers();
  doc["sms_accounts"]["main"].erase("webhook_token_file");
  EXPECT_THAT(error_of(doc, kProviderEnv),
              HasSubstr("/sms_accounts/main: webhook_token_file or webhook_token_env is required "
                        "in production"));
  doc["environment"] = "development";
  EXPECT_TRUE(parse(doc, kProviderEnv).ok());
  doc = with_providers();
  doc["sms_accounts"]["main"].erase("webhook_token_file");
  doc["sms_accounts"]["main"]["webhook_token_env"] = "LINK_WEBHOOK_TOKEN";
  Env env = kProviderEnv;
  env["LINK_WEBHOOK_TOKEN"] = kOldWebhookToken;
  auto result = parse(doc, env);
  ASSERT_TRUE(result.ok()) << result.error().detail;
  EXPECT_EQ(result->sms_accounts[0].webhook_tokens, std::vector<std::string>{kOldWebhookToken});
}

TEST(ParseConfig, AccountsOfOneProviderNeverShareAToken) {
  Json doc = with_providers();
  doc["sms_accounts"]["second"] = doc["sms_accounts"]["main"];
  doc["sms_accounts"]["second"]["webhook_token_file"] = secret_file("shared", kWebhookToken);
  EXPECT_THAT(error_of(doc, kProviderEnv),
              HasSubstr("/webhook_token: the same token as another linkmobility account"));
}

TEST(ParseConfig, WebhookAllowlistsPerProviderWithCidrRanges) {
  Json doc = with_providers();
  doc["webhooks"] = Json::parse(R"({
    "trusted_proxies": ["10.0.0.0/8", "2001:db8:ffff::/48"],
    "forwarded_header": "Forwarded",
    "providers": {
      "swedbankpay": {"allowed_sources": ["51.107.183.58", "91.132.170.1", "20.91.170.120/29"]},
      "linkmobility": {"accept_tokenless": true}
    }})");
  auto result = parse(doc, kProviderEnv);
  ASSERT_TRUE(result.ok()) << result.error().detail;
  const auto& w = result->webhooks;
  EXPECT_EQ(w.forwarded_header, ForwardedHeaderKind::forwarded);
  ASSERT_EQ(w.trusted_proxies.size(), 2u);
  EXPECT_EQ(w.trusted_proxies[1].to_string(), "2001:db8:ffff::/48");
  const auto& swedbank = w.provider("swedbankpay");
  ASSERT_EQ(swedbank.allowed_sources.size(), 3u);
  EXPECT_EQ(swedbank.allowed_sources[2].to_string(), "20.91.170.120/29");
  EXPECT_FALSE(swedbank.accept_tokenless);
  EXPECT_TRUE(w.provider("linkmobility").accept_tokenless);
  EXPECT_TRUE(w.provider("linkmobility").allowed_sources.empty());
  // Defaults for a provider without a section: any source, tokens required.
  EXPECT_FALSE(w.provider("twilio").accept_tokenless);
  EXPECT_EQ(parse(with_providers(), kProviderEnv)->webhooks.forwarded_header,
            ForwardedHeaderKind::x_forwarded_for);
}

TEST(ParseConfig, WebhookSectionProblemsAreNamed) {
  Json doc = with_providers();
  doc["webhooks"] = Json::parse(R"({
    "trusted_proxies": ["10.0.0.1/8"],
    "forwarded_header": "X-Real-IP",
    "providers": {
      "swedbankpay": {"allowed_sources": ["20.91.170.120/33", 7], "allow": true},
      "stripe": {}
    }})");
  const auto detail = error_of(doc, kProviderEnv);
  EXPECT_THAT(detail, HasSubstr("/webhooks/trusted_proxies/0: \"10.0.0.1/8\" has bits set past"));
  EXPECT_THAT(detail, HasSubstr("/webhooks/forwarded_header: must be"));
  EXPECT_THAT(detail, HasSubstr("/webhooks/providers/swedbankpay/allowed_sources/0:"));
  EXPECT_THAT(detail, HasSubstr("/webhooks/providers/swedbankpay/allowed_sources/1: must be"));
  EXPECT_THAT(detail, HasSubstr("/webhooks/providers/swedbankpay/allow: unknown key"));
  EXPECT_THAT(
      detail,
      HasSubstr("/webhooks/providers/stripe: no payment or SMS account uses this provider"));
}

TEST(ParseConfig, TheSharedAllowlistSaysWhatReplacedIt) {
  Json doc = with_providers();
  doc["webhooks"] = {{"allowed_sources", {"127.0.0.1"}}};
  EXPECT_THAT(error_of(doc, kProviderEnv),
              HasSubstr("/webhooks/allowed_sources: replaced by "
                        "/webhooks/providers/<provider>/allowed_sources"));
}

// A production document whose clinic can take payments, without terms.
Json paying_clinic() {
  Json doc = with_providers();
  doc["clinics"][0].erase("terms_of_service_url");
  return doc;
}

const Env& paying_env() {
  static const Env env = {{"SPAY_TOKEN", "t"}, {"LINK_PASSWORD", "p"}};
  return env;
}

TEST(ParseConfig, TermsOfServiceUrlIsRequiredAndHttpsInProduction) {
  auto doc = paying_clinic();
  EXPECT_THAT(error_of(doc, paying_env()),
              HasSubstr("/clinics/0/terms_of_service_url: required for a clinic with a payment "
                        "account"));
  doc["clinics"][0]["terms_of_service_url"] = "http://oslo-sentrum.example/vilkar";
  EXPECT_THAT(error_of(doc, paying_env()),
              HasSubstr("/clinics/0/terms_of_service_url: must be an https URL"));
  doc["clinics"][0]["terms_of_service_url"] = "https://";
  EXPECT_THAT(error_of(doc, paying_env()),
              HasSubstr("/clinics/0/terms_of_service_url: must be an https URL"));
  doc["clinics"][0]["terms_of_service_url"] = "https://oslo-sentrum.example/vilkar";
  auto config = parse(doc, paying_env());
  ASSERT_TRUE(config.ok()) << config.error().detail;
  EXPECT_EQ(config->clinics[0].terms_of_service_url, "https://oslo-sentrum.example/vilkar");
  // A clinic without payments needs none.
  EXPECT_TRUE(parse(minimal()).ok());
}

TEST(ParseConfig, TermsOfServiceUrlMayBeHttpOrAbsentInDevelopment) {
  auto doc = paying_clinic();
  doc["environment"] = "development";
  EXPECT_TRUE(parse(doc, paying_env()).ok());
  doc["clinics"][0]["terms_of_service_url"] = "http://127.0.0.1:8080/vilkar";
  EXPECT_TRUE(parse(doc, paying_env()).ok());
  doc["clinics"][0]["terms_of_service_url"] = "vilkar.html";
  EXPECT_THAT(error_of(doc, paying_env()),
              HasSubstr("/clinics/0/terms_of_service_url: must be an http(s) URL"));
}

TEST(ParseConfig, EmailDeliveryNeedsARelayAndTlsLeavesTheMachineOnly) {
  auto doc = minimal();
  doc["clinics"][0]["invoice_delivery"] = "email";
  EXPECT_THAT(error_of(doc),
              HasSubstr("/clinics/0/invoice_delivery: \"email\" needs /invoices/email"));
  doc["invoices"]["email"] = {{"smtp_url", "smtp://smtp.example.no:587"},
                              {"from_address", "faktura@klinikk.example"}};
  auto ok = parse(doc);
  ASSERT_TRUE(ok.ok()) << ok.error().detail;
  EXPECT_EQ(ok->clinics[0].invoice_delivery, InvoiceDelivery::email);
  EXPECT_TRUE(ok->invoices.email.require_tls);
  doc["invoices"]["email"]["require_tls"] = false;
  EXPECT_THAT(error_of(doc), HasSubstr("/invoices/email/require_tls: may be false only for a relay "
                                       "on the loopback"));
  doc["invoices"]["email"]["smtp_url"] = "smtp://127.0.0.1:2525";
  EXPECT_TRUE(parse(doc).ok());
  doc["invoices"]["email"]["smtp_url"] = "http://127.0.0.1:2525";
  EXPECT_THAT(error_of(doc), HasSubstr("/invoices/email/smtp_url: must start with smtp://"));
  doc["invoices"]["email"]["smtp_url"] = "smtps://smtp.example.no";
  doc["invoices"]["email"]["require_tls"] = true;
  doc["invoices"]["email"]["from_address"] = "Faktura <faktura@klinikk.example>";
  EXPECT_THAT(error_of(doc), HasSubstr("/invoices/email/from_address: must be a plain address"));
  doc["invoices"]["email"]["from_address"] = "faktura@klinikk.example";
  doc["invoices"]["email"]["username"] = "visitpay";
  EXPECT_THAT(error_of(doc), HasSubstr("/invoices/email: username needs password_file"));
  doc["invoices"]["email"]["password_env"] = "SMTP_PASSWORD";
  auto with_password = parse(doc, {{"SMTP_PASSWORD", "s3cret"}});
  ASSERT_TRUE(with_password.ok()) << with_password.error().detail;
  EXPECT_EQ(with_password->invoices.email.password, "s3cret");
  doc["invoices"]["email"]["password"] = "s3cret";
  EXPECT_THAT(error_of(doc, {{"SMTP_PASSWORD", "s3cret"}}),
              HasSubstr("/invoices/email/password: give password_file or password_env"));
  doc["clinics"][0]["invoice_delivery"] = "fax";
  EXPECT_THAT(error_of(doc),
              HasSubstr("/clinics/0/invoice_delivery: must be \"post\" or \"email\""));
}

}  // namespace
}  // namespace visitpay::config
