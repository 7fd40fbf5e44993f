// Three service instances sweep 10 000 due sessions on one database: every session ends exactly
// once (paid or invoiced), invoice numbers are gapless per legal entity, and an instance that
// stops in the middle leaves nothing behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "adapters/keys/file/file_key_store.hpp"
#include "common/time_format.hpp"
#include "due_sessions.hpp"
#include "mocks/swedbankpay/swedbankpay_mock.hpp"
#include "test_service.hpp"

namespace visitpay::testing {
namespace {

using namespace std::chrono_literals;

constexpr int kWithOrder = 8000;       // awaiting payment past the deadline, with a live order
constexpr int kPaidAtProvider = 1000;  // of those, paid at the provider; the callback was lost
constexpr int kNoPhone = 2000;         // marked for an invoice at once, no order
constexpr int kInstances = 3;

std::int64_t scalar(store::PgSyncConnection& db, const std::string& sql) {
  auto r = db.exec(sql);
  if (!r) throw std::runtime_error(r.error().detail);
  return r->int64(0, 0);
}

TEST(InvoiceSweep, ThreeInstancesTurnTenThousandDueSessionsIntoExactlyOneOutcomeEach) {
  mocks::SwedbankPayMock swedbank;
  const std::string database = migrated_database();
  auto db = store::PgSyncConnection::open(database);
  ASSERT_TRUE(db);

  DueSessions due;
  due.with_order = kWithOrder;
  due.paid = kPaidAtProvider;
  due.no_phone = kNoPhone;
  auto keys = adapters::keys::FileKeyStore::from_text(test_master_keys());
  ASSERT_TRUE(keys);
  seed_due_sessions(*db, swedbank.port(), "test-token", due, app::PayerVault(*keys));

  auto make_config = [&] {
    auto config = test_config(database);
    config.http.port = 0;
    config.outbox.max_in_flight = 8;
    config.outbox.poll_interval = 50ms;
    config.outbox.lease = 2000ms;  // a stopped instance's claims are taken over quickly
    config.invoices.sweep_interval = 50ms;
    config.invoices.sweep_batch = 200;
    config.invoices.delivery_dir = "/nonexistent-not-used";
    config::PaymentAccount pay;
    pay.name = "main";
    pay.base_url = swedbank.base_url();
    pay.provider = "payment.swedbankpay";
    pay.secrets["token"] = "test-token";
    pay.settings =
        R"({"payee_id": "5cabf558-5283-482f-b252-4d58e06f6f3b", "payee_name": "Oslo Sentrum Klinikk"})";
    config.payment_accounts = {pay};
    for (auto& clinic : config.clinics)
      clinic.payment_account = "main";
    return config;
  };

  const auto started = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<TestService>> instances;
  for (int i = 0; i < kInstances; ++i) {
    instances.push_back(std::make_unique<TestService>(make_config()));
    instances.back()->clock().set(*common::parse_rfc3339("2026-11-22T13:10:00Z"));
  }

  // One instance stops (as in a deploy) while the sweep is under way.
  const auto open_sessions = [&] {
    return scalar(*db,
                  "SELECT count(*) FROM sessions WHERE state IN ('awaiting_payment', 'invoicing')");
  };
  const auto deadline = std::chrono::steady_clock::now() + 240s;
  while (scalar(*db, "SELECT count(*) FROM invoices") < 2000 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  instances.back()->service().request_stop();
  instances.back()->service().wait();
  const auto stopped_logs = instances.back()->log_lines();
  instances.pop_back();

  // Time passes (the manual clocks follow the wall clock), so the stopped instance's leases run
  // out and the others take its claimed work over.
  while (open_sessions() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
    for (auto& instance : instances) {
      instance->clock().advance(100ms);
      instance->service().dispatcher().nudge();
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_EQ(open_sessions(), 0) << "sessions left after 240 s";

  // Every session ended exactly once.
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM sessions WHERE state = 'paid'"), kPaidAtProvider);
  const std::int64_t invoiced = kWithOrder - kPaidAtProvider + kNoPhone;
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM sessions WHERE state = 'invoiced'"), invoiced);
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM invoices"), invoiced);
  EXPECT_EQ(scalar(*db, "SELECT count(DISTINCT session_id) FROM invoices"), invoiced);
  EXPECT_EQ(scalar(*db,
                   "SELECT count(*) FROM invoices i JOIN sessions s ON s.id = i.session_id "
                   "WHERE s.state <> 'invoiced'"),
            0);
  // Gapless and unique per legal entity: 1..n.
  EXPECT_EQ(scalar(*db,
                   "SELECT count(*) FROM (SELECT org_number, count(*) AS n, "
                   "count(DISTINCT number) AS d, min(number) AS lo, max(number) AS hi "
                   "FROM invoices GROUP BY org_number) g WHERE n <> d OR lo <> 1 OR hi <> n"),
            0);
  EXPECT_EQ(scalar(*db, "SELECT count(DISTINCT org_number) FROM invoices"), 2);
  // The fee only where it was disclosed (the expired ones), none for no phone.
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM invoices WHERE fee_ore = 3900"),
            kWithOrder - kPaidAtProvider);
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM invoices WHERE reason = 'no_phone' AND fee_ore = 0"),
            kNoPhone);
  EXPECT_EQ(scalar(*db, "SELECT count(*) FROM outbox WHERE status = 'dead'"), 0);

  // At the provider: every unpaid order aborted before its invoice, every paid one captured once.
  int aborted = 0;
  int captured = 0;
  for (const auto& o : swedbank.orders()) {
    if (o.status == "Aborted") ++aborted;
    if (o.status == "Paid" && o.captured == o.amount) ++captured;
  }
  EXPECT_EQ(aborted, kWithOrder - kPaidAtProvider);
  EXPECT_EQ(captured, kPaidAtProvider);

  // All three instances did part of the work.
  auto created_by = [](const std::vector<std::string>& lines) {
    return std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
      return l.find("\"event\":\"invoice.created\"") != std::string::npos;
    });
  };
  std::int64_t total = created_by(stopped_logs);
  EXPECT_GT(created_by(stopped_logs), 0);
  for (const auto& instance : instances) {
    EXPECT_GT(created_by(instance->log_lines()), 0);
    total += created_by(instance->log_lines());
  }
  EXPECT_EQ(total, invoiced);
  std::cout << "swept " << (kWithOrder + kNoPhone) << " sessions (" << invoiced
            << " invoices) with " << kInstances << " instances in " << seconds << " s\n";
}

}  // namespace
}  // namespace visitpay::testing
