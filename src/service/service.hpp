#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "adapters/http/http_client.hpp"
#include "app/auth.hpp"
#include "app/bank_import.hpp"
#include "app/checkout_service.hpp"
#include "app/console_auth.hpp"
#include "app/invoice_documents.hpp"
#include "app/invoice_service.hpp"
#include "app/payer_pages.hpp"
#include "app/payer_vault.hpp"
#include "app/payment_orders.hpp"
#include "app/payment_service.hpp"
#include "app/privacy_service.hpp"
#include "app/refund_service.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "ports/adapter_registry.hpp"
#include "ports/clock.hpp"
#include "ports/collection_agency.hpp"
#include "ports/key_store.hpp"
#include "store/client_store.hpp"
#include "store/invoice_store.hpp"
#include "store/lifecycle_store.hpp"
#include "store/outbox_store.hpp"
#include "store/overview_store.hpp"
#include "store/payment_store.hpp"
#include "store/pg_pool.hpp"
#include "store/privacy_store.hpp"
#include "store/refund_store.hpp"
#include "store/reminder_store.hpp"
#include "store/session_store.hpp"
#include "store/user_store.hpp"
#include "workers/deadline_sweeper.hpp"
#include "workers/folder_janitor.hpp"
#include "workers/invoice_work.hpp"
#include "workers/lifecycle_watch.hpp"
#include "workers/outbox_dispatcher.hpp"
#include "workers/payment_work.hpp"
#include "workers/purger.hpp"
#include "workers/reconciler.hpp"
#include "workers/refund_work.hpp"
#include "workers/reminder_scheduler.hpp"

namespace visitpay::service {

// The running service: components constructed and wired explicitly, in dependency order.
// Used by `visitpay serve` and by the integration tests (with port 0 and a manual clock).
class Service {
 public:
  Service(config::Config config, const ports::Clock& clock, common::Logger& log);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Binds the listener and starts the I/O threads. Returns the bound port.
  common::Result<std::uint16_t> start(bool handle_signals);
  // Graceful stop (thread-safe): drain HTTP, close the pool, stop the threads.
  void request_stop();
  // Blocks until the service stopped.
  void wait();

  common::Metrics& metrics() { return metrics_; }
  // The I/O threads' executor (tests run a worker's run_once() on it).
  boost::asio::any_io_executor executor() { return ioc_.get_executor(); }
  const http::Router& router() const { return router_; }
  workers::OutboxDispatcher& dispatcher() { return dispatcher_; }
  workers::Reconciler& reconciler() { return reconciler_; }
  workers::DeadlineSweeper& sweeper() { return sweeper_; }
  workers::Purger& purger() { return purger_; }
  workers::FolderJanitor& folder_janitor() { return folder_janitor_; }
  workers::LifecycleWatch& watch() { return watch_; }
  workers::ReminderScheduler& reminder_scheduler() { return reminder_scheduler_; }
  workers::InvoiceWork& invoice_work() { return invoice_work_; }

 private:
  config::Config config_;
  const ports::Clock& clock_;
  common::Logger& log_;
  boost::asio::io_context ioc_;
  common::Metrics metrics_;
  store::PgPool pool_;
  store::SessionStore sessions_;
  store::ClientStore clients_;
  store::UserStore users_;
  store::OverviewStore overview_;
  store::OutboxStore outbox_;
  store::PaymentStore payments_;
  store::InvoiceStore invoices_;
  store::ReminderStore reminders_;
  store::LifecycleStore lifecycle_;
  store::RefundStore refunds_;
  // The master key ring (from config.master_keys / master_keys_file); start() refuses to run
  // without one.
  common::Error keys_error_;
  std::unique_ptr<ports::KeyStore> keys_;
  std::unique_ptr<app::PayerVault> vault_;
  // Blocking work (PDF rendering, file writes) runs here, never on the I/O threads.
  boost::asio::thread_pool blocking_{2};
  adapters::http::HttpClient http_client_;
  // The payment and SMS adapters of this build, by id; each configured account gets the one its
  // `provider` names. start() refuses to run when an account's section does not parse.
  ports::AdapterRegistry adapters_;
  std::optional<common::Error> adapters_error_;
  std::vector<std::unique_ptr<ports::PaymentProvider>> payment_providers_;
  std::vector<std::unique_ptr<ports::SmsGateway>> sms_gateways_;
  workers::ProviderDirectory providers_;
  app::ProviderHealth provider_health_;
  workers::OutboxDispatcher dispatcher_;
  workers::PaymentWork payment_work_;
  workers::RefundWork refund_work_;
  workers::Reconciler reconciler_;
  std::unique_ptr<ports::InvoiceRenderer> invoice_renderer_;
  std::unique_ptr<ports::InvoiceChannel> invoice_channel_;
  std::unique_ptr<ports::InvoiceChannel> email_channel_;  // null without invoices.email
  std::unique_ptr<ports::CollectionAgency> collection_agency_;
  app::InvoiceDocuments invoice_documents_;
  workers::InvoiceWork invoice_work_;
  workers::DeadlineSweeper sweeper_;
  workers::ReminderScheduler reminder_scheduler_;
  workers::LifecycleWatch watch_;
  store::PrivacyStore privacy_;
  workers::Purger purger_;
  workers::FolderJanitor folder_janitor_;
  app::Authenticator auth_;
  app::PasswordLogin password_login_;  // the console's login method (OpenID Connect may follow)
  app::WebSessions web_sessions_;
  app::CheckoutService checkouts_;
  app::PaymentService payment_service_;
  // The payer pages (completeUrl, cancelUrl) and the fresh payment they can start.
  app::PaymentOrders payer_page_orders_;
  app::PayerPages payer_pages_;
  app::InvoiceService invoice_service_;
  app::RefundService refund_service_;
  app::PrivacyService privacy_service_;
  app::BankReconciliation bank_;
  http::Router router_;
  http::HttpServer server_;
  boost::asio::signal_set signals_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
};

}  // namespace visitpay::service
