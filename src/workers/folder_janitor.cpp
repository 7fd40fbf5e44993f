#include "workers/folder_janitor.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace visitpay::workers {

namespace {
constexpr const char* kRemoved = "visitpay_delivered_files_removed_total";
}  // namespace

FolderJanitor::FolderJanitor(const asio::any_io_executor& executor, asio::any_io_executor blocking,
                             const std::vector<std::string>& folders,
                             std::chrono::seconds retention, std::chrono::milliseconds interval,
                             common::Logger& log, common::Metrics& metrics)
    : blocking_(std::move(blocking)),
      folders_(folders.begin(), folders.end()),
      retention_(retention),
      log_(log),
      metrics_(metrics),
      task_(
          executor, every("folder_janitor", interval),
          [this]() -> asio::awaitable<PassResult> {
            co_await run_once();
            co_return PassResult{};
          },
          log, metrics) {
  metrics_.describe(kRemoved, common::Metrics::Type::counter,
                    "Delivered letters and collection hand-off files removed after "
                    "invoices.delivery_retention");
  metrics_.add_collector([this](std::string& out) {
    out +=
        "# HELP visitpay_delivered_files_held Files (letters, hand-offs) in the delivery and "
        "collection folders after the last sweep\n"
        "# TYPE visitpay_delivered_files_held gauge\n"
        "visitpay_delivered_files_held " +
        std::to_string(held_.load()) + "\n";
  });
}

asio::awaitable<app::FolderHeld> FolderJanitor::run_once() {
  app::FolderHeld sum;
  for (const auto& folder : folders_) {
    // On the blocking pool; the result comes back here.
    const auto held = co_await app::sweep_folder_on(blocking_, folder, retention_, /*remove=*/true);
    if (held.removed > 0) {
      metrics_.add(kRemoved, "", static_cast<double>(held.removed));
      log_.info("privacy.files_removed",
                {{"folder", folder.string()}, {"files", static_cast<long long>(held.removed)}});
    }
    if (held.errors > 0) {
      log_.warn("privacy.files_not_removed",
                {{"folder", folder.string()}, {"errors", static_cast<long long>(held.errors)}});
    }
    sum.files += held.files;
    sum.past_retention += held.past_retention;
    sum.removed += held.removed;
    sum.errors += held.errors;
  }
  held_ = sum.files;
  co_return sum;
}

}  // namespace visitpay::workers
