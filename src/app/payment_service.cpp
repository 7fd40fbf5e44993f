#include "app/payment_service.hpp"

namespace visitpay::app {

using common::ErrorCode;
using common::make_error;
using common::Ok;
using common::Result;

PaymentService::PaymentService(store::PaymentStore& payments, store::OutboxStore& outbox,
                               const ports::Clock& clock, common::Logger& log,
                               std::function<void()> nudge)
    : payments_(payments), outbox_(outbox), clock_(clock), log_(log), nudge_(std::move(nudge)) {}

asio::awaitable<Result<void>> PaymentService::cancel(std::string_view session_id) {
  auto outcome = co_await payments_.cancel(session_id, clock_.now());
  if (!outcome) co_return std::move(outcome).error();
  switch (*outcome) {
    case store::CancelOutcome::cancelled:
      log_.info("checkout.cancelled", {{"session_id", session_id}});
      if (nudge_) nudge_();
      co_return Ok{};
    case store::CancelOutcome::already_cancelled:
      co_return Ok{};
    case store::CancelOutcome::not_cancellable:
      co_return make_error(ErrorCode::invalid_state,
                           "the session is paid or invoiced and can no longer be cancelled");
    case store::CancelOutcome::not_found:
      break;
  }
  co_return make_error(ErrorCode::not_found, "no such session");
}

asio::awaitable<Result<void>> PaymentService::payment_callback(std::string_view order_id) {
  auto known = co_await payments_.callback_received(order_id, clock_.now());
  if (!known) co_return std::move(known).error();
  if (!*known) co_return make_error(ErrorCode::not_found, "no such payment order");
  if (nudge_) nudge_();
  co_return Ok{};
}

asio::awaitable<Result<void>> PaymentService::delivery_report(std::string_view message_id,
                                                              std::string_view reference,
                                                              int result_code,
                                                              store::DeliveryOutcome outcome) {
  auto known =
      co_await payments_.delivery_report(message_id, reference, result_code, outcome, clock_.now());
  if (!known) co_return std::move(known).error();
  if (!*known) co_return make_error(ErrorCode::not_found, "no such message");
  co_return Ok{};
}

asio::awaitable<Result<std::vector<store::DeadOutboxItem>>> PaymentService::dead_letters(
    int limit) {
  co_return co_await outbox_.dead(limit);
}

asio::awaitable<Result<void>> PaymentService::retry(std::int64_t id) {
  auto retried = co_await outbox_.retry(id, clock_.now());
  if (!retried) co_return std::move(retried).error();
  if (!*retried) {
    co_return make_error(ErrorCode::not_found,
                         "outbox item " + std::to_string(id) + " is not a dead letter");
  }
  log_.info("outbox.retried", {{"outbox_id", static_cast<long long>(id)}});
  if (nudge_) nudge_();
  co_return Ok{};
}

}  // namespace visitpay::app
