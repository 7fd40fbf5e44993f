#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "common/time_format.hpp"

// The whole life of a payment session, in one place: its states, the events that move it, and
// the one table that says which event moves which state where and what outbox work it queues or
// stops. `store::LifecycleStore::apply` is the only code that changes a session's state; it
// receives every state, reason and work kind from here.
//
//   check-out ─ phone ──────▶ pending ── order_created (queues the SMS)
//             └ no phone ───▶ invoicing (no_phone)
//   pending ── link_sent ───────────▶ awaiting_payment ── window_closed ──▶ invoicing
//           └─ link_delivered ──────▶ awaiting_payment (a delivery report: the fee now counts as
//                                     disclosed; also within awaiting_payment)
//           ├─ link_refused ────────▶ invoicing (sms_rejected)
//           ├─ link_failed ─────────▶ invoicing (link_failed: no account, budget spent, ...)
//           └─ link_undeliverable ──▶ invoicing (sms_undeliverable; also from awaiting_payment)
//   pending | awaiting_payment | invoicing ── paid ──▶ paid            (final)
//   invoicing ── invoice_created ──▶ invoiced                          (final)
//   pending | awaiting_payment | invoicing ── cancelled ──▶ cancelled  (final)
//   cancelled ── paid_after_close ──▶ cancelled (the payment is released: cancel_payment)
//   paid | invoiced ── refund_requested ──▶ the same (finance's refund: reverse_payment)
//   stranded (the repair pass found no live work): pending ──▶ invoicing; invoicing queues again
//
// Every non-final state has a time bound (LifecycleBounds) watched by `visitpay sessions check`.
namespace visitpay::domain {

using common::Timestamp;

enum class SessionState { pending, awaiting_payment, invoicing, paid, invoiced, cancelled };

// Why a session took the invoice path (and so why its invoice exists).
enum class InvoiceReason {
  window_expired,     // the payment window closed unpaid: the disclosed fee may be charged
  no_phone,           // no mobile number at check-out
  sms_rejected,       // the SMS gateway refused the message for good
  sms_undeliverable,  // a delivery report said it cannot be delivered
  link_failed,        // the link could not be created or sent (see the session's link_error)
};

enum class SessionEvent {
  order_created,
  link_sent,
  link_delivered,
  link_refused,
  link_failed,
  link_undeliverable,
  window_closed,
  paid,
  invoice_created,
  cancelled,
  stranded,
  paid_after_close,  // the provider confirmed a payment for a cancelled session
  refund_requested,  // finance asked to return (part of) a payment made through the link
};

// Outbox work kinds (the `outbox.kind` column).
enum class WorkKind {
  create_payment_order,  // create the provider's order for the session
  send_payment_sms,      // send the link
  payment_callback,      // a provider callback arrived: GET the order
  sync_payment,          // the reconciler's poll: GET the order
  abort_payment,         // after a cancel: abort the order unless paid
  invoice_session,       // the invoice path: settle the order, then create the invoice
  deliver_invoice,       // hand an issued invoice to the delivery channel
  deliver_credit_note,
  cancel_payment,   // release a payment made after the session was cancelled (never captured)
  reverse_payment,  // carry out the session's requested refunds (reversals) at the provider
};

inline constexpr std::array kAllStates = {SessionState::pending,   SessionState::awaiting_payment,
                                          SessionState::invoicing, SessionState::paid,
                                          SessionState::invoiced,  SessionState::cancelled};
inline constexpr std::array kAllReasons = {
    InvoiceReason::window_expired, InvoiceReason::no_phone, InvoiceReason::sms_rejected,
    InvoiceReason::sms_undeliverable, InvoiceReason::link_failed};
inline constexpr std::array kAllWorkKinds = {
    WorkKind::create_payment_order, WorkKind::send_payment_sms,    WorkKind::payment_callback,
    WorkKind::sync_payment,         WorkKind::abort_payment,       WorkKind::invoice_session,
    WorkKind::deliver_invoice,      WorkKind::deliver_credit_note, WorkKind::cancel_payment,
    WorkKind::reverse_payment};

// A small set of work kinds.
class WorkSet {
 public:
  constexpr WorkSet() = default;
  constexpr WorkSet(std::initializer_list<WorkKind> kinds) {
    for (auto k : kinds)
      bits_ |= bit(k);
  }
  constexpr bool contains(WorkKind k) const { return (bits_ & bit(k)) != 0; }
  constexpr bool empty() const { return bits_ == 0; }
  std::vector<WorkKind> kinds() const;
  friend constexpr bool operator==(WorkSet, WorkSet) = default;

 private:
  static constexpr std::uint32_t bit(WorkKind k) { return 1U << static_cast<unsigned>(k); }
  std::uint32_t bits_ = 0;
};

// Where an event takes a session from one state, and the work that goes with it.
struct Step {
  SessionState to;
  std::optional<InvoiceReason> reason;  // set when the step enters the invoice path
  WorkSet queues;                       // work queued with the step
  WorkSet stops;                        // live work that no longer makes sense
};

struct Transition {
  SessionEvent event;
  SessionState from;
  Step step;
};

// The table. An event not listed for a state leaves the session as it is (a late, repeated or
// out-of-order event is harmless by construction).
namespace lifecycle_table {
using enum SessionState;
using enum WorkKind;
inline constexpr std::array kLifecycle = {
    // clang-format off
    // event                             from              to                reason
    Transition{SessionEvent::order_created, pending,        {pending,          {},  {send_payment_sms}, {}}},
    Transition{SessionEvent::order_created, cancelled,      {cancelled,        {},  {abort_payment},    {}}},
    Transition{SessionEvent::link_sent,     pending,        {awaiting_payment, {},  {},                 {}}},
    Transition{SessionEvent::link_delivered, pending,       {awaiting_payment, {},  {},                 {}}},
    Transition{SessionEvent::link_delivered, awaiting_payment, {awaiting_payment, {}, {},               {}}},
    Transition{SessionEvent::link_refused,  pending,        {invoicing, InvoiceReason::sms_rejected,  {invoice_session}, {send_payment_sms}}},
    Transition{SessionEvent::link_failed,   pending,        {invoicing, InvoiceReason::link_failed,   {invoice_session}, {create_payment_order, send_payment_sms}}},
    Transition{SessionEvent::link_undeliverable, pending,   {invoicing, InvoiceReason::sms_undeliverable, {invoice_session}, {send_payment_sms}}},
    Transition{SessionEvent::link_undeliverable, awaiting_payment, {invoicing, InvoiceReason::sms_undeliverable, {invoice_session}, {}}},
    Transition{SessionEvent::window_closed, awaiting_payment, {invoicing, InvoiceReason::window_expired, {invoice_session}, {}}},
    Transition{SessionEvent::paid,          pending,        {paid,             {},  {},                 {create_payment_order, send_payment_sms}}},
    Transition{SessionEvent::paid,          awaiting_payment, {paid,           {},  {},                 {}}},
    Transition{SessionEvent::paid,          invoicing,      {paid,             {},  {},                 {invoice_session}}},
    Transition{SessionEvent::invoice_created, invoicing,    {invoiced,         {},  {},                 {}}},
    Transition{SessionEvent::cancelled,     pending,        {cancelled,        {},  {abort_payment},    {create_payment_order, send_payment_sms}}},
    Transition{SessionEvent::cancelled,     awaiting_payment, {cancelled,      {},  {abort_payment},    {}}},
    Transition{SessionEvent::cancelled,     invoicing,      {cancelled,        {},  {abort_payment},    {invoice_session}}},
    Transition{SessionEvent::stranded,      pending,        {invoicing, InvoiceReason::link_failed, {invoice_session}, {}}},
    Transition{SessionEvent::stranded,      invoicing,      {invoicing,        {},  {invoice_session},  {}}},
    Transition{SessionEvent::paid_after_close, cancelled,   {cancelled,        {},  {cancel_payment},   {}}},
    Transition{SessionEvent::refund_requested, paid,        {paid,             {},  {reverse_payment},  {}}},
    Transition{SessionEvent::refund_requested, invoiced,    {invoiced,         {},  {reverse_payment},  {}}},
    // clang-format on
};
}  // namespace lifecycle_table
using lifecycle_table::kLifecycle;

// The step `event` makes from `from`, if any.
std::optional<Step> next_step(SessionState from, SessionEvent event);
// Every row of the table for `event` (what the store sends to SQL as parameters).
std::vector<Transition> transitions_of(SessionEvent event);

// The state a check-out starts in and the work queued with it.
struct Start {
  SessionState state;
  std::optional<InvoiceReason> reason;
  WorkSet queues;
};
Start start_of(bool has_phone);

bool is_final(SessionState state);
// The work whose being live means an open session can still leave its state on its own (for
// awaiting_payment that is the deadline, not work). None live: the session is stranded.
WorkSet exit_work(SessionState state);

// How long a session may stay in a non-final state before the watchdog calls it overdue.
struct LifecycleBounds {
  std::chrono::seconds pending{std::chrono::hours(24)};  // quiet hours and the link budget fit
  std::chrono::seconds awaiting_payment_after_deadline{std::chrono::minutes(15)};
  std::chrono::seconds invoicing{std::chrono::hours(48)};
};

// When the reconciler next asks the provider about an awaiting session's order: 10 and 30
// minutes after the link went out, then every hour, and once more shortly before the deadline.
// nullopt once the deadline is near (the invoice path looks at the order itself then).
std::optional<Timestamp> next_status_check(Timestamp awaiting_since, Timestamp deadline,
                                           Timestamp now);

std::string_view to_string(SessionState state);
std::string_view to_string(InvoiceReason reason);
std::string_view to_string(SessionEvent event);
std::string_view to_string(WorkKind kind);
std::optional<SessionState> parse_session_state(std::string_view text);
std::optional<InvoiceReason> parse_invoice_reason(std::string_view text);
std::optional<WorkKind> parse_work_kind(std::string_view text);

}  // namespace visitpay::domain
