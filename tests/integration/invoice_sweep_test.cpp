// Three service instances sweep 10 000 due sessions on one database: every session ends exactly
// once (paid or invoiced), invoice numbers are gapless per legal entity, and an instance that
// stops in the middle leaves nothing behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/time_format.hpp"
#include "http_client.hpp"
#include "mocks/swedbankpay/swedbankpay_mock.hpp"
#include "test_service.hpp"

namespace visitpay::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

constexpr int kWithOrder = 8000;       // awaiting payment past the deadline, with a live order
constexpr int kPaidAtProvider = 1000;  // of those, paid at the provider; the callback was lost
constexpr int kNoPhone = 2000;         // marked for an invoice at once, no order
constexpr int kInstances = 3;

// Creates an order at the mock as the service would have, and returns its id.
std::string create_order(std::uint16_t port, int n) {
  const Json body = {{"paymentorder",
                      {{"operation", "Purchase"},
                       {"currency", "NOK"},
                       {"amount", 65000},
                       {"vatAmount", 0},
                       {"description", "Oslo Sentrum Klinikk"},
                       {"userAgent", "visitpay-test"},
                       {"language", "nb-NO"},
                       {"urls",
                        {{"hostUrls", {"http://127.0.0.1:9"}},
                         {"completeUrl", "http://127.0.0.1:9/payment/complete"},
                         {"cancelUrl", "http://127.0.0.1:9/payment/cancelled"}}},
                       {"payeeInfo",
                        {{"payeeId", "5cabf558-5283-482f-b252-4d58e06f6f3b"},
                         {"payeeReference", "SWEEP" + std::to_string(n)},
                         {"payeeName", "Oslo Sentrum Klinikk"}}}}}};
  auto reply = http_request(
      port, "POST", "/psp/paymentorders", body.dump(),
      {{"Authorization", "Bearer test-token"}, {"Content-Type", "application/json;version=3.1"}});
  if (reply.status != 200 && reply.status != 201) throw std::runtime_error(reply.body);
  return Json::parse(reply.body)["paymentOrder"]["id"].get<std::string>();
}

std::int64_t scalar(store::PgSyncConnection& db, const std::string& sql) {
  auto r = db.exec(sql);
  if (!r) throw std::runtime_error(r.error().detail);
  return r->int64(0, 0);
}

void exec(store::PgSyncConnection& db, const std::string& sql, const store::PgParams& params = {}) {
  auto r = params.size() == 0 ? db.exec(sql) : db.exec(sql, params);
  if (!r) throw std::runtime_error(r.error().detail);
}

TEST(InvoiceSweep, ThreeInstancesTurnTenThousandDueSessionsIntoExactlyOneOutcomeEach) {
  mocks::SwedbankPayMock swedbank;
  const std::string database = migrated_database();
  auto db = store::PgSyncConnection::open(database);
  ASSERT_TRUE(db);

  // Sessions whose window closed two days ago (half per legal entity), with their lines and
  // payer, as the payment-link flow left them.
  exec(*db, R"sql(
    INSERT INTO sessions (id, clinic_id, visit_id, state, currency, amount_ore, vat_amount_ore,
                          checked_out_at, has_phone, request_fingerprint, created_at, updated_at,
                          deadline_at, fee_disclosed_ore, invoice_reason)
    SELECT gen_random_uuid(), CASE WHEN n % 2 = 0 THEN 'oslo-sentrum' ELSE 'bergen-brygge' END,
           'SWEEP-' || n, CASE WHEN n <= $1 THEN 'awaiting_payment' ELSE 'invoicing' END, 'NOK',
           65000, 0, '2026-11-18T10:00:00Z', n <= $1, '\x00', '2026-11-18T10:00:00Z',
           '2026-11-18T10:00:00Z',
           CASE WHEN n <= $1 THEN '2026-11-20T10:00:00Z'::timestamptz END,
           CASE WHEN n <= $1 THEN 3900 END, CASE WHEN n > $1 THEN 'no_phone' END
    FROM generate_series(1, $2::int) AS n)sql",
       [] {
         store::PgParams p;
         p.add(kWithOrder).add(kWithOrder + kNoPhone);
         return p;
       }());
  exec(*db, R"sql(
    INSERT INTO session_lines (session_id, line_no, description, amount_ore, vat_amount_ore)
    SELECT id, 1, 'Konsultasjon', 65000, 0 FROM sessions;
    INSERT INTO payers (session_id, name, street, postal_code, city, country)
    SELECT id, 'Kari Nordmann', 'Storgata 1', '0155', 'Oslo', 'NO' FROM sessions)sql");
  {
    auto ids = db->exec(
        "SELECT id::text FROM sessions WHERE state = 'awaiting_payment' ORDER BY visit_id");
    ASSERT_TRUE(ids);
    ASSERT_EQ(ids->rows(), kWithOrder);
    for (int i = 0; i < kWithOrder; ++i) {
      const auto order_id = create_order(swedbank.port(), i);
      if (i < kPaidAtProvider) {
        ASSERT_TRUE(swedbank.pay(order_id, "CreditCard"));
      }
      store::PgParams p;
      p.add(ids->string(i, 0)).add(order_id);
      exec(*db,
           "INSERT INTO payment_orders (session_id, account, order_id, payment_url, status, "
           "created_at, updated_at) VALUES ($1, 'main', $2, 'http://127.0.0.1:9/checkout', "
           "'Initialized', now(), now())",
           p);
    }
  }

  auto make_config = [&] {
    auto config = test_config(database);
    config.http.port = 0;
    config.outbox.concurrency = 8;
    config.outbox.poll_interval = 50ms;
    config.outbox.lease = 2000ms;  // a stopped instance's claims are taken over quickly
    config.invoices.sweep_interval = 50ms;
    config.invoices.sweep_batch = 200;
    config.invoices.delivery_dir = "/nonexistent-not-used";
    config::PaymentAccount pay;
    pay.name = "main";
    pay.base_url = swedbank.base_url();
    pay.token = "test-token";
    pay.payee_id = "5cabf558-5283-482f-b252-4d58e06f6f3b";
    pay.payee_name = "Oslo Sentrum Klinikk";
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
