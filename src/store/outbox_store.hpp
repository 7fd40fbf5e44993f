#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "domain/checkout.hpp"
#include "store/pg_pool.hpp"

namespace visitpay::store {

struct OutboxItem {
  std::int64_t id = 0;
  std::string session_id;
  std::string kind;
  int attempts = 0;  // including the current one
  // The item's retry budget is spent if this attempt fails: a handler with an exit (the session
  // moving on without this work) takes it now instead of failing once more.
  bool last_chance = false;
};

struct DeadOutboxItem {
  std::int64_t id = 0;
  std::string session_id;
  std::string kind;
  int attempts = 0;
  std::string last_error;
  domain::Timestamp updated_at{};
};

// The outbox table: durable, leased work items. Every time comes from the caller (the Clock
// port), so tests can move time without sleeping.
class OutboxStore {
 public:
  explicit OutboxStore(PgPool& pool) : pool_(pool) {}

  // Adds an item unless a live one of the same kind exists for the session. True if added.
  asio::awaitable<common::Result<bool>> enqueue(std::string_view session_id, std::string_view kind,
                                                domain::Timestamp due, domain::Timestamp now);

  // Claims up to `limit` due items for `owner` until now + lease.
  asio::awaitable<common::Result<std::vector<OutboxItem>>> claim(std::string_view owner, int limit,
                                                                 domain::Timestamp now,
                                                                 std::chrono::milliseconds lease);
  // Each returns false when the lease was lost (another instance owns the item now).
  asio::awaitable<common::Result<bool>> renew(std::int64_t id, std::string_view owner,
                                              domain::Timestamp until);
  asio::awaitable<common::Result<bool>> complete(std::int64_t id, std::string_view owner,
                                                 domain::Timestamp now);
  // Schedules another attempt at `next`, or moves the item to the dead letters when
  // `attempts >= max_attempts` or `permanent`.
  asio::awaitable<common::Result<bool>> fail(std::int64_t id, std::string_view owner,
                                             std::string_view error, domain::Timestamp next,
                                             int max_attempts, bool permanent,
                                             domain::Timestamp now);

  asio::awaitable<common::Result<std::vector<DeadOutboxItem>>> dead(int limit);
  // Puts a dead item back in the queue, due now. False if it is not dead.
  asio::awaitable<common::Result<bool>> retry(std::int64_t id, domain::Timestamp now);
  asio::awaitable<common::Result<std::int64_t>> count_dead();

  // The claim and the completion as the dispatcher sends them (for the benchmark's pgbench twin).
  static const Statement& claim_statement();
  static PgParams claim_params(std::string_view owner, int limit, domain::Timestamp now,
                               std::chrono::milliseconds lease);
  static const Statement& complete_statement();
  static PgParams complete_params(std::int64_t id, std::string_view owner, domain::Timestamp now);

 private:
  PgPool& pool_;
};

}  // namespace visitpay::store
