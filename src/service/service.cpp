#include "service/service.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "http/routes.hpp"

namespace visitpay::service {

namespace asio = boost::asio;

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

}  // namespace

Service::Service(config::Config config, const ports::Clock& clock, common::Logger& log)
    : config_(std::move(config)),
      clock_(clock),
      log_(log),
      ioc_(config_.http.threads),
      pool_(ioc_.get_executor(), pool_options(config_.database), log_),
      sessions_(pool_),
      clients_(pool_),
      auth_(clients_, clock_, config_.auth.token_cache_ttl),
      checkouts_(sessions_, config_, clock_, log_),
      server_(ioc_, config_.http, router_, metrics_, log_),
      signals_(ioc_) {
  http::register_routes(router_, {config_, auth_, checkouts_, pool_, metrics_, log_});
  metrics_.add_collector([this](std::string& out) {
    const auto s = pool_.stats();
    out += "# HELP visitpay_db_pool_connections Database connections by state\n";
    out += "# TYPE visitpay_db_pool_connections gauge\n";
    out += "visitpay_db_pool_connections{state=\"open\"} " + std::to_string(s.open) + "\n";
    out += "visitpay_db_pool_connections{state=\"idle\"} " + std::to_string(s.idle) + "\n";
    out += "visitpay_db_pool_connections{state=\"max\"} " + std::to_string(s.max_size) + "\n";
    out += "# HELP visitpay_db_pool_waiting Requests waiting for a database connection\n";
    out += "# TYPE visitpay_db_pool_waiting gauge\n";
    out += "visitpay_db_pool_waiting " + std::to_string(s.waiting) + "\n";
    out += "# HELP visitpay_db_pool_acquire_timeouts_total Waits for a connection that timed out\n";
    out += "# TYPE visitpay_db_pool_acquire_timeouts_total counter\n";
    out += "visitpay_db_pool_acquire_timeouts_total " + std::to_string(s.acquire_timeouts) + "\n";
    out += "# HELP visitpay_db_connect_failures_total Failed attempts to open a connection\n";
    out += "# TYPE visitpay_db_connect_failures_total counter\n";
    out += "visitpay_db_connect_failures_total " + std::to_string(s.connect_failures) + "\n";
  });
}

Service::~Service() {
  request_stop();
  wait();
}

common::Result<std::uint16_t> Service::start(bool handle_signals) {
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
  for (int i = 0; i < config_.http.threads; ++i)
    threads_.emplace_back([this] { ioc_.run(); });
  return port;
}

void Service::request_stop() {
  if (stopping_.exchange(true)) return;
  asio::co_spawn(
      ioc_,
      [this]() -> asio::awaitable<void> {
        co_await server_.shutdown();
        boost::system::error_code ignored;
        signals_.cancel(ignored);
        pool_.close();
        log_.info("service.stopped", {{"open_connections", server_.open_connections()}});
        // With every connection closed the threads run out of work and return on their own;
        // stragglers past the grace period are cut off.
        if (server_.open_connections() > 0) ioc_.stop();
      },
      asio::detached);
}

void Service::wait() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

}  // namespace visitpay::service
