#include "app/refund_service.hpp"

#include "common/uuid.hpp"

namespace visitpay::app {

using common::ErrorCode;
using common::make_error;
using common::Result;

namespace {

common::Error no_such_session() {
  return make_error(ErrorCode::not_found, "no such session");
}

std::string outcome_labels(std::string_view outcome) {
  return common::Metrics::label("kind", "reversal") + "," +
         common::Metrics::label("outcome", outcome);
}

}  // namespace

RefundService::RefundService(store::RefundStore& refunds, const ports::Clock& clock,
                             common::Logger& log, common::Metrics& metrics,
                             std::function<void()> nudge)
    : refunds_(refunds), clock_(clock), log_(log), metrics_(metrics), nudge_(std::move(nudge)) {
  metrics_.describe("visitpay_refunds_total", common::Metrics::Type::counter,
                    "Payment operations returning money through the provider, by kind (cancel, "
                    "reversal) and outcome (requested, replayed, refused: finance's requests; "
                    "done, failed: at the provider)");
}

asio::awaitable<Result<std::string>> RefundService::visible(std::string_view session_id,
                                                            const Principal& principal) {
  auto uuid = common::normalize_uuid(session_id);
  if (!uuid) co_return no_such_session();
  auto clinic = co_await refunds_.clinic_of(*uuid);
  if (!clinic) co_return std::move(clinic).error();
  if (!clinic->has_value() || !principal.may_act_for_clinic(**clinic)) co_return no_such_session();
  co_return std::move(*uuid);
}

asio::awaitable<Result<store::RefundRequested>> RefundService::request(std::string_view session_id,
                                                                       const Principal& principal,
                                                                       store::RefundInput input) {
  auto id = co_await visible(session_id, principal);
  if (!id) co_return std::move(id).error();
  input.actor = principal.client_name;
  auto requested = co_await refunds_.request_refund(*id, input, clock_.now());
  if (!requested) {
    const auto code = requested.error().code;
    if (code != ErrorCode::database_unavailable && code != ErrorCode::database_outcome_unknown) {
      metrics_.add("visitpay_refunds_total", outcome_labels("refused"));
      log_.info("refund.refused",
                {{"session_id", *id}, {"actor", input.actor}, {"error", common::error_name(code)}});
    }
    co_return std::move(requested).error();
  }
  const auto& op = requested->operation;
  metrics_.add("visitpay_refunds_total",
               outcome_labels(requested->replayed ? "replayed" : "requested"));
  log_.info(requested->replayed ? "refund.replayed" : "refund.requested",
            {{"session_id", *id},
             {"operation_id", op.id},
             {"amount_ore", static_cast<long long>(op.amount)},
             {"actor", input.actor}});
  if (!requested->replayed && nudge_) nudge_();
  co_return std::move(requested);
}

asio::awaitable<Result<store::RefundSummary>> RefundService::list(std::string_view session_id,
                                                                  const Principal& principal) {
  auto id = co_await visible(session_id, principal);
  if (!id) co_return std::move(id).error();
  auto summary = co_await refunds_.summary(*id);
  if (!summary) co_return std::move(summary).error();
  if (!summary->has_value()) co_return no_such_session();
  co_return std::move(**summary);
}

}  // namespace visitpay::app
