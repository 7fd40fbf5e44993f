// Races settled by design: a payment recorded while the session's invoice is being created always
// finds that invoice (voided "paid by link" while in review), because both transactions lock the
// session row first and the payment's later statements see what committed before the lock was
// granted. The interleaving is forced, not hoped for: a third connection holds the session row,
// both transactions queue behind it in a known order, then it lets go.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "common/log.hpp"
#include "common/time_format.hpp"
#include "common/uuid.hpp"
#include "store/invoice_store.hpp"
#include "store/payment_store.hpp"
#include "store/pg_sync.hpp"
#include "test_service.hpp"

namespace visitpay::testing {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class LifecycleRace : public ::testing::Test {
 protected:
  void SetUp() override {
    conninfo_ = migrated_database();
    store::PgPool::Options o;
    o.connection.conninfo = conninfo_;
    o.max_size = 4;
    pool_ = std::make_unique<store::PgPool>(ioc_.get_executor(), o, log_);
    payments_ = std::make_unique<store::PaymentStore>(*pool_);
    invoices_ = std::make_unique<store::InvoiceStore>(*pool_);
    for (int i = 0; i < 2; ++i)
      threads_.emplace_back([this] { ioc_.run(); });
  }
  void TearDown() override {
    pool_->close();
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_)
      t.join();
  }

  template <typename T>
  std::future<T> spawn(asio::awaitable<T> op) {
    return asio::co_spawn(ioc_, std::move(op), asio::use_future);
  }

  store::PgSyncConnection db() {
    auto c = store::PgSyncConnection::open(conninfo_);
    if (!c) throw std::runtime_error(c.error().detail);
    return std::move(c.value());
  }

  std::string scalar(const std::string& sql) {
    auto c = db();
    auto r = c.exec(sql);
    if (!r) throw std::runtime_error(r.error().detail);
    return r->empty() || r->is_null(0, 0) ? "<null>" : r->string(0, 0);
  }

  // A session whose window closed, its order aborted as far as visitpay knows (the payer's
  // Vipps payment is still completing at the provider).
  std::string invoicing_session() {
    const auto id = common::new_uuid_v7(std::chrono::system_clock::now());
    auto c = db();
    store::PgParams p;
    p.add(id);
    auto r = c.exec(R"sql(
      WITH s AS (
        INSERT INTO sessions (id, clinic_id, visit_id, state, invoice_reason, currency,
                              amount_ore, vat_amount_ore, checked_out_at, has_phone,
                              request_fingerprint, created_at, updated_at, state_since,
                              deadline_at, fee_disclosed_ore)
        VALUES ($1::uuid, 'oslo-sentrum', $1::text, 'invoicing', 'window_expired', 'NOK', 65000, 0,
                now() - interval '2 days', true, '\x00', now(), now(), now(), now(), 3900)
        RETURNING id
      ), l AS (
        INSERT INTO session_lines (session_id, line_no, description, amount_ore, vat_amount_ore)
        SELECT id, 1, 'Konsultasjon', 65000, 0 FROM s
      )
      INSERT INTO payment_orders (session_id, account, order_id, status, created_at, updated_at)
      SELECT id, 'main', '/psp/paymentorders/' || id::text, 'aborted', now(), now() FROM s)sql",
                    p);
    if (!r) throw std::runtime_error(r.error().detail);
    return id;
  }

  // A third connection that holds the session row until it commits: both transactions under test
  // queue behind it in the order they are started.
  store::PgSyncConnection hold_row(const std::string& id) {
    auto blocker = db();
    store::PgParams p;
    p.add(id);
    if (!blocker.exec("BEGIN") ||
        !blocker.exec("SELECT 1 FROM sessions WHERE id = $1 FOR UPDATE", p)) {
      throw std::runtime_error("could not lock the session row");
    }
    return blocker;
  }

  // Waits (bounded) until `n` backends wait for a row lock.
  void await_waiting(int n) {
    for (int i = 0; i < 500; ++i) {
      if (std::stoi(scalar("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                           "AND datname = current_database()")) >= n) {
        return;
      }
      std::this_thread::sleep_for(10ms);
    }
    FAIL() << "fewer than " << n << " transactions are waiting for the session row";
  }

  static store::InvoiceIssuer issuer() {
    store::InvoiceIssuer i;
    i.org_number = "912345688";
    i.name = "Oslo Sentrum Klinikk AS";
    i.bank_account = "15032080003";
    i.delivery_place = "Oslo Sentrum Klinikk";
    i.configured_fee = 3900;
    return i;
  }

  static store::OrderStatusUpdate paid() {
    store::OrderStatusUpdate u;
    u.status = domain::OrderStatus::paid;
    u.instrument = "Vipps";
    u.transaction_type = "authorization";
    u.captured = 65000;
    return u;
  }

  // Members: the coroutines hold references to them after the spawning statement ends.
  const store::InvoiceIssuer issuer_ = issuer();
  const store::OrderStatusUpdate paid_ = paid();
  common::Logger log_{common::LogLevel::error};
  std::string conninfo_;
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{ioc_.get_executor()};
  std::unique_ptr<store::PgPool> pool_;
  std::unique_ptr<store::PaymentStore> payments_;
  std::unique_ptr<store::InvoiceStore> invoices_;
  std::vector<std::thread> threads_;
};

TEST_F(LifecycleRace, APaymentRecordedWhileTheInvoiceIsCreatedVoidsIt) {
  const auto id = invoicing_session();
  auto blocker = hold_row(id);

  const auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  auto invoice = spawn(invoices_->create_invoice(id, issuer_, now));
  await_waiting(1);  // the invoice transaction queues first ...
  auto payment = spawn(payments_->record_order_status(id, paid_, now));
  await_waiting(2);  // ... then the payment
  ASSERT_TRUE(blocker.exec("COMMIT"));

  auto created = invoice.get();
  ASSERT_TRUE(created) << created.error().detail;
  ASSERT_TRUE(std::holds_alternative<store::InvoiceCreated>(*created));
  auto recorded = payment.get();
  ASSERT_TRUE(recorded) << recorded.error().detail;
  EXPECT_TRUE(recorded->invoice_flagged);
  EXPECT_FALSE(recorded->became_paid);
  EXPECT_EQ(recorded->state, domain::SessionState::invoiced);

  // Invariant 2: recorded, flagged for finance, never silently dropped.
  EXPECT_EQ(scalar("SELECT state FROM sessions WHERE id = '" + id + "'"), "invoiced");
  EXPECT_EQ(scalar("SELECT status || ' ' || void_reason || ' ' || paid_by_link FROM invoices "
                   "WHERE session_id = '" +
                   id + "'"),
            "void paid by link true");
  EXPECT_EQ(scalar("SELECT paid_after_close FROM payment_orders WHERE session_id = '" + id + "'"),
            "t");
  EXPECT_EQ(scalar("SELECT count(*) FROM invoice_events e JOIN invoices i ON i.id = e.invoice_id "
                   "WHERE i.session_id = '" +
                   id + "' AND e.action = 'void'"),
            "1");
}

TEST_F(LifecycleRace, APaymentRecordedFirstLeavesNothingToInvoice) {
  const auto id = invoicing_session();
  auto blocker = hold_row(id);

  const auto now =
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
  auto payment = spawn(payments_->record_order_status(id, paid_, now));
  await_waiting(1);
  auto invoice = spawn(invoices_->create_invoice(id, issuer_, now));
  await_waiting(2);
  ASSERT_TRUE(blocker.exec("COMMIT"));

  auto recorded = payment.get();
  ASSERT_TRUE(recorded) << recorded.error().detail;
  EXPECT_TRUE(recorded->became_paid);
  auto created = invoice.get();
  ASSERT_TRUE(created) << created.error().detail;
  ASSERT_TRUE(std::holds_alternative<store::InvoiceRefusal>(*created));
  EXPECT_EQ(std::get<store::InvoiceRefusal>(*created), store::InvoiceRefusal::not_invoiceable);
  EXPECT_EQ(scalar("SELECT state FROM sessions WHERE id = '" + id + "'"), "paid");
  EXPECT_EQ(scalar("SELECT count(*) FROM invoices WHERE session_id = '" + id + "'"), "0");
  // The series gave no number away.
  EXPECT_EQ(scalar("SELECT coalesce(max(last_number), 0) FROM invoice_series"), "0");
}

}  // namespace
}  // namespace visitpay::testing
