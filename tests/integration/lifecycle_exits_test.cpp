// Every exit of the session lifecycle, driven through the outbox handlers themselves
// (workers::PaymentWork, workers::InvoiceWork) against a real PostgreSQL, with the providers
// mocked (gmock, mocks/ports/). No dispatcher and no sleeping: each test calls a handler with the
// outbox item it would get, moves the ManualClock, and reads the database. For each exit it checks
// the session's state, invoice_reason and link_error, which outbox work is live or cancelled, and
// what the handler told the dispatcher (OutboxOutcome).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adapters/keys/file/file_key_store.hpp"
#include "app/checkout_service.hpp"
#include "app/invoice_documents.hpp"
#include "app/payer_vault.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/time_format.hpp"
#include "mocks/ports/mock_collection_agency.hpp"
#include "mocks/ports/mock_invoice_channel.hpp"
#include "mocks/ports/mock_invoice_renderer.hpp"
#include "mocks/ports/mock_payment_provider.hpp"
#include "mocks/ports/mock_sms_gateway.hpp"
#include "store/invoice_store.hpp"
#include "store/lifecycle_store.hpp"
#include "store/payment_store.hpp"
#include "store/pg_pool.hpp"
#include "store/pg_sync.hpp"
#include "store/reminder_store.hpp"
#include "store/session_store.hpp"
#include "test_service.hpp"
#include "workers/invoice_work.hpp"
#include "workers/payment_work.hpp"

namespace visitpay::testing {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using domain::WorkKind;
using ::testing::_;
using ::testing::AllOf;
using ::testing::DoAll;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::Return;
using ::testing::SaveArg;
using ::testing::StartsWith;
using ::testing::StrictMock;
using workers::OutboxOutcome;

constexpr std::string_view kPhone = "+4741234567";

// Clinics of this test (on top of test_config's oslo-sentrum and bergen-brygge).
constexpr std::string_view kWithAccounts = "oslo-sentrum";  // payment and SMS account "main"
constexpr std::string_view kNoAccounts = "bergen-brygge";   // neither (fee 29 kr)
constexpr std::string_view kNoSms = "tromso-nord";          // a payment account, no SMS account
constexpr std::string_view kLongName = "lang-navn";         // a display name of 120 characters

domain::Timestamp at(std::string_view rfc3339) {
  return *common::parse_rfc3339(rfc3339);
}

class LifecycleExits : public ::testing::Test {
 protected:
  void SetUp() override {
    // The adapter names where its callbacks go; the order request carries it.
    EXPECT_CALL(provider_, callback_url())
        .WillRepeatedly(Return(std::string("http://127.0.0.1:8080/v1/webhooks/payment/test")));
    conninfo_ = migrated_database();
    config_ = std::make_unique<config::Config>(test_config(conninfo_));
    configure(*config_);

    store::PgPool::Options o;
    o.connection.conninfo = conninfo_;
    o.max_size = 4;
    pool_ = std::make_unique<store::PgPool>(ioc_.get_executor(), o, log_);
    sessions_ = std::make_unique<store::SessionStore>(*pool_);
    payments_ = std::make_unique<store::PaymentStore>(*pool_);
    invoices_ = std::make_unique<store::InvoiceStore>(*pool_);
    reminders_ = std::make_unique<store::ReminderStore>(*pool_);
    lifecycle_ = std::make_unique<store::LifecycleStore>(*pool_);

    auto keys = adapters::keys::FileKeyStore::from_text(test_master_keys());
    ASSERT_TRUE(keys) << keys.error().detail;
    keys_ = std::make_unique<adapters::keys::FileKeyStore>(std::move(keys.value()));
    vault_ = std::make_unique<app::PayerVault>(*keys_);

    providers_.payment["main"] = &provider_;
    providers_.sms["main"] = &sms_;
    payment_work_ = std::make_unique<workers::PaymentWork>(workers::PaymentWorkDeps{
        *payments_, *vault_, *config_, providers_, clock_, log_, metrics_, health_});
    documents_ = std::make_unique<app::InvoiceDocuments>(renderer_, ioc_.get_executor(), clock_);
    invoice_work_ = std::make_unique<workers::InvoiceWork>(workers::InvoiceWorkDeps{
        *invoices_, *payments_, *payment_work_, *documents_, *vault_, channel_, nullptr,
        *reminders_, agency_, *config_, clock_, log_, metrics_});
    checkouts_ =
        std::make_unique<app::CheckoutService>(*sessions_, *vault_, *config_, clock_, log_);

    thread_ = std::thread([this] { ioc_.run(); });
  }

  void TearDown() override {
    if (pool_) pool_->close();
    work_.reset();
    ioc_.stop();
    if (thread_.joinable()) thread_.join();
    // Whatever the exit, the logs name the session, never the payer.
    for (const auto& line : log_lines()) {
      EXPECT_EQ(line.find(kPhone.substr(3)), std::string::npos) << line;
      EXPECT_EQ(line.find("Nordmann"), std::string::npos) << line;
      EXPECT_EQ(line.find("10915596784"), std::string::npos) << line;
    }
  }

  static void configure(config::Config& c) {
    config::PaymentAccount payment;
    payment.name = "main";
    c.payment_accounts.push_back(payment);
    config::SmsAccount sms;
    sms.name = "main";
    c.sms_accounts.push_back(sms);
    for (auto& clinic : c.clinics) {
      if (clinic.id == kWithAccounts) {
        clinic.payment_account = "main";
        clinic.sms_account = "main";
      }
    }
    const config::Clinic oslo = *c.find_clinic(kWithAccounts);
    config::Clinic no_sms = oslo;
    no_sms.id = kNoSms;
    no_sms.sms_account.clear();
    c.clinics.push_back(no_sms);
    config::Clinic long_name = oslo;
    long_name.id = kLongName;
    long_name.display_name = std::string(120, 'L');
    c.clinics.push_back(long_name);
    // Quiet hours stay on (21:00-08:00 Oslo): the clock starts in the afternoon.
  }

  template <typename T>
  T run(asio::awaitable<T> op) {
    return asio::co_spawn(ioc_, std::move(op), asio::use_future).get();
  }

  // --- check-out and the handlers ---

  std::string checkout(std::string_view clinic, bool with_phone) {
    domain::CheckoutRequest r;
    r.clinic_id = std::string(clinic);
    r.visit_id = "V-" + std::to_string(++visits_);
    r.checked_out_at = clock_.now() - 5min;
    r.currency = "NOK";
    r.lines = {{"Konsultasjon spesialist", 65000, 0}};
    r.fee_terms = domain::FeeTerms{r.checked_out_at - 1h, "2026-01"};
    r.payer.name = "Kari Nordmann";
    r.payer.national_id = "10915596784";
    if (with_phone) r.payer.phone = std::string(kPhone);
    r.payer.address = {"Storgata 1", "0155", "Oslo", "NO"};
    EXPECT_TRUE(checkouts_->validate(r).empty());
    auto out = run(checkouts_->submit(r));
    if (!out) throw std::runtime_error(out.error().detail);
    EXPECT_TRUE(out->created);
    return out->session.id;
  }

  // The item the dispatcher would hand over: the session's live item of `kind`.
  store::OutboxItem item(const std::string& session, WorkKind kind, int attempts = 1,
                         bool last_chance = false) {
    store::OutboxItem i;
    const auto id =
        scalar("SELECT id FROM outbox WHERE session_id = '" + session + "' AND kind = '" +
               std::string(domain::to_string(kind)) + "' AND status = 'pending'");
    i.id = id == "<null>" ? 0 : std::stoll(id);
    i.session_id = session;
    i.kind = std::string(domain::to_string(kind));
    i.attempts = attempts;
    i.last_chance = last_chance;
    return i;
  }

  OutboxOutcome create_order(const store::OutboxItem& i) {
    return run(payment_work_->create_order(i));
  }
  OutboxOutcome send_sms(const store::OutboxItem& i) { return run(payment_work_->send_sms(i)); }
  OutboxOutcome close_window(const store::OutboxItem& i) {
    return run(invoice_work_->close_window(i));
  }

  // What the dispatcher does with an item whose handler succeeded.
  void complete(const std::string& session, WorkKind kind) {
    exec("UPDATE outbox SET status = 'done' WHERE session_id = '" + session + "' AND kind = '" +
         std::string(domain::to_string(kind)) + "' AND status = 'pending'");
  }

  static ports::PaymentOrder open_order(const std::string& session, std::string payment_url = {}) {
    ports::PaymentOrder o;
    o.id = "/psp/paymentorders/" + session;
    o.payment_url =
        payment_url.empty() ? "https://pay.example/checkout/" + session.substr(0, 8) : payment_url;
    o.status = ports::PaymentStatus::open;
    o.amount = 65000;
    o.can_abort = true;
    return o;
  }

  // create_payment_order succeeds: the order is saved and the SMS queued.
  void order_created(const std::string& session, std::string payment_url = {}) {
    EXPECT_CALL(provider_,
                create_order_now(Field(&ports::PaymentOrderRequest::order_reference, session)))
        .WillOnce(Return(open_order(session, std::move(payment_url))));
    const auto outcome = create_order(item(session, WorkKind::create_payment_order));
    ASSERT_EQ(outcome.kind, OutboxOutcome::Kind::done) << outcome.error;
    complete(session, WorkKind::create_payment_order);
    ASSERT_EQ(state(session), "pending");
    ASSERT_EQ(live(session), "send_payment_sms");
  }

  // send_payment_sms succeeds: the session awaits payment.
  void link_sent(const std::string& session) {
    EXPECT_CALL(sms_, send_now(Field(&ports::SmsMessage::to, std::string(kPhone))))
        .WillOnce(Return(ports::SmsAccepted{"msg-" + session.substr(0, 8), 1}));
    const auto outcome = send_sms(item(session, WorkKind::send_payment_sms));
    ASSERT_EQ(outcome.kind, OutboxOutcome::Kind::done) << outcome.error;
    complete(session, WorkKind::send_payment_sms);
    ASSERT_EQ(state(session), "awaiting_payment");
    // The delivery report: only now does the fee the SMS states count as disclosed.
    const std::string message_id = "msg-" + session.substr(0, 8);
    const auto sms = run(payments_->find_reported_sms(message_id, "")).value();
    ASSERT_TRUE(sms.has_value());
    store::PartReport report;
    report.message_id = message_id;
    report.result_code = 1001;
    report.outcome = store::DeliveryOutcome::delivered;
    ASSERT_TRUE(
        run(payments_->record_report(*sms, report, clock_.now() - 1h, clock_.now())).value());
  }

  // A session whose window closed with its order still open at the provider (as far as
  // visitpay knows): invoicing, window_expired, the fee disclosed in the SMS.
  std::string window_closed() {
    const auto session = checkout(kWithAccounts, true);
    order_created(session);
    link_sent(session);
    clock_.advance(49h);
    auto moved = run(lifecycle_->close_windows(clock_.now(), 10));
    EXPECT_TRUE(moved);
    EXPECT_EQ(moved.value(), 1);
    EXPECT_EQ(state(session), "invoicing");
    EXPECT_EQ(reason(session), "window_expired");
    EXPECT_EQ(live(session), "invoice_session");
    return session;
  }

  // --- the database's view ---

  store::PgSyncConnection db() {
    auto c = store::PgSyncConnection::open(conninfo_);
    if (!c) throw std::runtime_error(c.error().detail);
    return std::move(c.value());
  }
  void exec(const std::string& sql) {
    auto c = db();
    auto r = c.exec(sql);
    if (!r) throw std::runtime_error(r.error().detail);
  }
  std::string scalar(const std::string& sql) {
    auto c = db();
    auto r = c.exec(sql);
    if (!r) throw std::runtime_error(r.error().detail);
    return r->empty() || r->is_null(0, 0) ? "<null>" : r->string(0, 0);
  }
  std::string session_column(const std::string& session, const std::string& column) {
    return scalar("SELECT " + column + " FROM sessions WHERE id = '" + session + "'");
  }
  std::string state(const std::string& session) { return session_column(session, "state"); }
  std::string reason(const std::string& session) {
    return session_column(session, "invoice_reason");
  }
  std::string link_error(const std::string& session) {
    return session_column(session, "link_error");
  }
  // The session's outbox work in `status`, kinds sorted and comma-separated ("" if none).
  std::string work(const std::string& session, std::string_view status) {
    const auto kinds =
        scalar("SELECT string_agg(kind, ',' ORDER BY kind) FROM outbox WHERE session_id = '" +
               session + "' AND status = '" + std::string(status) + "'");
    return kinds == "<null>" ? "" : kinds;
  }
  std::string live(const std::string& session) { return work(session, "pending"); }
  std::string cancelled(const std::string& session) { return work(session, "cancelled"); }
  std::string sms_statuses(const std::string& session) {
    const auto s = scalar(
        "SELECT string_agg(status, ',' ORDER BY id) FROM sms_messages WHERE "
        "session_id = '" +
        session + "'");
    return s == "<null>" ? "" : s;
  }
  std::string invoice_count(const std::string& session) {
    return scalar("SELECT count(*) FROM invoices WHERE session_id = '" + session + "'");
  }
  // reason, fee_ore, fee_not_disclosed, order_not_aborted of the session's invoice.
  std::string invoice(const std::string& session) {
    return scalar(
        "SELECT reason || ' fee=' || fee_ore || ' fee_not_disclosed=' || fee_not_disclosed || "
        "' order_not_aborted=' || order_not_aborted FROM invoices WHERE session_id = '" +
        session + "' AND kind = 'invoice'");
  }

  static void expect_done(const OutboxOutcome& o) {
    EXPECT_EQ(o.kind, OutboxOutcome::Kind::done) << o.error;
    EXPECT_FALSE(o.not_before.has_value());
  }

  std::vector<std::string> log_lines() {
    std::lock_guard lock(log_mutex_);
    return log_lines_;
  }
  bool logged(std::string_view event) {
    const auto needle = "\"event\":\"" + std::string(event) + "\"";
    for (const auto& line : log_lines())
      if (line.find(needle) != std::string::npos) return true;
    return false;
  }

  std::mutex log_mutex_;
  std::vector<std::string> log_lines_;
  common::Logger log_{common::LogLevel::info, [this](std::string_view line) {
                        std::lock_guard lock(log_mutex_);
                        log_lines_.emplace_back(line);
                      }};
  common::Metrics metrics_;
  std::string conninfo_;
  std::unique_ptr<config::Config> config_;
  ports::ManualClock clock_{at("2026-11-22T13:10:00Z")};  // 14:10 in Oslo
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{ioc_.get_executor()};
  std::unique_ptr<store::PgPool> pool_;
  std::unique_ptr<store::SessionStore> sessions_;
  std::unique_ptr<store::PaymentStore> payments_;
  std::unique_ptr<store::InvoiceStore> invoices_;
  std::unique_ptr<store::ReminderStore> reminders_;
  std::unique_ptr<store::LifecycleStore> lifecycle_;
  std::unique_ptr<adapters::keys::FileKeyStore> keys_;
  std::unique_ptr<app::PayerVault> vault_;
  StrictMock<mocks::MockPaymentProvider> provider_;
  StrictMock<mocks::MockSmsGateway> sms_;
  StrictMock<mocks::MockInvoiceRenderer> renderer_;  // the paths tested here render nothing
  StrictMock<mocks::MockInvoiceChannel> channel_;    // ... and deliver nothing
  StrictMock<mocks::MockCollectionAgency> agency_;   // ... and hand nothing over
  workers::ProviderDirectory providers_;
  app::ProviderHealth health_;
  std::unique_ptr<workers::PaymentWork> payment_work_;
  std::unique_ptr<app::InvoiceDocuments> documents_;
  std::unique_ptr<workers::InvoiceWork> invoice_work_;
  std::unique_ptr<app::CheckoutService> checkouts_;
  std::thread thread_;
  int visits_ = 0;
};

// --- check-out ---------------------------------------------------------------------------------

TEST_F(LifecycleExits, ACheckOutWithAPhoneIsPendingWithItsOrderQueued) {
  const auto session = checkout(kWithAccounts, true);
  EXPECT_EQ(state(session), "pending");
  EXPECT_EQ(reason(session), "<null>");
  EXPECT_EQ(live(session), "create_payment_order");
}

TEST_F(LifecycleExits, ACheckOutWithoutAPhoneGoesStraightToTheInvoicePath) {
  const auto session = checkout(kWithAccounts, false);
  EXPECT_EQ(state(session), "invoicing");
  EXPECT_EQ(reason(session), "no_phone");
  EXPECT_EQ(live(session), "invoice_session");
}

// --- (a), (b), (c): create_payment_order ---------------------------------------------------------

TEST_F(LifecycleExits, AClinicWithoutAPaymentAccountIsLinkFailed) {
  const auto session = checkout(kNoAccounts, true);
  EXPECT_CALL(provider_, create_order_now(_)).Times(0);

  expect_done(create_order(item(session, WorkKind::create_payment_order)));

  EXPECT_EQ(state(session), "invoicing");
  EXPECT_EQ(reason(session), "link_failed");
  EXPECT_EQ(link_error(session), "clinic bergen-brygge has no payment account");
  EXPECT_EQ(live(session), "invoice_session");
  EXPECT_EQ(cancelled(session), "create_payment_order");
  EXPECT_EQ(metrics_.value("visitpay_link_failures_total",
                           common::Metrics::label("kind", "create_payment_order")),
            1);
  EXPECT_TRUE(logged("payment.link_failed"));
}

TEST_F(LifecycleExits, AProviderRefusalOfTheOrderIsLinkFailed) {
  const auto session = checkout(kWithAccounts, true);
  ports::PaymentOrderRequest sent;
  EXPECT_CALL(provider_, create_order_now(_))
      .WillOnce(
          DoAll(SaveArg<0>(&sent), Return(common::make_error(common::ErrorCode::provider_rejected,
                                                             "swedbankpay 400: invalid payee"))));

  expect_done(create_order(item(session, WorkKind::create_payment_order)));

  EXPECT_EQ(sent.order_reference, session);
  EXPECT_EQ(sent.amount, 65000);
  EXPECT_EQ(sent.description, "Oslo Sentrum Klinikk");  // the clinic's name, never the lines
  EXPECT_EQ(state(session), "invoicing");
  EXPECT_EQ(reason(session), "link_failed");
  EXPECT_EQ(link_error(session), "swedbankpay 400: invalid payee");
  EXPECT_EQ(live(session), "invoice_session");
  EXPECT_EQ(cancelled(session), "create_payment_order");
  EXPECT_EQ(scalar("SELECT count(*) FROM payment_orders WHERE session_id = '" + session + "'"),
            "0");
}

TEST_F(LifecycleExits, AnUnavailableProviderIsARetryUntilTheBudgetIsSpent) {
  const auto session = checkout(kWithAccounts, true);
  auto unavailable = common::make_error(common::ErrorCode::provider_unavailable, "503 from psp");
  unavailable.retry_after = 5s;
  EXPECT_CALL(provider_, create_order_now(_)).Times(2).WillRepeatedly(Return(unavailable));

  const auto retry = create_order(item(session, WorkKind::create_payment_order, 3));
  EXPECT_EQ(retry.kind, OutboxOutcome::Kind::retry);
  EXPECT_EQ(retry.error, "503 from psp");
  EXPECT_EQ(retry.retry_after, std::chrono::milliseconds(5000));
  EXPECT_EQ(state(session), "pending");
  EXPECT_EQ(reason(session), "<null>");
  EXPECT_EQ(link_error(session), "<null>");
  EXPECT_EQ(live(session), "create_payment_order");
  EXPECT_EQ(cancelled(session), "");

  // The same failure on the item's last attempt is the exit, not a dead letter.
  expect_done(create_order(item(session, WorkKind::create_payment_order, 8, true)));
  EXPECT_EQ(state(session), "invoicing");
  EXPECT_EQ(reason(session), "link_failed");
  EXPECT_EQ(link_error(session), "503 from psp");
  EXPECT_EQ(live(session), "invoice_session");
  EXPECT_EQ(cancelled(session), "create_payment_order");
}

TEST_F(LifecycleExits, APurgedKeyIsLinkFailedWithoutAskingTheProvider) {
  const auto session = checkout(kWithAccounts, true);
  exec("DELETE FROM payer_keys WHERE session_id = '" + session + "' AND key_class = 'transient'");
  EXPECT_CALL(provider_, create_order_now(_)).Times(0);

  expect_done(create_order(item(session, WorkKind::create_payment_order)));

  EXPECT_EQ(state(session), "invoicing");
  EXPECT_EQ(reason(session), "link_failed");
  EXPECT_EQ(link_error(session), "the payer's data was purged");
  EXPECT_EQ(live(session), "invoice_session");
}

// --- (d), (e): send_payment_sms ------------------------------------------------------------------

TEST_F(LifecycleExits, TheGatewayRefusingTheSmsIsSmsRejected) {
  const auto session = checkout(kWithAccounts, true);
  order_created(session);
  ports::SmsMessage sent;
  EXPECT_CALL(sms_, send_now(_))
      .WillOnce(DoAll(SaveArg<0>(&sent),
                      Return(common::make_error(common::ErrorCode::provider_rejected,
                                                "linkmobility 400: invalid destination"))));

  expect_done(send_sms(item(session, WorkKind::send_payment_sms)));

  EXPECT_EQ(sent.to, kPhone);
  EXPECT_THAT(sent.text, AllOf(StartsWith("Oslo Sentrum Klinikk: Betal 650 kr"),
                               HasSubstr("https://pay.example/checkout/"),
                               HasSubstr("fakturagebyr på 39 kr")));
  EXPECT_THAT(sent.reference, StartsWith("sms-"));
  EXPECT_EQ(state(session), "invoicing");
  EXPECT_EQ(reason(session), "sms_rejected");
  EXPECT_EQ(link_error(session), "linkmobility 400: invalid destination");
  EXPECT_EQ(live(session), "invoice_session");
  EXPECT_EQ(cancelled(session), "send_payment_sms");
  EXPECT_EQ(sms_statuses(session), "rejected");
}

TEST_F(LifecycleExits, AnUnknownSmsOutcomeWaitsForItsReportAndOnTheLastChanceIsLinkFailed) {
  const auto session = checkout(kWithAccounts, true);
  order_created(session);
  const auto unknown =
      common::make_error(common::ErrorCode::provider_outcome_unknown, "timeout after 10 s");
  EXPECT_CALL(sms_, send_now(_)).Times(2).WillRepeatedly(Return(unknown));

  const auto first_at = clock_.now();
  const auto retry = send_sms(item(session, WorkKind::send_payment_sms, 1));
  EXPECT_EQ(retry.kind, OutboxOutcome::Kind::retry);
  EXPECT_EQ(state(session), "pending");
  EXPECT_EQ(live(session), "send_payment_sms");
  EXPECT_EQ(sms_statuses(session), "unknown");

  // It may have been sent: no second SMS before the delivery report had its chance.
  clock_.advance(1min);
  const auto wait = send_sms(item(session, WorkKind::send_payment_sms, 2));
  EXPECT_EQ(wait.kind, OutboxOutcome::Kind::wait);
  EXPECT_EQ(wait.not_before, first_at + 2min);
  EXPECT_EQ(sms_statuses(session), "unknown");

  // The budget is spent: the second unknown outcome is the exit.
  clock_.advance(2min);
  expect_done(send_sms(item(session, WorkKind::send_payment_sms, 8, true)));
  EXPECT_EQ(state(session), "invoicing");
  EXPECT_EQ(reason(session), "link_failed");
  EXPECT_EQ(link_error(session), "timeout after 10 s");
  EXPECT_EQ(live(session), "invoice_session");
  EXPECT_EQ(cancelled(session), "send_payment_sms");
  EXPECT_EQ(sms_statuses(session), "unknown,unknown");
  EXPECT_EQ(metrics_.value("visitpay_sms_possible_duplicates_total", ""), 1);
}

TEST_F(LifecycleExits, ATransientSmsFailureIsARetryAndOnTheLastChanceLinkFailed) {
  const auto session = checkout(kWithAccounts, true);
  order_created(session);
  const auto failed =
      common::make_error(common::ErrorCode::provider_unavailable, "linkmobility 503");
  EXPECT_CALL(sms_, send_now(_)).Times(2).WillRepeatedly(Return(failed));

  const auto retry = send_sms(item(session, WorkKind::send_payment_sms, 1));
  EXPECT_EQ(retry.kind, OutboxOutcome::Kind::retry);
  EXPECT_EQ(retry.error, "linkmobility 503");
  EXPECT_EQ(state(session), "pending");
  EXPECT_EQ(live(session), "send_payment_sms");
  EXPECT_EQ(sms_statuses(session), "not_sent");

  expect_done(send_sms(item(session, WorkKind::send_payment_sms, 8, true)));
  EXPECT_EQ(state(session), "invoicing");
  EXPECT_EQ(reason(session), "link_failed");
  EXPECT_EQ(link_error(session), "linkmobility 503");
  EXPECT_EQ(live(session), "invoice_session");
  EXPECT_EQ(cancelled(session), "send_payment_sms");
  EXPECT_EQ(sms_statuses(session), "not_sent,not_sent");
}

TEST_F(LifecycleExits, AClinicWithoutAnSmsAccountIsLinkFailed) {
  const auto session = checkout(kNoSms, true);
  order_created(session);
  EXPECT_CALL(sms_, send_now(_)).Times(0);

  expect_done(send_sms(item(session, WorkKind::send_payment_sms)));

  EXPECT_EQ(state(session), "invoicing");
  EXPECT_EQ(reason(session), "link_failed");
  EXPECT_EQ(link_error(session), "clinic tromso-nord has no SMS account");
  EXPECT_EQ(live(session), "invoice_session");
  EXPECT_EQ(cancelled(session), "send_payment_sms");
  EXPECT_EQ(sms_statuses(session), "");
}

TEST_F(LifecycleExits, AnSmsTextThatCannotFitIsLinkFailed) {
  const auto session = checkout(kWithAccounts, true);
  // Only the link can make the text too long (the clinic's name is shortened to fit).
  order_created(session, "https://pay.example/checkout/" + std::string(300, 'x'));
  EXPECT_CALL(sms_, send_now(_)).Times(0);

  expect_done(send_sms(item(session, WorkKind::send_payment_sms)));

  EXPECT_EQ(state(session), "invoicing");
  EXPECT_EQ(reason(session), "link_failed");
  EXPECT_EQ(link_error(session), "the SMS text does not fit two segments");
  EXPECT_EQ(live(session), "invoice_session");
  EXPECT_EQ(cancelled(session), "send_payment_sms");
  EXPECT_EQ(sms_statuses(session), "");
}

TEST_F(LifecycleExits, ALongClinicNameIsShortenedNotAnExit) {
  const auto session = checkout(kLongName, true);
  ports::PaymentOrderRequest request;
  EXPECT_CALL(provider_, create_order_now(_))
      .WillOnce(DoAll(SaveArg<0>(&request), Return(open_order(session))));
  expect_done(create_order(item(session, WorkKind::create_payment_order)));
  complete(session, WorkKind::create_payment_order);
  EXPECT_EQ(request.description, std::string(40, 'L'));

  ports::SmsMessage sent;
  EXPECT_CALL(sms_, send_now(_))
      .WillOnce(DoAll(SaveArg<0>(&sent), Return(ports::SmsAccepted{"msg-long", 2})));
  expect_done(send_sms(item(session, WorkKind::send_payment_sms)));

  EXPECT_THAT(sent.text, StartsWith(std::string(40, 'L') + ": Betal"));
  EXPECT_THAT(sent.text, Not(HasSubstr(std::string(41, 'L'))));
  EXPECT_EQ(state(session), "awaiting_payment");
  EXPECT_EQ(link_error(session), "<null>");
  EXPECT_EQ(sms_statuses(session), "accepted");
}

TEST_F(LifecycleExits, QuietHoursAreAWaitAndNothingIsSent) {
  clock_.set(at("2026-11-22T21:30:00Z"));  // 22:30 in Oslo
  const auto session = checkout(kWithAccounts, true);
  order_created(session);
  EXPECT_CALL(sms_, send_now(_)).Times(0);

  const auto wait = send_sms(item(session, WorkKind::send_payment_sms));

  EXPECT_EQ(wait.kind, OutboxOutcome::Kind::wait);
  EXPECT_EQ(wait.not_before, at("2026-11-23T07:00:00Z"));  // 08:00 in Oslo
  EXPECT_EQ(state(session), "pending");
  EXPECT_EQ(reason(session), "<null>");
  EXPECT_EQ(live(session), "send_payment_sms");
  EXPECT_EQ(cancelled(session), "");
  EXPECT_EQ(sms_statuses(session), "");
}

// --- (f): invoice_session settles the order first
// -------------------------------------------------

TEST_F(LifecycleExits, AnAbortedOrderIsInvoicedWithTheDisclosedFee) {
  const auto session = window_closed();
  const auto order_id = "/psp/paymentorders/" + session;
  EXPECT_CALL(provider_, get_order_now(order_id)).WillOnce(Return(open_order(session)));
  auto aborted = open_order(session);
  aborted.status = ports::PaymentStatus::aborted;
  EXPECT_CALL(provider_, abort_order_now(order_id)).WillOnce(Return(aborted));

  expect_done(close_window(item(session, WorkKind::invoice_session)));

  EXPECT_EQ(state(session), "invoiced");
  EXPECT_EQ(invoice(session),
            "window_expired fee=3900 fee_not_disclosed=false "
            "order_not_aborted=false");
  EXPECT_EQ(scalar("SELECT status FROM payment_orders WHERE session_id = '" + session + "'"),
            "aborted");
  // Only the item itself is live (the dispatcher completes it); invoicing queues nothing more.
  EXPECT_EQ(live(session), "invoice_session");
}

TEST_F(LifecycleExits, AnAbortRefusedIsAWaitWithoutInvoiceUntilItsBoundThenAFlaggedInvoice) {
  const auto session = window_closed();
  const auto since = clock_.now();
  EXPECT_EQ(session_column(session, "state_since"),
            scalar("SELECT '" + common::format_rfc3339_utc(since) + "'::timestamptz"));
  const auto order_id = "/psp/paymentorders/" + session;
  const auto conflict = common::make_error(common::ErrorCode::provider_conflict,
                                           "abort not allowed: payer in the Vipps app");
  EXPECT_CALL(provider_, get_order_now(order_id))
      .Times(3)
      .WillRepeatedly(Return(open_order(session)));
  EXPECT_CALL(provider_, abort_order_now(order_id)).Times(3).WillRepeatedly(Return(conflict));

  // Refused: look again after invoices.abort_retry (30 s); no invoice yet.
  const auto wait = close_window(item(session, WorkKind::invoice_session, 1));
  EXPECT_EQ(wait.kind, OutboxOutcome::Kind::wait);
  EXPECT_EQ(wait.not_before, since + 30s);
  EXPECT_EQ(state(session), "invoicing");
  EXPECT_EQ(invoice_count(session), "0");
  EXPECT_EQ(live(session), "invoice_session");

  EXPECT_FALSE(logged("invoice.order_not_aborted"));

  // Close to the bound the wait ends at the bound, not later.
  clock_.set(since + 59min + 45s);
  const auto last_wait = close_window(item(session, WorkKind::invoice_session, 2));
  EXPECT_EQ(last_wait.kind, OutboxOutcome::Kind::wait);
  EXPECT_EQ(last_wait.not_before, since + config_->invoices.abort_give_up_after);
  EXPECT_EQ(invoice_count(session), "0");

  // Past invoices.abort_give_up_after: the invoice regardless, flagged for finance.
  clock_.set(since + config_->invoices.abort_give_up_after + 1s);
  expect_done(close_window(item(session, WorkKind::invoice_session, 3)));
  EXPECT_EQ(state(session), "invoiced");
  EXPECT_EQ(invoice(session),
            "window_expired fee=3900 fee_not_disclosed=false "
            "order_not_aborted=true");
  EXPECT_EQ(metrics_.value("visitpay_orders_not_aborted_total", ""), 1);
  EXPECT_TRUE(logged("invoice.order_not_aborted"));  // the alert for ops
}

TEST_F(LifecycleExits, AnAbortRefusedOnTheLastChanceIsAFlaggedInvoice) {
  const auto session = window_closed();
  EXPECT_CALL(provider_, get_order_now(_)).WillOnce(Return(open_order(session)));
  EXPECT_CALL(provider_, abort_order_now(_))
      .WillOnce(Return(common::make_error(common::ErrorCode::provider_conflict, "in app")));

  expect_done(close_window(item(session, WorkKind::invoice_session, 8, true)));

  EXPECT_EQ(state(session), "invoiced");
  EXPECT_EQ(invoice(session),
            "window_expired fee=3900 fee_not_disclosed=false "
            "order_not_aborted=true");
}

TEST_F(LifecycleExits, AnOrderPaidAtTheProviderIsPaidAndNotInvoiced) {
  const auto session = window_closed();
  const auto order_id = "/psp/paymentorders/" + session;
  auto paid = open_order(session);
  paid.status = ports::PaymentStatus::paid;
  paid.instrument = "Vipps";
  paid.transaction_type = ports::TransactionType::authorization;
  paid.remaining_capture_amount = 65000;
  paid.can_capture = true;
  paid.can_abort = false;
  auto captured = paid;
  captured.remaining_capture_amount = 0;
  captured.can_capture = false;
  EXPECT_CALL(provider_, get_order_now(order_id)).WillOnce(Return(paid));
  EXPECT_CALL(provider_, abort_order_now(_)).Times(0);
  EXPECT_CALL(provider_, capture_now(order_id, Field(&ports::CaptureRequest::amount, 65000)))
      .WillOnce(Return(captured));

  expect_done(close_window(item(session, WorkKind::invoice_session)));

  EXPECT_EQ(state(session), "paid");
  EXPECT_EQ(invoice_count(session), "0");
  EXPECT_EQ(live(session), "");
  EXPECT_EQ(cancelled(session), "invoice_session");
  EXPECT_EQ(scalar("SELECT status || ' ' || captured_ore FROM payment_orders WHERE session_id = '" +
                   session + "'"),
            "paid 65000");
}

// --- (g): the invoice of a link that never reached the payer carries no fee ----------------------

TEST_F(LifecycleExits, ALinkFailedSessionIsInvoicedWithoutFee) {
  const auto session = checkout(kNoAccounts, true);  // fee 29 kr configured
  expect_done(create_order(item(session, WorkKind::create_payment_order)));
  ASSERT_EQ(reason(session), "link_failed");
  EXPECT_CALL(provider_, get_order_now(_)).Times(0);  // no order was ever made

  expect_done(close_window(item(session, WorkKind::invoice_session)));

  EXPECT_EQ(state(session), "invoiced");
  EXPECT_EQ(invoice(session), "link_failed fee=0 fee_not_disclosed=true order_not_aborted=false");
  EXPECT_EQ(live(session), "invoice_session");  // the item itself, completed by the dispatcher
}

TEST_F(LifecycleExits, ARejectedSmsIsInvoicedWithoutFeeOnceItsOrderIsAborted) {
  const auto session = checkout(kWithAccounts, true);
  order_created(session);
  EXPECT_CALL(sms_, send_now(_))
      .WillOnce(Return(common::make_error(common::ErrorCode::provider_rejected, "blocked")));
  expect_done(send_sms(item(session, WorkKind::send_payment_sms)));
  ASSERT_EQ(reason(session), "sms_rejected");
  auto aborted = open_order(session);
  aborted.status = ports::PaymentStatus::aborted;
  EXPECT_CALL(provider_, get_order_now(_)).WillOnce(Return(open_order(session)));
  EXPECT_CALL(provider_, abort_order_now(_)).WillOnce(Return(aborted));

  expect_done(close_window(item(session, WorkKind::invoice_session)));

  EXPECT_EQ(state(session), "invoiced");
  EXPECT_EQ(invoice(session), "sms_rejected fee=0 fee_not_disclosed=true order_not_aborted=false");
}

TEST_F(LifecycleExits, ANoPhoneSessionIsInvoicedWithoutFee) {
  const auto session = checkout(kWithAccounts, false);

  expect_done(close_window(item(session, WorkKind::invoice_session)));

  EXPECT_EQ(state(session), "invoiced");
  EXPECT_EQ(invoice(session), "no_phone fee=0 fee_not_disclosed=true order_not_aborted=false");
}

// --- the stores' exits of last resort ------------------------------------------------------------

TEST_F(LifecycleExits, RepairGivesAPendingSessionWithoutLiveWorkTheStrandedExit) {
  const auto stranded = checkout(kWithAccounts, true);
  const auto busy = checkout(kWithAccounts, true);  // its create_payment_order is live
  exec("UPDATE outbox SET status = 'dead' WHERE session_id = '" + stranded + "'");
  clock_.advance(10min);
  const auto quiet_before = clock_.now();
  const auto fresh = checkout(kWithAccounts, true);  // in its state since after quiet_before
  exec("UPDATE outbox SET status = 'dead' WHERE session_id = '" + fresh + "'");
  clock_.advance(1min);

  auto repaired = run(lifecycle_->repair_stranded(quiet_before, clock_.now(), 100));

  ASSERT_TRUE(repaired) << repaired.error().detail;
  EXPECT_EQ(*repaired, 1);
  EXPECT_EQ(state(stranded), "invoicing");
  EXPECT_EQ(reason(stranded), "link_failed");
  EXPECT_EQ(live(stranded), "invoice_session");
  EXPECT_EQ(state(busy), "pending");
  EXPECT_EQ(live(busy), "create_payment_order");
  EXPECT_EQ(state(fresh), "pending");
  EXPECT_EQ(live(fresh), "");
}

TEST_F(LifecycleExits, RepairQueuesTheInvoiceWorkOfAnInvoicingSessionAgain) {
  const auto session = checkout(kWithAccounts, false);
  exec("UPDATE outbox SET status = 'dead' WHERE session_id = '" + session + "'");
  ASSERT_EQ(live(session), "");
  clock_.advance(10min);

  auto repaired = run(lifecycle_->repair_stranded(clock_.now(), clock_.now(), 100));

  ASSERT_TRUE(repaired) << repaired.error().detail;
  EXPECT_EQ(*repaired, 1);
  EXPECT_EQ(state(session), "invoicing");
  EXPECT_EQ(reason(session), "no_phone");  // the reason it had
  EXPECT_EQ(live(session), "invoice_session");

  // Live work again: a second pass leaves it alone.
  auto again = run(lifecycle_->repair_stranded(clock_.now(), clock_.now(), 100));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(scalar("SELECT count(*) FROM outbox WHERE session_id = '" + session +
                   "' AND kind = 'invoice_session'"),
            "2");
}

TEST_F(LifecycleExits, OverdueListsTheSessionsPastTheirBound) {
  const domain::LifecycleBounds bounds;  // pending 24 h, invoicing 48 h
  const auto t0 = clock_.now();
  const auto pending = checkout(kWithAccounts, true);
  const auto invoicing = checkout(kWithAccounts, false);
  clock_.advance(25h);
  const auto recent = checkout(kWithAccounts, true);

  auto c = db();
  auto found = store::LifecycleStore::overdue(c, bounds, clock_.now(), 10);
  ASSERT_TRUE(found) << found.error().detail;
  ASSERT_EQ(found->size(), 1U);
  EXPECT_EQ(found->front().session_id, pending);
  EXPECT_EQ(found->front().state, domain::SessionState::pending);
  EXPECT_EQ(found->front().since, t0);
  EXPECT_EQ(found->front().clinic_id, kWithAccounts);

  clock_.advance(24h);  // the invoicing session is 49 h old now, the recent one 24 h
  found = store::LifecycleStore::overdue(c, bounds, clock_.now(), 10);
  ASSERT_TRUE(found) << found.error().detail;
  std::vector<std::string> ids;
  for (const auto& s : *found)
    ids.push_back(s.session_id);
  EXPECT_THAT(ids, ::testing::UnorderedElementsAre(pending, invoicing));
  EXPECT_THAT(ids, Not(::testing::Contains(recent)));
}

}  // namespace
}  // namespace visitpay::testing
