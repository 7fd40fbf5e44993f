#include "test_service.hpp"

#include <atomic>
#include <stdexcept>

#include "adapters/keys/file/file_key_store.hpp"
#include "app/auth.hpp"
#include "common/crypto.hpp"
#include "common/time_format.hpp"
#include "common/uuid.hpp"
#include "pg_cluster.hpp"
#include "store/client_store.hpp"
#include "store/migrations.hpp"

namespace visitpay::testing {

namespace {

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::string item;
  for (char c : text) {
    if (c == ',') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else {
      item += c;
    }
  }
  if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace

std::string migrated_database() {
  static std::atomic<int> counter{0};
  const std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  const std::string info = shared_cluster().create_database(name);
  auto db = store::PgSyncConnection::open(info);
  if (!db) throw std::runtime_error("cannot open the test database");
  common::Logger quiet(common::LogLevel::error);
  auto version = store::migrate(*db, quiet);
  if (!version) throw std::runtime_error("migrate failed: " + version.error().detail);
  return info;
}

const std::string& test_master_keys() {
  static const std::string ring = adapters::keys::FileKeyStore::generate_key_line("test-1");
  return ring;
}

config::Config test_config(const std::string& conninfo) {
  const std::string json = R"({
    "environment": "development",
    "http": {"listen": "127.0.0.1:0", "threads": 2, "body_limit_bytes": 65536,
             "shutdown_grace_ms": 5000},
    "database": {"url": "", "pool_size": 8, "acquire_timeout_ms": 2000,
                 "connect_timeout_ms": 2000, "statement_timeout_ms": 5000},
    "checkout": {"allow_synthetic_national_ids": true},
    "clinics": [
      {"id": "oslo-sentrum", "display_name": "Oslo Sentrum Klinikk",
       "legal_entity": {"name": "Oslo Sentrum Klinikk AS", "org_number": "912345688",
                        "foretaksregisteret": true, "bank_account": "1503.20.80003",
                        "address": {"street": "Karl Johans gate 12", "postal_code": "0154",
                                    "city": "Oslo"}},
       "invoice_fee_ore": 3900, "invoice_fee_cost_ore": 3900, "payment_window": "48h",
       "invoice_due_days": 14,
       "terms_of_service_url": "https://oslo-sentrum.example/vilkar"},
      {"id": "bergen-brygge", "display_name": "Bergen Brygge Legesenter",
       "legal_entity": {"name": "Bergen Brygge Legesenter AS", "org_number": "923456783",
                        "foretaksregisteret": true, "bank_account": "1234.56.78903",
                        "address": {"street": "Bryggen 7", "postal_code": "5003",
                                    "city": "Bergen"}},
       "invoice_fee_ore": 2900, "invoice_fee_cost_ore": 2900, "invoice_due_days": 14,
       "terms_of_service_url": "https://bergen-brygge.example/vilkar"}
    ]})";
  // One look-up key per test process, like a deployment's: restarts keep finding the rows.
  static const std::string key = common::to_hex(common::random_bytes(32));
  auto config =
      config::parse_config(json, [&](const std::string& name) -> std::optional<std::string> {
        if (name == "VISITPAY_DATABASE_URL") return conninfo;
        if (name == "VISITPAY_LOOKUP_KEY") return key;
        if (name == "VISITPAY_MASTER_KEYS") return test_master_keys();
        return std::nullopt;
      });
  if (!config) throw std::runtime_error(config.error().detail);
  return std::move(config.value());
}

std::string example_checkout(const std::string& visit_id) {
  return R"({"clinic_id":"oslo-sentrum","visit_id":")" + visit_id +
         R"(","checked_out_at":"2026-11-22T14:05:00+01:00","currency":"NOK",)"
         R"("fee_terms":{"accepted_at":"2026-11-22T13:40:00+01:00","version":"2026-01"},)"
         R"("lines":[{"description":"Konsultasjon spesialist","amount":65000,"vat_amount":0}],)"
         R"("payer":{"name":"Kari Nordmann","national_id":"10915596784","phone":"+4741234567",)"
         R"("address":{"street":"Storgata 1","postal_code":"0155","city":"Oslo","country":"NO"}}})";
}

TestService::TestService(config::Config config)
    : config_(std::move(config)),
      clock_(*common::parse_rfc3339("2026-11-22T13:10:00Z")),
      log_(common::LogLevel::debug, [this](std::string_view line) {
        std::lock_guard lock(log_mutex_);
        log_lines_.emplace_back(line);
      }) {
  service_ = std::make_unique<service::Service>(config_, clock_, log_);
  auto port = service_->start(/*handle_signals=*/false);
  if (!port) throw std::runtime_error(port.error().detail);
  port_ = *port;
}

TestService::~TestService() {
  service_.reset();
}

std::string TestService::token(const std::string& scopes, const std::string& clinics) {
  auto db = this->db();
  const std::string token = app::new_api_token();
  static std::atomic<int> counter{0};
  auto r =
      store::ClientStore::add(db, common::new_uuid_v7(std::chrono::system_clock::now()),
                              "test-client-" + std::to_string(++counter), common::sha256(token),
                              split(scopes), split(clinics), "2026-11-22T13:00:00Z", false);
  if (!r) throw std::runtime_error(r.error().detail);
  return token;
}

store::PgSyncConnection TestService::db() const {
  auto db = store::PgSyncConnection::open(config_.database.url);
  if (!db) throw std::runtime_error("cannot open the test database");
  return std::move(db.value());
}

std::vector<std::string> TestService::log_lines() const {
  std::lock_guard lock(log_mutex_);
  return log_lines_;
}

}  // namespace visitpay::testing
