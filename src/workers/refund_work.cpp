#include "workers/refund_work.hpp"

#include "app/payment_operation.hpp"

namespace visitpay::workers {

using app::OperationResult;
using domain::PaymentOperationStatus;

RefundWork::RefundWork(RefundWorkDeps deps) : d_(deps) {}

void RefundWork::register_with(OutboxDispatcher& dispatcher) {
  for (auto kind : {domain::WorkKind::cancel_payment, domain::WorkKind::reverse_payment}) {
    dispatcher.add_handler(std::string(domain::to_string(kind)),
                           [this](const auto& item) { return carry_out(item); });
  }
}

asio::awaitable<common::Result<void>> RefundWork::finish(
    const store::PaymentOperationRecord& op, PaymentOperationStatus status,
    std::optional<std::string> provider_reference, std::optional<std::string> error) {
  auto finished =
      co_await d_.refunds.finish(op.id, status, provider_reference, error, d_.clock.now());
  if (!finished) co_return std::move(finished).error();
  if (!*finished) co_return common::Ok{};  // another worker recorded it first
  const bool done = status == PaymentOperationStatus::done;
  d_.metrics.add("visitpay_refunds_total",
                 common::Metrics::label("kind", domain::to_string(op.kind)) + "," +
                     common::Metrics::label("outcome", done ? "done" : "failed"));
  const std::string event = std::string("refund.") + (done ? "done" : "failed");
  const std::string detail = error.value_or("");
  if (done) {
    d_.log.info(event, {{"session_id", op.session_id},
                        {"operation_id", op.id},
                        {"kind", domain::to_string(op.kind)},
                        {"amount_ore", static_cast<long long>(op.amount)}});
  } else {
    d_.log.error(event, {{"session_id", op.session_id},
                         {"operation_id", op.id},
                         {"kind", domain::to_string(op.kind)},
                         {"error", detail}});
  }
  co_return common::Ok{};
}

asio::awaitable<OutboxOutcome> RefundWork::fail_all(
    const std::vector<store::PaymentOperationRecord>& ops, std::string why) {
  for (const auto& op : ops) {
    auto finished = co_await finish(op, PaymentOperationStatus::failed, std::nullopt, why);
    if (!finished) co_return OutboxOutcome::from_error(finished.error());
  }
  co_return OutboxOutcome::success();
}

asio::awaitable<OutboxOutcome> RefundWork::carry_out(const store::OutboxItem& item) {
  auto ops = co_await d_.refunds.requested(item.session_id);
  if (!ops) co_return OutboxOutcome::from_error(ops.error());
  if (ops->empty()) co_return OutboxOutcome::success();
  auto ref = co_await d_.payments.order_of(item.session_id);
  if (!ref) co_return OutboxOutcome::from_error(ref.error());
  if (!ref->has_value()) co_return co_await fail_all(*ops, "the session has no payment order");
  const store::OrderRef& order = **ref;
  auto found = d_.providers.payment.find(order.account);
  if (found == d_.providers.payment.end() || found->second == nullptr) {
    co_return co_await fail_all(*ops, "the payment account is not configured");
  }
  ports::PaymentProvider& provider = *found->second;

  for (const auto& op : *ops) {
    const OperationResult result = co_await app::carry_out(provider, order.order_id, op);
    if (result.kind == OperationResult::Kind::retry && !item.last_chance) {
      // The rest wait too: they happen in the order finance asked for them.
      co_return OutboxOutcome::retry_later(result.error.detail, result.error.retry_after);
    }
    const bool done = result.kind == OperationResult::Kind::done;
    std::optional<std::string> error;
    if (!done) error = result.error.detail;
    auto finished =
        co_await finish(op, done ? PaymentOperationStatus::done : PaymentOperationStatus::failed,
                        result.provider_reference, error);
    if (!finished) co_return OutboxOutcome::from_error(finished.error());
  }
  co_return OutboxOutcome::success();
}

}  // namespace visitpay::workers
