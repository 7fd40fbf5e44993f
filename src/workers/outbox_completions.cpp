#include "workers/outbox_completions.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <utility>
#include <vector>

namespace visitpay::workers {

struct OutboxCompletions::Batch {
  explicit Batch(const asio::strand<asio::any_io_executor>& strand)
      : recorded(strand, asio::steady_timer::time_point::max()) {}
  std::vector<std::int64_t> ids;
  asio::steady_timer recorded;  // cancelled when the statement has answered
  bool answered = false;
  common::Result<std::vector<std::int64_t>> completed = std::vector<std::int64_t>{};
};

OutboxCompletions::OutboxCompletions(asio::strand<asio::any_io_executor> strand,
                                     store::OutboxStore& outbox, const ports::Clock& clock,
                                     std::string owner)
    : strand_(std::move(strand)), outbox_(outbox), clock_(clock), owner_(std::move(owner)) {}

asio::awaitable<common::Result<bool>> OutboxCompletions::complete(std::int64_t id) {
  if (!gathering_) gathering_ = std::make_shared<Batch>(strand_);
  const auto batch = gathering_;
  batch->ids.push_back(id);
  if (!flushing_) {
    flushing_ = true;
    asio::co_spawn(strand_, flush(), asio::detached);
  }
  if (!batch->answered) co_await batch->recorded.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!batch->completed) co_return batch->completed.error();
  const auto& done = *batch->completed;
  co_return std::find(done.begin(), done.end(), id) != done.end();
}

asio::awaitable<void> OutboxCompletions::flush() {
  while (gathering_) {
    const auto batch = std::move(gathering_);
    gathering_.reset();
    ++statements_;
    try {
      batch->completed = co_await outbox_.complete(batch->ids, owner_, clock_.now());
    } catch (const std::exception& e) {  // e.g. bad_alloc: the waiters must still be woken
      common::Error failed;
      failed.detail = e.what();
      batch->completed = std::move(failed);
    }
    batch->answered = true;
    batch->recorded.cancel();
  }
  flushing_ = false;
}

}  // namespace visitpay::workers
