#include "app/payment_service.hpp"

namespace visitpay::app {

using common::ErrorCode;
using common::make_error;
using common::Ok;
using common::Result;

namespace {

store::DeliveryOutcome store_outcome(ports::DeliveryOutcome outcome) {
  switch (outcome) {
    case ports::DeliveryOutcome::delivered:
      return store::DeliveryOutcome::delivered;
    case ports::DeliveryOutcome::failed:
      return store::DeliveryOutcome::failed;
    case ports::DeliveryOutcome::undetermined:
      return store::DeliveryOutcome::undetermined;
    case ports::DeliveryOutcome::in_progress:
      break;
  }
  return store::DeliveryOutcome::in_progress;
}

}  // namespace

PaymentService::PaymentService(store::PaymentStore& payments, store::OutboxStore& outbox,
                               const config::Config& config, const ports::Clock& clock,
                               common::Logger& log, std::function<void()> nudge)
    : payments_(payments),
      outbox_(outbox),
      config_(config),
      clock_(clock),
      log_(log),
      nudge_(std::move(nudge)) {}

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

asio::awaitable<Result<void>> PaymentService::payment_callback(std::string_view order_id,
                                                               std::string_view order_reference) {
  auto known = co_await payments_.callback_received(order_id, order_reference, clock_.now());
  if (!known) co_return std::move(known).error();
  if (!*known) co_return make_error(ErrorCode::not_found, "no such payment order");
  if (nudge_) nudge_();
  co_return Ok{};
}

asio::awaitable<Result<void>> PaymentService::delivery_report(const ports::SmsReport& report) {
  auto found = co_await payments_.find_reported_sms(report.message_id, report.reference);
  if (!found) co_return std::move(found).error();
  if (!*found) co_return make_error(ErrorCode::not_found, "no such message");
  const auto now = clock_.now();
  const config::SmsAccount* account = config_.find_sms_account((*found)->account);
  const std::chrono::seconds max_age =
      account != nullptr ? account->report_max_age : config::SmsAccount{}.report_max_age;
  store::PartReport part;
  part.message_id = report.message_id;
  part.part = report.part;
  part.segments = report.segments;
  part.result_code = report.result_code;
  part.outcome = store_outcome(report.outcome);
  auto recorded = co_await payments_.record_report(**found, part, now - max_age, now);
  if (!recorded) co_return std::move(recorded).error();
  if (!*recorded) {
    // A repeat, a late intermediate code, or a report for an attempt not waiting for one.
    log_.info("sms.report_ignored", {{"session_id", (*found)->session_id},
                                     {"part", report.part},
                                     {"result_code", report.result_code}});
  }
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
