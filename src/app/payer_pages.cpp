#include "app/payer_pages.hpp"

namespace visitpay::app {

using common::ErrorCode;
using common::make_error;
using domain::OrderStatus;
using domain::SessionState;

namespace {

// Tokens are base64url of 32 bytes; anything else is not looked up at all.
bool plausible_token(std::string_view token) {
  if (token.size() != 43) return false;
  for (char c : token) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

bool closed_by_payer_or_provider(OrderStatus s) {
  return s == OrderStatus::aborted || s == OrderStatus::failed;
}

}  // namespace

PayerPages::PayerPages(store::PaymentStore& payments, PaymentOrders& orders,
                       const config::Config& config, const PaymentProviders& providers,
                       const ports::Clock& clock, common::Logger& log, common::Metrics& metrics,
                       std::function<void()> nudge)
    : payments_(payments),
      orders_(orders),
      config_(config),
      providers_(providers),
      clock_(clock),
      log_(log),
      metrics_(metrics),
      nudge_(std::move(nudge)) {
  metrics_.describe("visitpay_fresh_payments_total", common::Metrics::Type::counter,
                    "Fresh payment orders payers started from the payer page after cancelling");
}

ports::PaymentProvider* PayerPages::provider_for(std::string_view account) const {
  const auto it = providers_.find(account);
  return it == providers_.end() ? nullptr : it->second;
}

PayerPageView PayerPages::base_view(const store::PayerSession& session) const {
  PayerPageView v;
  const config::Clinic* clinic = config_.find_clinic(session.clinic_id);
  v.clinic_name = clinic == nullptr ? std::string() : clinic->display_name;
  v.amount = session.amount;
  v.deadline = session.deadline;
  v.invoice_fee = session.fee_disclosed;
  return v;
}

asio::awaitable<PayerPageView> PayerPages::view(std::string_view token) {
  if (!plausible_token(token)) co_return PayerPageView{};
  const auto digest = payer_page_token_digest(token);
  auto found = co_await payments_.payer_session(digest);
  if (!found) {
    // The database did not answer: nothing can be said yet, so the page offers to look again.
    PayerPageView v;
    v.kind = PayerPageKind::processing;
    co_return v;
  }
  if (!found->has_value()) co_return PayerPageView{};
  const store::PayerSession& session = **found;
  PayerPageView v = base_view(session);
  const bool recorded_paid = session.order_status == OrderStatus::paid;
  switch (session.state) {
    case SessionState::paid:
      v.kind = PayerPageKind::paid;
      co_return v;
    case SessionState::cancelled:
      v.kind = PayerPageKind::withdrawn;
      co_return v;
    case SessionState::invoicing:
    case SessionState::invoiced:
      v.kind = recorded_paid ? PayerPageKind::paid : PayerPageKind::invoice;
      co_return v;
    case SessionState::pending:
    case SessionState::awaiting_payment:
      break;
  }
  v.kind = PayerPageKind::processing;
  if (!session.order) co_return v;
  ports::PaymentProvider* provider = provider_for(session.order->account);
  if (provider == nullptr) co_return v;
  auto order = co_await provider->get_order(session.order->order_id);
  if (!order) co_return v;  // the provider did not answer: "being processed", look again
  if (order->status == OrderStatus::paid) {
    // Recorded (and captured) by the outbox like a callback; the page can say it now.
    auto queued = co_await payments_.callback_received(session.order->order_id, "", clock_.now());
    if (queued && nudge_) nudge_();
    v.kind = PayerPageKind::paid;
  } else if (closed_by_payer_or_provider(order->status) ||
             order->status == OrderStatus::cancelled || order->status == OrderStatus::reversed) {
    v.kind = PayerPageKind::not_completed;
    v.can_pay_now = session.state == SessionState::awaiting_payment && session.deadline &&
                    clock_.now() < *session.deadline && closed_by_payer_or_provider(order->status);
    if (!v.can_pay_now && session.state == SessionState::awaiting_payment) {
      v.kind = PayerPageKind::invoice;
    }
  } else {
    v.link_still_pays = order->status == OrderStatus::open;
  }
  co_return v;
}

asio::awaitable<common::Result<std::string>> PayerPages::pay_again(std::string_view token) {
  const auto not_found = make_error(ErrorCode::not_found, "no such payment");
  if (!plausible_token(token)) co_return not_found;
  const auto digest = payer_page_token_digest(token);
  auto found = co_await payments_.payer_session(digest);
  if (!found) co_return std::move(found).error();
  if (!found->has_value()) co_return not_found;
  const store::PayerSession& session = **found;
  const auto now = clock_.now();
  const auto not_now = make_error(ErrorCode::invalid_state, "a new payment cannot start now");
  if (session.state != SessionState::awaiting_payment || !session.order || !session.deadline ||
      now >= *session.deadline) {
    co_return not_now;
  }
  const config::Clinic* clinic = config_.find_clinic(session.clinic_id);
  ports::PaymentProvider* provider = provider_for(session.order->account);
  if (clinic == nullptr || provider == nullptr ||
      clinic->payment_account != session.order->account) {
    co_return not_now;
  }
  // The provider's word, not our last record: only an order nobody can pay any more is replaced.
  auto current = co_await provider->get_order(session.order->order_id);
  if (!current) co_return std::move(current).error();
  if (!closed_by_payer_or_provider(current->status)) co_return not_now;

  const OrderSubject subject{session.session_id, session.amount, session.order->vat_amount};
  auto created = co_await orders_.create(subject, *clinic, *provider);
  if (!created) co_return std::move(created).error();
  const ports::PaymentOrder& order = created->order;
  auto replaced = co_await payments_.replace_order(session.session_id, session.order->order_id,
                                                   clinic->payment_account, order.id, order.status,
                                                   created->attempt, clock_.now());
  if (!replaced || !*replaced) {
    // The deadline passed or another request replaced it first: this order must reach nobody.
    auto aborted = co_await provider->abort_order(order.id);
    log_.warn("payment.fresh_order_not_kept", {{"session_id", session.session_id},
                                               {"order_id", order.id},
                                               {"aborted", static_cast<bool>(aborted)}});
    if (!replaced) co_return std::move(replaced).error();
    co_return not_now;
  }
  metrics_.add("visitpay_fresh_payments_total", "");
  log_.info(
      "payment.fresh_order",
      {{"session_id", session.session_id}, {"order_id", order.id}, {"attempt", created->attempt}});
  co_return order.payment_url;
}

}  // namespace visitpay::app
