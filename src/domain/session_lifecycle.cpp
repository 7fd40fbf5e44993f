#include "domain/session_lifecycle.hpp"

#include "domain/order_status.hpp"

namespace visitpay::domain {

namespace {

template <typename Enum, std::size_t N>
std::optional<Enum> parse_enum(const std::array<Enum, N>& all, std::string_view text) {
  for (auto value : all) {
    if (to_string(value) == text) return value;
  }
  return std::nullopt;
}

}  // namespace

std::vector<WorkKind> WorkSet::kinds() const {
  std::vector<WorkKind> out;
  for (auto k : kAllWorkKinds) {
    if (contains(k)) out.push_back(k);
  }
  return out;
}

std::optional<Step> next_step(SessionState from, SessionEvent event) {
  for (const auto& t : kLifecycle) {
    if (t.event == event && t.from == from) return t.step;
  }
  return std::nullopt;
}

std::vector<Transition> transitions_of(SessionEvent event) {
  std::vector<Transition> out;
  for (const auto& t : kLifecycle) {
    if (t.event == event) out.push_back(t);
  }
  return out;
}

Start start_of(bool has_phone) {
  if (has_phone) return {SessionState::pending, std::nullopt, {WorkKind::create_payment_order}};
  return {SessionState::invoicing, InvoiceReason::no_phone, {WorkKind::invoice_session}};
}

bool is_final(SessionState state) {
  return state == SessionState::paid || state == SessionState::invoiced ||
         state == SessionState::cancelled;
}

WorkSet exit_work(SessionState state) {
  switch (state) {
    case SessionState::pending:
      return {WorkKind::create_payment_order, WorkKind::send_payment_sms};
    case SessionState::invoicing:
      return {WorkKind::invoice_session};
    default:
      return {};
  }
}

std::optional<Timestamp> next_status_check(Timestamp awaiting_since, Timestamp deadline,
                                           Timestamp now) {
  using std::chrono::hours;
  using std::chrono::minutes;
  const auto last = deadline - minutes(5);
  if (now >= last) return std::nullopt;
  const auto since = now - awaiting_since;
  Timestamp next;
  if (since < minutes(10)) {
    next = awaiting_since + minutes(10);
  } else if (since < minutes(30)) {
    next = awaiting_since + minutes(30);
  } else {
    // Whole hours after the link went out: 1 h, 2 h, ...
    const auto elapsed_hours = std::chrono::floor<hours>(since);
    next = awaiting_since + elapsed_hours + hours(1);
  }
  return next < last ? next : last;
}

std::string_view to_string(SessionState state) {
  switch (state) {
    case SessionState::pending:
      return "pending";
    case SessionState::awaiting_payment:
      return "awaiting_payment";
    case SessionState::invoicing:
      return "invoicing";
    case SessionState::paid:
      return "paid";
    case SessionState::invoiced:
      return "invoiced";
    case SessionState::cancelled:
      return "cancelled";
  }
  return "pending";
}

std::string_view to_string(InvoiceReason reason) {
  switch (reason) {
    case InvoiceReason::window_expired:
      return "window_expired";
    case InvoiceReason::no_phone:
      return "no_phone";
    case InvoiceReason::sms_rejected:
      return "sms_rejected";
    case InvoiceReason::sms_undeliverable:
      return "sms_undeliverable";
    case InvoiceReason::link_failed:
      return "link_failed";
  }
  return "link_failed";
}

std::string_view to_string(SessionEvent event) {
  switch (event) {
    case SessionEvent::order_created:
      return "order_created";
    case SessionEvent::link_sent:
      return "link_sent";
    case SessionEvent::link_delivered:
      return "link_delivered";
    case SessionEvent::link_refused:
      return "link_refused";
    case SessionEvent::link_failed:
      return "link_failed";
    case SessionEvent::link_undeliverable:
      return "link_undeliverable";
    case SessionEvent::window_closed:
      return "window_closed";
    case SessionEvent::paid:
      return "paid";
    case SessionEvent::invoice_created:
      return "invoice_created";
    case SessionEvent::cancelled:
      return "cancelled";
    case SessionEvent::stranded:
      return "stranded";
    case SessionEvent::paid_after_close:
      return "paid_after_close";
    case SessionEvent::refund_requested:
      return "refund_requested";
  }
  return "stranded";
}

std::string_view to_string(WorkKind kind) {
  switch (kind) {
    case WorkKind::create_payment_order:
      return "create_payment_order";
    case WorkKind::send_payment_sms:
      return "send_payment_sms";
    case WorkKind::payment_callback:
      return "payment_callback";
    case WorkKind::sync_payment:
      return "sync_payment";
    case WorkKind::abort_payment:
      return "abort_payment";
    case WorkKind::invoice_session:
      return "invoice_session";
    case WorkKind::deliver_invoice:
      return "deliver_invoice";
    case WorkKind::deliver_credit_note:
      return "deliver_credit_note";
    case WorkKind::cancel_payment:
      return "cancel_payment";
    case WorkKind::reverse_payment:
      return "reverse_payment";
  }
  return "";
}

std::optional<SessionState> parse_session_state(std::string_view text) {
  return parse_enum(kAllStates, text);
}

std::optional<InvoiceReason> parse_invoice_reason(std::string_view text) {
  return parse_enum(kAllReasons, text);
}

std::optional<WorkKind> parse_work_kind(std::string_view text) {
  return parse_enum(kAllWorkKinds, text);
}

// --- OrderStatus ------------------------------------------------------------------------------

std::string_view to_string(OrderStatus status) {
  switch (status) {
    case OrderStatus::open:
      return "open";
    case OrderStatus::paid:
      return "paid";
    case OrderStatus::aborted:
      return "aborted";
    case OrderStatus::failed:
      return "failed";
    case OrderStatus::cancelled:
      return "cancelled";
    case OrderStatus::reversed:
      return "reversed";
    case OrderStatus::unknown:
      break;
  }
  return "unknown";
}

std::optional<OrderStatus> parse_order_status(std::string_view text) {
  constexpr std::array all = {OrderStatus::open,   OrderStatus::paid,      OrderStatus::aborted,
                              OrderStatus::failed, OrderStatus::cancelled, OrderStatus::reversed,
                              OrderStatus::unknown};
  return parse_enum(all, text);
}

}  // namespace visitpay::domain
