#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>

namespace visitpay::app {

// What a delivery folder holds: the invoice channel's letters (invoice.folder) or a collection
// agency's hand-off files. Both carry personal data (names, addresses; hand-offs national ids),
// so they stay only until the pickup has had them (invoices.delivery_retention).
struct FolderHeld {
  std::int64_t files = 0;           // regular files in it now (after this sweep's removals)
  std::int64_t past_retention = 0;  // of them, last written longer ago than the retention
  std::int64_t removed = 0;         // removed by this sweep
  std::int64_t errors = 0;          // files that could not be looked at or removed
};

// Looks at the regular files directly in `dir` (not below it; symbolic links are not followed
// and not counted), dot files included (writes in progress, or left by a crash). With `remove`,
// deletes those last written more than `retention` ago; a file written since is kept. A missing
// directory holds nothing. Blocking: call it on a blocking executor.
FolderHeld sweep_folder(const std::filesystem::path& dir, std::chrono::seconds retention,
                        bool remove);

// sweep_folder() on `blocking` (a thread pool), resumed on the caller's executor.
boost::asio::awaitable<FolderHeld> sweep_folder_on(boost::asio::any_io_executor blocking,
                                                   std::filesystem::path dir,
                                                   std::chrono::seconds retention, bool remove);

}  // namespace visitpay::app
