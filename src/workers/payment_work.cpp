#include "workers/payment_work.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "domain/payment_sms.hpp"
#include "domain/provider_reference.hpp"
#include "ports/adapter_registry.hpp"

namespace visitpay::workers {

using common::ErrorCode;
using ports::PaymentStatus;
using ports::TransactionType;

namespace {

// How often a callback's status check is repeated while the provider still shows the order
// unpaid (a callback can arrive before the status is visible on GET).
constexpr int kCallbackStatusAttempts = 3;

// How often an SMS whose account the gateway refuses (wrong password, platform, gate) tries
// again: soon enough that the SMS go out within a minute of ops fixing it, rarely enough not to
// hammer the gateway with a login it refuses (every waiting SMS of the account tries once).
constexpr auto kConfigErrorRecheck = std::chrono::minutes(1);

std::string health_key(std::string_view account) {
  return "sms:" + std::string(account);
}

std::string_view transaction_name(TransactionType t) {
  switch (t) {
    case TransactionType::authorization:
      return "authorization";
    case TransactionType::sale:
      return "sale";
    case TransactionType::none:
      break;
  }
  return "";
}

store::OrderStatusUpdate status_update(const ports::PaymentOrder& order) {
  store::OrderStatusUpdate u;
  u.status = order.status;
  u.instrument = order.instrument;
  u.transaction_type = std::string(transaction_name(order.transaction_type));
  if (order.status == PaymentStatus::paid) {
    u.captured = order.transaction_type == TransactionType::sale
                     ? order.amount
                     : order.amount - order.remaining_capture_amount;
  }
  return u;
}

// The deadline the SMS states: a whole minute, never earlier than `from` + `window`.
domain::Timestamp deadline_after(domain::Timestamp from, std::chrono::seconds window) {
  const auto end = from + window;
  auto minute = std::chrono::floor<std::chrono::minutes>(end);
  if (minute < end) minute += std::chrono::minutes(1);
  return std::chrono::time_point_cast<std::chrono::microseconds>(minute);
}

}  // namespace

PaymentWork::PaymentWork(PaymentWorkDeps deps)
    : d_(deps), orders_(deps.payments, deps.config, deps.clock, deps.log, deps.metrics) {
  d_.metrics.describe("visitpay_sms_total", common::Metrics::Type::counter,
                      "Payment-link SMS send attempts by outcome (accepted, rejected, unknown, "
                      "failed)");
  d_.metrics.describe("visitpay_sms_possible_duplicates_total", common::Metrics::Type::counter,
                      "SMS sends made after an earlier attempt whose outcome was unknown");
  d_.metrics.describe("visitpay_link_failures_total", common::Metrics::Type::counter,
                      "Payment links that could not be created or sent, by outbox work kind (the "
                      "session went to the invoice path without fee)");
  d_.metrics.describe("visitpay_payments_total", common::Metrics::Type::counter,
                      "Sessions paid through the link, by instrument");
  d_.metrics.describe("visitpay_provider_config_errors_total", common::Metrics::Type::counter,
                      "Requests a provider refused for our own credentials or account settings, "
                      "by provider and the provider's code (alert on any: nothing goes out until "
                      "ops fixes it)");
  d_.metrics.describe("visitpay_other_orders_total", common::Metrics::Type::counter,
                      "Orders a callback named besides the session's current one, by what was "
                      "done (aborted: an orphan of a lost create or a replaced order; "
                      "paid_adopted; paid_twice: money to return; closed; not_ours; not_found)");
}

void PaymentWork::register_with(OutboxDispatcher& dispatcher) {
  auto add = [&](std::string_view kind, OutboxDispatcher::HandlerFunction handler) {
    dispatcher.add_handler(std::string(kind), std::move(handler));
  };
  using domain::WorkKind;
  add(to_string(WorkKind::create_payment_order),
      [this](const auto& item) { return create_order(item); });
  add(to_string(WorkKind::send_payment_sms), [this](const auto& item) { return send_sms(item); });
  add(to_string(WorkKind::payment_callback), [this](const auto& item) { return sync(item, true); });
  add(to_string(WorkKind::sync_payment), [this](const auto& item) { return sync(item, false); });
  add(to_string(WorkKind::abort_payment), [this](const auto& item) { return abort(item); });
}

asio::awaitable<OutboxOutcome> PaymentWork::link_failed(const store::OutboxItem& item,
                                                        std::string why) {
  auto moved = co_await d_.payments.link_failed(item.session_id, why, d_.clock.now());
  if (!moved) co_return OutboxOutcome::from_error(moved.error());
  d_.metrics.add("visitpay_link_failures_total", common::Metrics::label("kind", item.kind));
  d_.log.warn("payment.link_failed",
              {{"session_id", item.session_id}, {"kind", item.kind}, {"error", why}});
  co_return OutboxOutcome::success();
}

asio::awaitable<OutboxOutcome> PaymentWork::fail_or_exit(const store::OutboxItem& item,
                                                         const common::Error& error) {
  if (error.code == ErrorCode::provider_rejected || item.last_chance) {
    co_return co_await link_failed(item, error.detail);
  }
  co_return OutboxOutcome::from_error(error);
}

ports::PaymentProvider* PaymentWork::payment_provider(std::string_view account) const {
  auto it = d_.providers.payment.find(account);
  return it == d_.providers.payment.end() ? nullptr : it->second;
}

std::chrono::microseconds PaymentWork::resend_wait(std::string_view account) const {
  const config::SmsAccount* a = d_.config.find_sms_account(account);
  return a ? std::chrono::microseconds(a->resend_unconfirmed_after) : std::chrono::minutes(2);
}

asio::awaitable<OutboxOutcome> PaymentWork::sms_misconfigured(const store::OutboxItem& item,
                                                              std::int64_t sms_id,
                                                              const std::string& account,
                                                              const common::Error& error) {
  const config::SmsAccount* a = d_.config.find_sms_account(account);
  const std::string provider = a ? std::string(ports::adapter_name(a->provider)) : "unknown";
  const std::string code = error.provider_code.empty() ? "unknown" : error.provider_code;
  d_.metrics.add("visitpay_sms_total", common::Metrics::label("outcome", "misconfigured"));
  d_.metrics.add(
      "visitpay_provider_config_errors_total",
      common::Metrics::label("provider", provider) + "," + common::Metrics::label("code", code));
  const auto now = d_.clock.now();
  d_.health.config_error(health_key(account), a ? a->provider : provider, code, error.detail, now);
  auto recorded = co_await d_.payments.sms_not_sent(sms_id, item.session_id, error.detail,
                                                    /*permanent=*/false, now);
  if (!recorded) co_return OutboxOutcome::from_error(recorded.error());
  d_.log.error("sms.account_misconfigured",
               {{"session_id", item.session_id}, {"account", account}, {"code", code}});
  co_return OutboxOutcome::wait_until(now + kConfigErrorRecheck,
                                      "the SMS account is misconfigured: " + error.detail);
}

ports::SmsGateway* PaymentWork::sms_gateway(std::string_view account) const {
  auto it = d_.providers.sms.find(account);
  return it == d_.providers.sms.end() ? nullptr : it->second;
}

asio::awaitable<OutboxOutcome> PaymentWork::create_order(const store::OutboxItem& item) {
  auto context = co_await d_.payments.order_context(item.session_id);
  if (!context) co_return OutboxOutcome::from_error(context.error());
  if (!context->has_value()) co_return OutboxOutcome::give_up("the session does not exist");
  const auto& session = **context;
  // Cancelled meanwhile, or the order exists (saved together with the SMS work): nothing to do.
  if (session.state != domain::SessionState::pending || session.order_id) {
    co_return OutboxOutcome::success();
  }
  if (!session.transient_key) co_return co_await link_failed(item, "the payer's data was purged");

  const config::Clinic* clinic = d_.config.find_clinic(session.clinic_id);
  if (clinic == nullptr) co_return co_await link_failed(item, "the clinic is not configured");
  ports::PaymentProvider* provider = payment_provider(clinic->payment_account);
  if (provider == nullptr) {
    co_return co_await link_failed(item, "clinic " + clinic->id + " has no payment account");
  }

  // Each try is an attempt with a payeeReference of its own: after a lost answer the next one
  // makes a new order, and the lost one's order (if any) reached nobody.
  const app::OrderSubject subject{item.session_id, session.amount, session.vat_amount};
  auto created = co_await orders_.create(subject, *clinic, *provider);
  if (!created) co_return co_await fail_or_exit(item, created.error());
  const ports::PaymentOrder& order = created->order;
  // The link is transient data: sealed under the session's transient key, shredded with it.
  auto transient =
      d_.vault.unlock(item.session_id, app::KeyClass::transient, *session.transient_key);
  if (!transient) co_return co_await link_failed(item, transient.error().detail);
  const auto link = transient->seal("payment_url", order.payment_url);
  auto saved =
      co_await d_.payments.save_order(item.session_id, clinic->payment_account, order.id, link,
                                      order.status, created->attempt, d_.clock.now());
  if (!saved) co_return OutboxOutcome::from_error(saved.error());
  if (!*saved) {
    // Another attempt's order was saved first (two workers raced): this one reaches nobody.
    auto aborted = co_await provider->abort_order(order.id);
    d_.log.warn("payment.extra_order", {{"session_id", item.session_id},
                                        {"order_id", order.id},
                                        {"aborted", static_cast<bool>(aborted)}});
    co_return OutboxOutcome::success();
  }
  d_.log.info(
      "payment.order_created",
      {{"session_id", item.session_id}, {"order_id", order.id}, {"attempt", created->attempt}});
  co_return OutboxOutcome::success();
}

asio::awaitable<OutboxOutcome> PaymentWork::send_sms(const store::OutboxItem& item) {
  auto context = co_await d_.payments.sms_context(item.session_id);
  if (!context) co_return OutboxOutcome::from_error(context.error());
  if (!context->has_value()) co_return OutboxOutcome::give_up("the session does not exist");
  const auto& session = **context;
  if (session.state != domain::SessionState::pending) co_return OutboxOutcome::success();
  if (!session.phone_enc || !session.transient_key || !session.payment_url_enc) {
    co_return co_await link_failed(item, "no phone number or no payment order");
  }
  const config::Clinic* clinic = d_.config.find_clinic(session.clinic_id);
  if (clinic == nullptr) co_return co_await link_failed(item, "the clinic is not configured");
  ports::SmsGateway* gateway = sms_gateway(clinic->sms_account);
  if (gateway == nullptr) {
    co_return co_await link_failed(item, "clinic " + clinic->id + " has no SMS account");
  }

  const auto now = d_.clock.now();
  const auto send_at = domain::next_send_time(now, d_.config.quiet_hours);
  if (send_at > now) co_return OutboxOutcome::wait_until(send_at, "quiet hours");
  // The gateway refused this account's configuration a moment ago: no use asking again yet.
  if (auto broken = d_.health.config_error_of(health_key(clinic->sms_account))) {
    const auto recheck = broken->last_seen + kConfigErrorRecheck;
    if (recheck > now) {
      co_return OutboxOutcome::wait_until(
          recheck, "the SMS account is misconfigured (" + broken->code + ")");
    }
  }

  // An earlier attempt's answer was lost: the gateway may have taken it. Its delivery report
  // (matched by our reference) settles that; resend only if none came within the wait.
  if (session.unresolved_attempts > 0 && session.last_unresolved_at) {
    const auto wait_until = *session.last_unresolved_at + resend_wait(clinic->sms_account);
    if (wait_until > now) {
      co_return OutboxOutcome::wait_until(wait_until,
                                          "waiting for a delivery report of an unconfirmed send");
    }
  }

  // Decrypted only now, for this send (one unwrap for both fields).
  auto transient =
      d_.vault.unlock(item.session_id, app::KeyClass::transient, *session.transient_key);
  if (!transient) co_return co_await link_failed(item, transient.error().detail);
  auto phone = transient->open("phone", session.phone_enc);
  if (!phone) co_return co_await link_failed(item, phone.error().detail);
  auto link = transient->open("payment_url", session.payment_url_enc);
  if (!link) co_return co_await link_failed(item, link.error().detail);
  if (!phone->has_value() || !link->has_value()) {
    co_return co_await link_failed(item, "no phone number or no payment link");
  }

  const auto deadline = deadline_after(now, clinic->payment_window);
  // The fee is disclosed, and later charged, only under terms the payer accepted before the visit.
  const domain::Ore fee = session.fee_terms_accepted ? clinic->invoice_fee_ore : 0;
  const std::string text =
      domain::compose_payment_sms({clinic->display_name, session.amount, **link, deadline, fee});
  if (text.empty()) co_return co_await link_failed(item, "the SMS text does not fit two segments");

  // Our own count of the parts; the gateway's smsCount replaces it once accepted.
  const int segments = domain::sms_size(text).segments;
  auto attempt = co_await d_.payments.begin_sms(item.session_id, clinic->sms_account, fee, deadline,
                                                segments, now);
  if (!attempt) co_return OutboxOutcome::from_error(attempt.error());
  if (!attempt->has_value()) co_return OutboxOutcome::success();  // no longer pending
  const std::int64_t sms_id = (*attempt)->id;
  if (session.unresolved_attempts > 0) d_.metrics.add("visitpay_sms_possible_duplicates_total", "");

  ports::SmsMessage message{**phone, text, (*attempt)->reference, clinic->sms_sender};
  auto sent = co_await gateway->send(message);
  if (sent || sent.error().code != ErrorCode::provider_misconfigured) {
    d_.health.ok(health_key(clinic->sms_account));  // the account itself works
  }
  if (sent) {
    auto recorded = co_await d_.payments.sms_accepted(sms_id, item.session_id, sent->message_id,
                                                      sent->segments, d_.clock.now());
    d_.metrics.add("visitpay_sms_total", common::Metrics::label("outcome", "accepted"));
    if (!recorded) co_return OutboxOutcome::from_error(recorded.error());
    d_.log.info("sms.accepted", {{"session_id", item.session_id},
                                 {"message_id", sent->message_id},
                                 {"segments", sent->segments}});
    co_return OutboxOutcome::success();
  }
  const auto& error = sent.error();
  if (error.code == ErrorCode::provider_misconfigured) {
    co_return co_await sms_misconfigured(item, sms_id, clinic->sms_account, error);
  }
  if (error.code == ErrorCode::provider_rejected) {
    d_.metrics.add("visitpay_sms_total", common::Metrics::label("outcome", "rejected"));
    auto recorded = co_await d_.payments.sms_not_sent(sms_id, item.session_id, error.detail,
                                                      /*permanent=*/true, d_.clock.now());
    if (!recorded) co_return OutboxOutcome::from_error(recorded.error());
    d_.log.warn("sms.rejected", {{"session_id", item.session_id}, {"detail", error.detail}});
    co_return OutboxOutcome::success();  // the session is on the invoice path now
  }
  if (error.code == ErrorCode::provider_outcome_unknown) {
    // No usable answer: the gateway may have taken it. The next attempt first waits for a
    // delivery report of this one; a resend after that is counted (possible_duplicates).
    d_.metrics.add("visitpay_sms_total", common::Metrics::label("outcome", "unknown"));
    auto recorded = co_await d_.payments.sms_unknown(sms_id, error.detail);
    if (!recorded) co_return OutboxOutcome::from_error(recorded.error());
    co_return co_await fail_or_exit(item, error);
  }
  // An error answer (5xx, 429, throttling): not sent; try again later.
  d_.metrics.add("visitpay_sms_total", common::Metrics::label("outcome", "failed"));
  auto recorded = co_await d_.payments.sms_not_sent(sms_id, item.session_id, error.detail,
                                                    /*permanent=*/false, d_.clock.now());
  if (!recorded) co_return OutboxOutcome::from_error(recorded.error());
  co_return co_await fail_or_exit(item, error);
}

asio::awaitable<common::Result<SettledOrder>> PaymentWork::settle(const store::OrderRef& o,
                                                                  bool abort_if_open) {
  ports::PaymentProvider* provider = payment_provider(o.account);
  if (provider == nullptr) {
    co_return common::make_error(ErrorCode::provider_rejected, "unknown payment account");
  }
  auto order = co_await provider->get_order(o.order_id);
  if (!order) co_return std::move(order).error();

  SettledOrder settled;
  if (order->status == PaymentStatus::open && abort_if_open) {
    // provider_conflict: e.g. the payer is in the Vipps app right now; the caller looks again.
    auto aborted = co_await provider->abort_order(o.order_id);
    if (!aborted) co_return std::move(aborted).error();
    order = std::move(aborted);
  }
  // A payment is captured unless the session was cancelled (then it is money to return).
  if (order->status == PaymentStatus::paid && o.session_state != domain::SessionState::cancelled &&
      order->transaction_type == TransactionType::authorization &&
      order->remaining_capture_amount > 0 && order->can_capture) {
    ports::CaptureRequest capture;
    capture.payee_reference = domain::payee_reference("CP", o.session_id);
    capture.amount = order->remaining_capture_amount;
    capture.vat_amount = capture.amount == order->amount ? o.vat_amount : 0;
    capture.description = "Capture";
    auto captured = co_await provider->capture(o.order_id, capture);
    if (captured) {
      order = std::move(captured);
    } else {
      settled.capture_error = captured.error();  // the payment itself is recorded now
    }
  }

  store::OrderStatusUpdate update = status_update(*order);
  update.order_id = o.order_id;
  auto recorded = co_await d_.payments.record_order_status(o.session_id, update, d_.clock.now());
  if (!recorded) co_return std::move(recorded).error();
  settled.status = order->status;
  settled.session_state = recorded->state;
  if (recorded->became_paid) {
    d_.metrics.add("visitpay_payments_total",
                   common::Metrics::label("instrument", order->instrument));
    d_.log.info("payment.paid", {{"session_id", o.session_id}, {"instrument", order->instrument}});
  } else if (order->status == PaymentStatus::paid &&
             recorded->state == domain::SessionState::cancelled) {
    d_.log.warn("payment.paid_after_cancel", {{"session_id", o.session_id}});
  } else if (recorded->invoice_flagged) {
    d_.log.warn("payment.paid_after_invoice", {{"session_id", o.session_id}});
  }
  co_return settled;
}

asio::awaitable<OutboxOutcome> PaymentWork::sync(const store::OutboxItem& item,
                                                 bool from_callback) {
  // First the other orders: a paid one becomes the current order, which is settled next.
  auto others = co_await check_other_orders(item);
  auto ref = co_await d_.payments.order_of(item.session_id);
  if (!ref) co_return OutboxOutcome::from_error(ref.error());
  if (!ref->has_value()) {  // no order yet
    if (!others) co_return OutboxOutcome::from_error(others.error());
    co_return OutboxOutcome::success();
  }
  auto settled = co_await settle(**ref, /*abort_if_open=*/false);
  if (!settled) co_return OutboxOutcome::from_error(settled.error());
  if (settled->capture_error) co_return OutboxOutcome::from_error(*settled->capture_error);
  if (!others) co_return OutboxOutcome::from_error(others.error());
  // A callback says something changed: until a GET shows the order paid, look again a few
  // times (the change may not be visible yet, even on an order we aborted a moment ago).
  // Cancelled and reversed come only after a payment: nothing more to wait for.
  const bool after_payment = settled->status == PaymentStatus::paid ||
                             settled->status == PaymentStatus::cancelled ||
                             settled->status == PaymentStatus::reversed;
  if (from_callback && !after_payment && item.attempts < kCallbackStatusAttempts) {
    co_return OutboxOutcome::retry_later("the callback's change is not visible yet");
  }
  co_return OutboxOutcome::success();
}

void PaymentWork::count_other_order(std::string_view outcome) {
  d_.metrics.add("visitpay_other_orders_total", common::Metrics::label("outcome", outcome));
}

asio::awaitable<common::Result<void>> PaymentWork::drop_check(const std::string& session_id,
                                                              const std::string& order_id,
                                                              std::string_view outcome) {
  count_other_order(outcome);
  co_return co_await d_.payments.order_checked(session_id, order_id, 0,
                                               domain::OrderStatus::unknown, d_.clock.now());
}

asio::awaitable<common::Result<void>> PaymentWork::check_other_orders(
    const store::OutboxItem& item) {
  // An adopted order queues the one it replaced: a few rounds see that one too.
  for (int round = 0; round < 3; ++round) {
    auto ids = co_await d_.payments.order_checks(item.session_id);
    if (!ids) co_return std::move(ids).error();
    if (ids->empty()) break;
    for (const auto& order_id : *ids) {
      auto checked = co_await check_other_order(item, order_id);
      if (!checked) co_return checked;
    }
  }
  co_return common::Ok{};
}

asio::awaitable<common::Result<void>> PaymentWork::check_other_order(const store::OutboxItem& item,
                                                                     const std::string& order_id) {
  const auto& session_id = item.session_id;
  const auto now = d_.clock.now();
  auto context = co_await d_.payments.order_context(session_id);
  if (!context) co_return std::move(context).error();
  if (!context->has_value()) co_return common::Ok{};
  if ((*context)->order_id == order_id)
    co_return co_await drop_check(session_id, order_id, "current");
  const config::Clinic* clinic = d_.config.find_clinic((*context)->clinic_id);
  ports::PaymentProvider* provider =
      clinic == nullptr ? nullptr : payment_provider(clinic->payment_account);
  if (provider == nullptr) co_return co_await drop_check(session_id, order_id, "no_account");

  auto order = co_await provider->get_order(order_id);
  if (!order) {
    const auto code = order.error().code;
    if (code == ErrorCode::provider_unavailable || code == ErrorCode::provider_outcome_unknown) {
      co_return std::move(order).error();  // look again later
    }
    co_return co_await drop_check(session_id, order_id,
                                  "not_found");  // not an order this account can see
  }
  std::optional<store::AttemptRef> attempt;
  if (!order->payee_reference.empty()) {
    auto found = co_await d_.payments.attempt_of(session_id, order->payee_reference);
    if (!found) co_return std::move(found).error();
    attempt = std::move(*found);
  }
  if (!attempt) {
    // Another system's order under the same merchant account, or a stranger's guess: untouched.
    d_.log.warn("payment.other_order_not_ours", {{"session_id", session_id}});
    co_return co_await drop_check(session_id, order_id, "not_ours");
  }

  auto status = order->status;
  std::string outcome = "closed";
  if (status == PaymentStatus::open || status == PaymentStatus::unknown) {
    // Never sent to anyone (a lost create's order) or replaced: nobody may pay it any more.
    // provider_conflict (the payer is in a wallet app) comes back here on the next look.
    auto aborted = co_await provider->abort_order(order_id);
    if (!aborted) co_return std::move(aborted).error();
    status = aborted->status;
    outcome = "aborted";
  }
  if (status == PaymentStatus::paid) {
    auto adopted = co_await d_.payments.adopt_order(session_id, order_id, now);
    if (!adopted) co_return std::move(adopted).error();
    outcome = *adopted ? "paid_adopted" : "paid_twice";
    if (!*adopted) {
      // Both this and the current order were paid: money finance must return (the attempt row
      // keeps it: seen_status paid, not the current order).
      d_.log.error("payment.paid_twice", {{"session_id", session_id}, {"order_id", order_id}});
    }
  }
  count_other_order(outcome);
  d_.log.info("payment.other_order", {{"session_id", session_id},
                                      {"order_id", order_id},
                                      {"attempt", attempt->attempt},
                                      {"outcome", outcome}});
  co_return co_await d_.payments.order_checked(session_id, order_id, attempt->attempt, status, now);
}

asio::awaitable<OutboxOutcome> PaymentWork::abort(const store::OutboxItem& item) {
  auto ref = co_await d_.payments.order_of(item.session_id);
  if (!ref) co_return OutboxOutcome::from_error(ref.error());
  if (!ref->has_value()) co_return OutboxOutcome::success();  // never created
  auto settled = co_await settle(**ref, /*abort_if_open=*/true);
  if (!settled) co_return OutboxOutcome::from_error(settled.error());
  if (settled->status != PaymentStatus::paid) {
    d_.log.info("payment.order_aborted",
                {{"session_id", item.session_id}, {"status", domain::to_string(settled->status)}});
  }
  co_return OutboxOutcome::success();
}

}  // namespace visitpay::workers
