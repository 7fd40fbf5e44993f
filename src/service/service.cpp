#include "service/service.hpp"

#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <random>

#include "adapters/collection/folder/folder_agency.hpp"
#include "adapters/invoice/email/email_channel.hpp"
#include "adapters/invoice/folder/folder_channel.hpp"
#include "adapters/keys/file/file_key_store.hpp"
#include "adapters/pdf/libharu/invoice_pdf.hpp"
#include "adapters/register_all.hpp"
#include "common/crypto.hpp"
#include "http/bank_routes.hpp"
#include "http/console_routes.hpp"
#include "http/invoice_routes.hpp"
#include "http/ops_routes.hpp"
#include "http/payer_pages.hpp"
#include "http/privacy_routes.hpp"
#include "http/refund_routes.hpp"
#include "http/routes.hpp"

namespace visitpay::service {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace {

store::PgPool::Options pool_options(const config::DatabaseConfig& db) {
  store::PgPool::Options o;
  o.connection.conninfo = db.url;
  o.connection.connect_timeout = db.connect_timeout;
  o.connection.statement_timeout = db.statement_timeout;
  o.max_size = db.pool_size;
  o.acquire_timeout = db.acquire_timeout;
  return o;
}

app::ConsoleAuthOptions console_options(const config::AuthConfig& c) {
  app::ConsoleAuthOptions o;
  o.idle_timeout = c.console_idle_timeout;
  o.absolute_timeout = c.console_absolute_timeout;
  o.max_failures_per_account = c.console_max_failures_per_account;
  o.max_failures_per_address = c.console_max_failures_per_address;
  return o;
}

workers::DispatcherOptions dispatcher_options(const config::OutboxConfig& c) {
  workers::DispatcherOptions o;
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  // Unique per instance: leases name their owner, and a restarted process is a new owner.
  o.owner = std::string(host.data()) + ":" + std::to_string(getpid()) + ":" +
            common::to_hex(common::random_bytes(4));
  o.claim_batch = c.claim_batch;
  o.max_in_flight = c.max_in_flight;
  o.lease = c.lease;
  o.poll_interval = c.poll_interval;
  o.base_backoff = c.base_backoff;
  o.max_backoff = c.max_backoff;
  o.budgets.by_kind = c.budgets;
  o.budgets.fallback = c.default_budget;
  o.retention = c.retention;
  return o;
}

// An empty key ring for a service that will refuse to start: no key, so nothing can be sealed.
class NoKeys final : public ports::KeyStore {
 public:
  std::string active_key_id() const override { return ""; }
  std::optional<common::DataKey> master_key(std::string_view) const override {
    return std::nullopt;
  }
};

std::unique_ptr<ports::KeyStore> load_keys(const config::Config& config, common::Error& error) {
  namespace keys = adapters::keys;
  auto ring = keys::load_key_ring(config.master_keys, config.master_keys_file);
  if (!ring) {
    error = ring.error();
    return std::make_unique<NoKeys>();
  }
  return std::make_unique<keys::FileKeyStore>(std::move(ring.value()));
}

ports::AdapterAccount adapter_account(const std::string& section,
                                      const config::ProviderAccount& a) {
  ports::AdapterAccount out;
  out.path = section + "/" + a.name;
  out.name = a.name;
  out.base_url = a.base_url;
  out.timeout = a.timeout;
  out.settings = a.settings;
  out.secrets = a.secrets;
  out.webhook_token = a.webhook_tokens.empty() ? std::string() : a.webhook_tokens.back();
  return out;
}

// Each clinic's collection agency drop folder (reminders.collection.dir).
// The e-mail channel when invoices.email names a relay; null otherwise.
std::unique_ptr<ports::InvoiceChannel> email_channel(const config::EmailConfig& c) {
  if (c.smtp_url.empty()) return nullptr;
  return std::make_unique<adapters::invoice::EmailInvoiceChannel>(
      adapters::invoice::EmailSettings{c.smtp_url, c.require_tls, c.from_address, c.reply_to,
                                       c.username, c.password, c.ca_file, c.timeout});
}

std::map<std::string, std::filesystem::path, std::less<>> collection_dirs(
    const config::Config& config) {
  std::map<std::string, std::filesystem::path, std::less<>> out;
  for (const auto& clinic : config.clinics) {
    if (!clinic.collection_dir.empty()) out.emplace(clinic.id, clinic.collection_dir);
  }
  return out;
}

}  // namespace

Service::Service(config::Config config, const ports::Clock& clock, common::Logger& log)
    : config_(std::move(config)),
      clock_(clock),
      log_(log),
      ioc_(config_.http.threads),
      pool_(ioc_.get_executor(), pool_options(config_.database), log_),
      sessions_(pool_),
      clients_(pool_),
      users_(pool_),
      overview_(pool_),
      outbox_(pool_),
      payments_(pool_),
      invoices_(pool_),
      reminders_(pool_),
      lifecycle_(pool_),
      refunds_(pool_),
      keys_(load_keys(config_, keys_error_)),
      vault_(std::make_unique<app::PayerVault>(*keys_)),
      http_client_(ioc_.get_executor()),
      dispatcher_(ioc_.get_executor(), outbox_, clock_, log_, metrics_,
                  dispatcher_options(config_.outbox)),
      payment_work_(
          {payments_, *vault_, config_, providers_, clock_, log_, metrics_, provider_health_}),
      refund_work_({refunds_, payments_, providers_, clock_, log_, metrics_}),
      reconciler_(ioc_.get_executor(), payments_, outbox_, config_.reconcile, clock_, log_,
                  metrics_, [this] { dispatcher_.nudge(); }),
      invoice_renderer_(std::make_unique<adapters::pdf::LibharuInvoiceRenderer>()),
      invoice_channel_(std::make_unique<adapters::invoice::FolderInvoiceChannel>(
          blocking_.get_executor(), config_.invoices.delivery_dir)),
      email_channel_(email_channel(config_.invoices.email)),
      collection_agency_(std::make_unique<adapters::collection::FolderCollectionAgency>(
          blocking_.get_executor(), collection_dirs(config_))),
      invoice_documents_(*invoice_renderer_, blocking_.get_executor(), clock_),
      invoice_work_({invoices_, payments_, payment_work_, invoice_documents_, *vault_,
                     *invoice_channel_, email_channel_.get(), reminders_, *collection_agency_,
                     config_, clock_, log_, metrics_}),
      sweeper_(ioc_.get_executor(), invoices_, config_.invoices, clock_, log_, metrics_,
               [this] { dispatcher_.nudge(); }),
      reminder_scheduler_(ioc_.get_executor(), reminders_, config_, clock_, log_, metrics_,
                          [this] { dispatcher_.nudge(); }),
      watch_(ioc_.get_executor(), lifecycle_, config_.lifecycle, clock_, log_, metrics_,
             [this] { dispatcher_.nudge(); }),
      privacy_(pool_),
      purger_(ioc_.get_executor(), privacy_, config_.privacy.retention,
              config_.privacy.purge_interval, config_.privacy.purge_batch, clock_, log_, metrics_),
      folder_janitor_(ioc_.get_executor(), blocking_.get_executor(), config_.delivery_folders(),
                      config_.privacy.delivered_files_retention, config_.privacy.purge_interval,
                      log_, metrics_),
      auth_(clients_, clock_, config_.auth),
      password_login_(users_, clock_, blocking_.get_executor(), console_options(config_.auth),
                      log_),
      web_sessions_(users_, clock_, console_options(config_.auth)),
      checkouts_(sessions_, *vault_, config_, clock_, log_),
      payment_service_(payments_, outbox_, config_, clock_, log_, [this] { dispatcher_.nudge(); }),
      payer_page_orders_(payments_, config_, clock_, log_, metrics_),
      payer_pages_(payments_, payer_page_orders_, config_, providers_.payment, clock_, log_,
                   metrics_, [this] { dispatcher_.nudge(); }),
      invoice_service_(invoices_, invoice_documents_, *vault_, clock_, log_,
                       [this] { dispatcher_.nudge(); }),
      refund_service_(refunds_, clock_, log_, metrics_, [this] { dispatcher_.nudge(); }),
      privacy_service_(privacy_, *vault_, config_.lookup_key, config_.privacy.retention,
                       config_.checkout.allow_synthetic_national_ids, clock_, log_),
      bank_(pool_, app::kid_rules(config_), clock_, log_, metrics_),
      server_(ioc_, config_.http, router_, metrics_, log_),
      signals_(ioc_) {
  std::string problems;
  if (auto registered = adapters::register_all(adapters_, {http_client_}); !registered) {
    problems += "\n" + registered.error().detail;
  }
  for (const auto& a : config_.payment_accounts) {
    auto provider = adapters_.create_payment(a.provider, adapter_account("/payment_accounts", a),
                                             config_.public_base_url);
    if (!provider) {
      problems += "\n" + provider.error().detail;
      continue;
    }
    payment_providers_.push_back(std::move(provider.value()));
    providers_.payment[a.name] = payment_providers_.back().get();
  }
  for (const auto& a : config_.sms_accounts) {
    auto gateway = adapters_.create_sms(a.provider, adapter_account("/sms_accounts", a),
                                        config_.public_base_url);
    if (!gateway) {
      problems += "\n" + gateway.error().detail;
      continue;
    }
    sms_gateways_.push_back(std::move(gateway.value()));
    providers_.sms[a.name] = sms_gateways_.back().get();
  }
  // A sender id the gateway cannot use would make it refuse every SMS of that clinic.
  for (const auto& clinic : config_.clinics) {
    const auto gateway = providers_.sms.find(clinic.sms_account);
    if (clinic.sms_sender.empty() || gateway == providers_.sms.end()) continue;
    if (auto problem = gateway->second->sender_problem(clinic.sms_sender); !problem.empty()) {
      problems += "\n/clinics/" + clinic.id + "/sms_sender: " + problem;
    }
  }
  if (!problems.empty()) {
    adapters_error_ =
        common::make_error(common::ErrorCode::bad_request, "provider accounts:" + problems);
  }
  payment_work_.register_with(dispatcher_);
  invoice_work_.register_with(dispatcher_);
  refund_work_.register_with(dispatcher_);

  http::register_routes(router_, {config_, auth_, checkouts_, payment_service_, adapters_, pool_,
                                  metrics_, log_, provider_health_});
  http::register_invoice_routes(router_, {auth_, invoice_service_, clock_, log_});
  http::register_refund_routes(router_, {auth_, refund_service_, log_});
  http::register_privacy_routes(
      router_, {auth_, privacy_service_, log_, config_.delivery_folders(),
                config_.privacy.delivered_files_retention, blocking_.get_executor()});
  http::register_ops_routes(router_,
                            {auth_, lifecycle_, outbox_, overview_, config_, clock_, log_});
  auth_.accept_sessions(web_sessions_);
  http::register_console_routes(
      router_, {auth_, password_login_, web_sessions_, users_, clock_, log_,
                config_.public_base_url.rfind("https://", 0) == 0,
                static_cast<std::int64_t>(config_.auth.console_idle_timeout.count())});
  http::register_bank_routes(router_, {auth_, bank_, log_});
  http::register_payer_pages(router_, payer_pages_, log_);
  metrics_.add_collector([this](std::string& out) {
    // One metric of one sample (or of labelled samples, each "{labels} value" without the name).
    const auto metric =
        [&out](std::string_view name, std::string_view type, std::string_view help,
               std::initializer_list<std::pair<std::string_view, std::int64_t>> samples) {
          out.append("# HELP ").append(name).append(" ").append(help).append("\n");
          out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
          for (const auto& [labels, value] : samples) {
            out.append(name).append(labels).append(" ").append(std::to_string(value)).append("\n");
          }
        };
    const auto n = [](auto v) { return static_cast<std::int64_t>(v); };
    const auto s = pool_.stats();
    metric("visitpay_db_pool_connections", "gauge", "Database connections by state",
           {{"{state=\"open\"}", n(s.open)},
            {"{state=\"idle\"}", n(s.idle)},
            {"{state=\"max\"}", n(s.max_size)}});
    metric("visitpay_db_pool_waiting", "gauge", "Requests waiting for a database connection",
           {{"", n(s.waiting)}});
    metric("visitpay_db_pool_acquire_timeouts_total", "counter",
           "Waits for a connection that timed out", {{"", n(s.acquire_timeouts)}});
    metric("visitpay_db_connect_failures_total", "counter", "Failed attempts to open a connection",
           {{"", n(s.connect_failures)}});
    metric("visitpay_outbox_dead_letters", "gauge",
           "Outbox items in the dead letters (all instances)", {{"", reconciler_.dead_letters()}});
    metric("visitpay_outbox_oldest_due_seconds", "gauge",
           "How long the longest-waiting due outbox item has been due (all instances)",
           {{"", reconciler_.oldest_due_seconds()}});
    metric("visitpay_payments_after_close", "gauge",
           "Orders paid after their session was cancelled (to refund; all instances)",
           {{"", reconciler_.paid_after_close()}});
    metric("visitpay_invoices_pending_review", "gauge",
           "Invoices waiting for finance (all instances)", {{"", sweeper_.pending_review()}});
    metric("visitpay_invoices_pending_review_oldest_seconds", "gauge",
           "How long the oldest invoice waiting for finance has waited (all instances)",
           {{"", sweeper_.oldest_review_seconds()}});
    const auto h = http_client_.stats();
    metric("visitpay_provider_requests_total", "counter", "Outbound HTTP attempts to providers",
           {{"", n(h.requests)}});
    metric("visitpay_provider_transport_failures_total", "counter",
           "Outbound HTTP attempts that failed without an answer", {{"", n(h.transport_failures)}});
  });
}

Service::~Service() {
  request_stop();
  wait();
}

common::Result<std::uint16_t> Service::start(bool handle_signals) {
  if (adapters_error_) return *adapters_error_;
  if (keys_->active_key_id().empty()) return keys_error_;
  // The config cannot know the work kinds; a budget for a kind nobody handles is a typo.
  for (const auto& [kind, budget] : config_.outbox.budgets) {
    if (!dispatcher_.has_handler(kind)) {
      return common::make_error(common::ErrorCode::bad_request,
                                "config: /outbox/budgets/" + kind + ": unknown work kind");
    }
  }
  auto port = server_.listen();
  if (!port) return port;
  server_.start();
  if (handle_signals) {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      log_.info("service.signal", {{"signal", signal}});
      request_stop();
    });
  }
  log_.info("service.listening", {{"address", config_.http.host}, {"port", *port}});
  for (const auto& clinic : config_.clinics) {
    if (clinic.payment_account.empty()) {
      log_.warn("service.clinic_without_payment_account", {{"clinic_id", clinic.id}});
    }
  }
  if (config_.outbox.enabled) {
    dispatcher_.start();
    reconciler_.start();
    sweeper_.start();
    reminder_scheduler_.start();
    watch_.start();
    purger_.start();
    folder_janitor_.start();
  } else {
    log_.info("service.outbox_disabled", {});
  }
  for (int i = 0; i < config_.http.threads; ++i)
    threads_.emplace_back([this] { ioc_.run(); });
  return port;
}

void Service::request_stop() {
  if (stopping_.exchange(true)) return;
  asio::co_spawn(
      ioc_,
      [this]() -> asio::awaitable<void> {
        // Nothing new is claimed from here on; work already handed out finishes and is
        // recorded (an SMS in flight is recorded as sent, so a restart does not send it again)
        // while HTTP drains. Only then does the pool close.
        dispatcher_.stop();
        reconciler_.stop();
        sweeper_.stop();
        reminder_scheduler_.stop();
        watch_.stop();
        purger_.stop();
        folder_janitor_.stop();
        const bool drained =
            co_await (server_.shutdown() && dispatcher_.shutdown(config_.outbox.shutdown_grace));
        co_await reconciler_.ended();
        co_await sweeper_.ended();
        co_await reminder_scheduler_.ended();
        co_await watch_.ended();
        co_await purger_.ended();
        co_await folder_janitor_.ended();
        boost::system::error_code ignored;
        signals_.cancel(ignored);
        pool_.close();
        log_.info("service.stopped",
                  {{"open_connections", server_.open_connections()}, {"outbox_drained", drained}});
        // With every connection closed and every item recorded the threads run out of work
        // and return on their own; stragglers past the grace periods are cut off (an outbox
        // item's lease runs out and another instance takes it over).
        if (server_.open_connections() > 0 || !drained) ioc_.stop();
      },
      asio::detached);
}

void Service::wait() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  blocking_.join();
}

}  // namespace visitpay::service
