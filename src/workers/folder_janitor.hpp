#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "app/delivered_files.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "workers/periodic_task.hpp"

namespace visitpay::workers {

// Removes delivered letters and collection hand-off files once the pickup has had them
// (invoices.delivery_retention after they were written): they hold personal data, and the
// database's copy is what the retention policy governs. Runs every `interval` on each instance;
// the file work runs on `blocking` (an instance sharing the folders just finds less to do).
class FolderJanitor {
 public:
  FolderJanitor(const asio::any_io_executor& executor, asio::any_io_executor blocking,
                const std::vector<std::string>& folders, std::chrono::seconds retention,
                std::chrono::milliseconds interval, common::Logger& log, common::Metrics& metrics);

  void start() { task_.start(); }
  void stop() { task_.stop(); }
  asio::awaitable<void> ended() { return task_.ended(); }
  asio::awaitable<app::FolderHeld> run_once();            // the folders' sum after this sweep
  std::int64_t passes() const { return task_.passes(); }  // sweeps the loop has made

 private:
  asio::any_io_executor blocking_;
  std::vector<std::filesystem::path> folders_;
  std::chrono::seconds retention_;
  common::Logger& log_;
  common::Metrics& metrics_;
  std::atomic<std::int64_t> held_{0};  // files in the folders after the last sweep
  PeriodicTask task_;                  // last: its pass uses the members above
};

}  // namespace visitpay::workers
