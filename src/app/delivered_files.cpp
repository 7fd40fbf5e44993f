#include "app/delivered_files.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <system_error>

namespace visitpay::app {

namespace fs = std::filesystem;

FolderHeld sweep_folder(const fs::path& dir, std::chrono::seconds retention, bool remove) {
  FolderHeld held;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    if (ec != std::errc::no_such_file_or_directory) held.errors++;
    return held;
  }
  const auto cutoff = fs::file_time_type::clock::now() - retention;
  for (const fs::directory_iterator end; it != end; it.increment(ec)) {
    if (ec) {
      held.errors++;
      break;
    }
    std::error_code file_ec;
    const auto status = it->symlink_status(file_ec);
    if (file_ec || !fs::is_regular_file(status)) continue;
    const auto written = it->last_write_time(file_ec);
    if (file_ec) {
      held.errors++;
      continue;
    }
    held.files++;
    if (written >= cutoff) continue;
    if (!remove) {
      held.past_retention++;
      continue;
    }
    const bool removed = fs::remove(it->path(), file_ec);
    if (file_ec) {
      held.errors++;
      held.past_retention++;
      continue;
    }
    held.files--;  // removed now, or the pickup took it meanwhile
    if (removed) held.removed++;
  }
  return held;
}

namespace {
// By-value parameters, copied into the coroutine frame (a capturing lambda would leave the frame
// pointing into a temporary).
boost::asio::awaitable<FolderHeld> sweep_here(fs::path dir, std::chrono::seconds retention,
                                              bool remove) {
  co_return sweep_folder(dir, retention, remove);
}
}  // namespace

boost::asio::awaitable<FolderHeld> sweep_folder_on(boost::asio::any_io_executor blocking,
                                                   fs::path dir, std::chrono::seconds retention,
                                                   bool remove) {
  auto work = sweep_here(std::move(dir), retention, remove);
  co_return co_await boost::asio::co_spawn(blocking, std::move(work), boost::asio::use_awaitable);
}

}  // namespace visitpay::app
