#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "ports/clock.hpp"
#include "store/outbox_store.hpp"

namespace visitpay::workers {

namespace asio = boost::asio;

// Records finished outbox items as done the way a database groups commits: the items that finish
// while one UPDATE is on its way go together in the next, so under load one statement (and one
// WAL flush) completes many items, and nothing ever waits for a batch to fill. Used on one strand
// (the dispatcher's); not thread-safe by itself.
class OutboxCompletions {
 public:
  OutboxCompletions(asio::strand<asio::any_io_executor> strand, store::OutboxStore& outbox,
                    const ports::Clock& clock, std::string owner);

  // True once the item is recorded done; false when its lease was lost (another worker owns it).
  asio::awaitable<common::Result<bool>> complete(std::int64_t id);

  std::int64_t statements() const { return statements_; }  // UPDATEs sent so far

 private:
  struct Batch;
  asio::awaitable<void> flush();

  asio::strand<asio::any_io_executor> strand_;
  store::OutboxStore& outbox_;
  const ports::Clock& clock_;
  std::string owner_;
  std::shared_ptr<Batch> gathering_;  // items waiting for the next statement
  bool flushing_ = false;
  std::int64_t statements_ = 0;
};

}  // namespace visitpay::workers
