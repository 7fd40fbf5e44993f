#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "ports/clock.hpp"
#include "service/service.hpp"
#include "store/pg_sync.hpp"

namespace visitpay::testing {

// A fresh, migrated database in the shared test cluster; returns its conninfo.
std::string migrated_database();

// The master key ring of every test service in this process (one key, "test-1").
const std::string& test_master_keys();

// The configuration tests run with: two clinics, synthetic ids allowed, port 0.
config::Config test_config(const std::string& conninfo);

// The example check-out body from the issue, with a chosen visit_id.
std::string example_checkout(const std::string& visit_id);

// The whole service in-process on a random port, with a manual clock and captured logs.
class TestService {
 public:
  explicit TestService(config::Config config);
  ~TestService();

  std::uint16_t port() const { return port_; }
  ports::ManualClock& clock() { return clock_; }
  const config::Config& config() const { return config_; }
  service::Service& service() { return *service_; }

  // Runs `op` (e.g. a worker's run_once()) on the service's I/O threads and waits for its result.
  template <typename T>
  T await(boost::asio::awaitable<T> op) {
    return boost::asio::co_spawn(service_->executor(), std::move(op), boost::asio::use_future)
        .get();
  }

  // Creates an API client and returns its token.
  std::string token(const std::string& scopes, const std::string& clinics = {});
  store::PgSyncConnection db() const;
  std::vector<std::string> log_lines() const;

 private:
  config::Config config_;
  ports::ManualClock clock_;
  mutable std::mutex log_mutex_;
  std::vector<std::string> log_lines_;
  common::Logger log_;
  std::unique_ptr<service::Service> service_;
  std::uint16_t port_ = 0;
};

}  // namespace visitpay::testing
