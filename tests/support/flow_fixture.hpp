#pragma once

// Shared fixture of the end-to-end flow tests (payment link, invoices).
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/ip_network.hpp"
#include "common/time_format.hpp"
#include "http_client.hpp"
#include "mocks/linkmobility/linkmobility_mock.hpp"
#include "mocks/swedbankpay/swedbankpay_mock.hpp"
#include "pg_cluster.hpp"
#include "test_service.hpp"

namespace visitpay::testing {

using Json = nlohmann::json;
using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace)

inline constexpr const char* kPhone = "+4741234567";
// The accounts' webhook path tokens (the last segment of the URLs the providers are given).
inline constexpr const char* kPaymentWebhookToken = "pay-0123456789abcdef0123456789abcdef";
inline constexpr const char* kSmsWebhookToken = "sms-0123456789abcdef0123456789abcdef";
inline const std::string kPaymentWebhookPath =
    std::string("/v1/webhooks/payment/swedbankpay/") + kPaymentWebhookToken;
inline const std::string kSmsWebhookPath =
    std::string("/v1/webhooks/sms/linkmobility/") + kSmsWebhookToken;

inline std::uint16_t free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// Polls `condition` (the service works asynchronously) for up to `timeout`.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = 10s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

inline std::string checkout_body(const std::string& visit_id, bool with_phone = true,
                                 bool with_fee_terms = true) {
  Json body = Json::parse(example_checkout(visit_id));
  if (!with_phone) body["payer"].erase("phone");
  if (!with_fee_terms) body.erase("fee_terms");
  return body.dump();
}

// The whole service in-process (manual clock) against a fresh database and both mock providers
// over real HTTP; the base of the end-to-end flow tests.
class FlowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mocks::SwedbankPayMockOptions spay;
    spay.callback_time_scale = 0.001;
    spay.status_lag = status_lag_;
    spay.strict = true;  // refuses what the real API would (required fields)
    swedbank_ = std::make_unique<mocks::SwedbankPayMock>(spay);
    link_ = std::make_unique<mocks::LinkMobilityMock>(link_options());
    database_ = migrated_database();
    static int tests = 0;
    delivery_dir_ =
        std::filesystem::temp_directory_path() /
        ("visitpay-invoices-" + std::to_string(getpid()) + "-" + std::to_string(++tests));
    start_service();
  }

  void TearDown() override {
    if (HasFailure() && service_) {
      for (const auto& line : service_->log_lines()) {
        if (line.find("\"level\":\"debug\"") == std::string::npos) std::cerr << line << "\n";
      }
    }
    service_.reset();
    link_.reset();
    swedbank_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(delivery_dir_, ignored);
  }

  // The LINK mock as the real API behaves: strict, the account's platform ids, reports only to
  // the gate the SMS account names (start_service() points it at this service).
  static mocks::LinkMobilityMockOptions link_options() {
    mocks::LinkMobilityMockOptions o;
    o.strict = true;
    o.platform_id = "COMMON_API";
    o.platform_partner_id = "1234";
    return o;
  }

  config::Config make_config(std::uint16_t port) {
    auto config = test_config(database_);
    config.http.port = port;
    config.public_base_url = "http://127.0.0.1:" + std::to_string(port);
    config.quiet_hours = quiet_hours_;
    config.outbox.poll_interval = 50ms;
    config.outbox.base_backoff = 1000ms;
    config.reconcile.interval = reconcile_interval_;
    for (const char* provider : {"swedbankpay", "linkmobility"}) {
      auto& rules = config.webhooks.providers[provider];
      for (const auto& source : allowed_sources_) {
        rules.allowed_sources.push_back(common::parse_ip_network(source).value());
      }
    }
    config.outbox.enabled = outbox_enabled_;
    config.invoices.sweep_interval = 50ms;
    config.invoices.delivery_dir = delivery_dir_.string();
    config::PaymentAccount pay;
    pay.name = "main";
    pay.base_url = swedbank_->base_url();
    pay.provider = "payment.swedbankpay";
    pay.secrets["token"] = "test-token";
    pay.settings =
        R"({"payee_id": "5cabf558-5283-482f-b252-4d58e06f6f3b", "payee_name": "Oslo Sentrum Klinikk"})";
    pay.timeout = 3000ms;
    pay.webhook_tokens = {kPaymentWebhookToken};
    config.payment_accounts = {pay};
    config::SmsAccount sms;
    sms.name = "main";
    sms.base_url = link_->base_url();
    sms.provider = "sms.linkmobility";
    sms.secrets["password"] = "secret";
    sms.settings = R"({"username": "visitpay", "platform_id": "COMMON_API",
                       "platform_partner_id": "1234", "source": "OsloKlinikk",
                       "delivery_report_gate": "mock-gate"})";
    sms.timeout = 3000ms;
    sms.webhook_tokens = {kSmsWebhookToken};
    sms.resend_unconfirmed_after = std::chrono::seconds(120);
    sms.report_max_age = report_max_age_;
    config.sms_accounts = {sms};
    for (auto& clinic : config.clinics) {
      clinic.payment_account = clinic.id == clinic_without_payment_account_ ? "" : "main";
      clinic.sms_account = "main";
      if (clinic.id == "oslo-sentrum") clinic.sms_sender = "OsloSentrum";
    }
    if (!sms_account_override_.empty()) config.sms_accounts[0].base_url = sms_account_override_;
    if (!master_keys_.empty()) config.master_keys = master_keys_;
    if (configure_) configure_(config);
    return config;
  }

  void start_service() {
    const auto port = service_port_ != 0 ? service_port_ : free_port();
    service_port_ = port;
    service_ = std::make_unique<TestService>(make_config(port));
    service_->clock().set(start_time_);
    link_->set_dlr_url(service_->config().public_base_url + kSmsWebhookPath);
    token_ = service_->token("checkout:write,sessions:read,ops");
  }

  std::map<std::string, std::string> auth() const {
    return {{"Authorization", "Bearer " + token_}, {"Content-Type", "application/json"}};
  }

  // Posts a check-out and returns the session id.
  std::string checkout(const std::string& visit_id, bool with_phone = true,
                       bool with_fee_terms = true) {
    auto reply = http_request(service_->port(), "POST", "/v1/checkouts",
                              checkout_body(visit_id, with_phone, with_fee_terms), auth());
    EXPECT_EQ(reply.status, 201) << reply.body;
    return Json::parse(reply.body).value("session_id", "");
  }

  Json session(const std::string& id) {
    auto reply = http_request(service_->port(), "GET", "/v1/sessions/" + id, {}, auth());
    EXPECT_EQ(reply.status, 200) << reply.body;
    return Json::parse(reply.body);
  }

  bool state_is(const std::string& id, const std::string& state) {
    return session(id).value("state", "") == state;
  }

  // Moves the manual clock and wakes the dispatcher, for work scheduled in the future.
  void advance(std::chrono::microseconds by) {
    service_->clock().advance(by);
    service_->service().dispatcher().nudge();
  }

  // Runs the sweeper, the lifecycle watch and the outbox dispatcher's own passes until a pass
  // finds nothing to do and no outbox item is due or in flight at the manual clock's time:
  // afterwards "nothing happened" is a fact, not the hope of a sleep. False if it never settled.
  bool settle() {
    auto& s = service_->service();
    const std::string now = common::format_rfc3339_utc(service_->clock().now());
    for (int pass = 0; pass < 200; ++pass) {
      std::int64_t work = service_->await(s.sweeper().run_once());
      work += service_->await(s.watch().run_once());
      work += service_->await(s.dispatcher().run_once());
      const auto busy = count(
          "SELECT count(*) FROM outbox WHERE status = 'pending' AND "
          "(next_attempt_at <= '" +
          now + "' OR lease_owner IS NOT NULL)");
      if (work == 0 && busy == 0) return true;
      if (work == 0) std::this_thread::sleep_for(5ms);  // another loop's item is in flight
    }
    return false;
  }

  std::string only_order_id() {
    auto orders = swedbank_->orders();
    EXPECT_EQ(orders.size(), 1u);
    return orders.empty() ? std::string() : orders.front().id;
  }

  std::int64_t count(const std::string& sql) {
    auto db = service_->db();
    auto r = db.exec(sql);
    if (!r) throw std::runtime_error(r.error().detail);
    return r->int64(0, 0);
  }

  // The visitpay binary against this test's database (an admin command), with `ring` as the
  // master key ring (default: the service's); its output, then "exit=<code>".
  std::string cli(const std::string& args, std::string ring = "") {
    if (ring.empty()) ring = master_keys_.empty() ? test_master_keys() : master_keys_;
    return run_command("env -i PATH=/usr/bin:/bin DATABASE_URL='" + database_ +
                       "' VISITPAY_LOOKUP_KEY=" + std::string(64, 'a') + " VISITPAY_MASTER_KEYS='" +
                       ring + "' VISITPAY_INVOICE_DIR='" + delivery_dir_.string() +
                       "' MOCK_SWEDBANKPAY_TOKEN=t MOCK_LINKMOBILITY_PASSWORD=p " VISITPAY_BINARY
                       " --config " VISITPAY_SOURCE_DIR "/deploy/config/local.json " +
                       args + " 2>&1; echo exit=$?");
  }

  double metric(const std::string& name, const std::string& labels = "") {
    return service_->service().metrics().value(name, labels);
  }

  ports::Clock::time_point start_time_ = *common::parse_rfc3339("2026-11-22T13:10:00Z");
  domain::QuietHours quiet_hours_;
  std::vector<std::string> allowed_sources_;        // CIDR; both providers' allowlist
  std::function<void(config::Config&)> configure_;  // a test's own changes, applied last
  std::string sms_account_override_;
  std::string clinic_without_payment_account_;
  std::string master_keys_;  // the key ring; empty: test_master_keys()
  std::chrono::milliseconds reconcile_interval_ = std::chrono::hours(1);
  std::chrono::milliseconds status_lag_ = 300ms;  // the mock's callback_before_status lag
  std::chrono::seconds report_max_age_ = std::chrono::hours(24 * 7);
  std::filesystem::path delivery_dir_;  // print-and-post folder of this test
  bool outbox_enabled_ = true;
  std::string database_;
  std::uint16_t service_port_ = 0;
  std::unique_ptr<mocks::SwedbankPayMock> swedbank_;
  std::unique_ptr<mocks::LinkMobilityMock> link_;
  std::unique_ptr<TestService> service_;
  std::string token_;
};

}  // namespace visitpay::testing
