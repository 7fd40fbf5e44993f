#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <memory>
#include <thread>
#include <vector>

#include "app/auth.hpp"
#include "app/checkout_service.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "ports/clock.hpp"
#include "store/client_store.hpp"
#include "store/pg_pool.hpp"
#include "store/session_store.hpp"

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
  const http::Router& router() const { return router_; }

 private:
  config::Config config_;
  const ports::Clock& clock_;
  common::Logger& log_;
  boost::asio::io_context ioc_;
  common::Metrics metrics_;
  store::PgPool pool_;
  store::SessionStore sessions_;
  store::ClientStore clients_;
  app::Authenticator auth_;
  app::CheckoutService checkouts_;
  http::Router router_;
  http::HttpServer server_;
  boost::asio::signal_set signals_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
};

}  // namespace visitpay::service
