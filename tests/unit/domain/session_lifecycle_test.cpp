#include "domain/session_lifecycle.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "domain/order_status.hpp"

namespace visitpay::domain {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using E = SessionEvent;
using S = SessionState;
using W = WorkKind;

constexpr std::array kAllEvents = {E::order_created,   E::link_sent,   E::link_delivered,
                                   E::link_refused,    E::link_failed, E::link_undeliverable,
                                   E::window_closed,   E::paid,        E::invoice_created,
                                   E::cancelled,       E::stranded,    E::paid_after_close,
                                   E::refund_requested};

// The lifecycle written down a second time, as the README's state table says it, so that a change
// to the table in src/domain is a deliberate change to both.
struct Expected {
  S to;
  std::optional<InvoiceReason> reason;
  WorkSet queues;
  WorkSet stops;
};
const std::map<std::pair<E, S>, Expected>& expected() {
  static const std::map<std::pair<E, S>, Expected> table = {
      {{E::order_created, S::pending}, {S::pending, {}, {W::send_payment_sms}, {}}},
      {{E::order_created, S::cancelled}, {S::cancelled, {}, {W::abort_payment}, {}}},
      {{E::link_sent, S::pending}, {S::awaiting_payment, {}, {}, {}}},
      {{E::link_delivered, S::pending}, {S::awaiting_payment, {}, {}, {}}},
      {{E::link_delivered, S::awaiting_payment}, {S::awaiting_payment, {}, {}, {}}},
      {{E::link_refused, S::pending},
       {S::invoicing, InvoiceReason::sms_rejected, {W::invoice_session}, {W::send_payment_sms}}},
      {{E::link_failed, S::pending},
       {S::invoicing,
        InvoiceReason::link_failed,
        {W::invoice_session},
        {W::create_payment_order, W::send_payment_sms}}},
      {{E::link_undeliverable, S::pending},
       {S::invoicing,
        InvoiceReason::sms_undeliverable,
        {W::invoice_session},
        {W::send_payment_sms}}},
      {{E::link_undeliverable, S::awaiting_payment},
       {S::invoicing, InvoiceReason::sms_undeliverable, {W::invoice_session}, {}}},
      {{E::window_closed, S::awaiting_payment},
       {S::invoicing, InvoiceReason::window_expired, {W::invoice_session}, {}}},
      {{E::paid, S::pending}, {S::paid, {}, {}, {W::create_payment_order, W::send_payment_sms}}},
      {{E::paid, S::awaiting_payment}, {S::paid, {}, {}, {}}},
      {{E::paid, S::invoicing}, {S::paid, {}, {}, {W::invoice_session}}},
      {{E::invoice_created, S::invoicing}, {S::invoiced, {}, {}, {}}},
      {{E::cancelled, S::pending},
       {S::cancelled, {}, {W::abort_payment}, {W::create_payment_order, W::send_payment_sms}}},
      {{E::cancelled, S::awaiting_payment}, {S::cancelled, {}, {W::abort_payment}, {}}},
      {{E::cancelled, S::invoicing}, {S::cancelled, {}, {W::abort_payment}, {W::invoice_session}}},
      {{E::stranded, S::pending},
       {S::invoicing, InvoiceReason::link_failed, {W::invoice_session}, {}}},
      {{E::stranded, S::invoicing}, {S::invoicing, {}, {W::invoice_session}, {}}},
      {{E::paid_after_close, S::cancelled}, {S::cancelled, {}, {W::cancel_payment}, {}}},
      {{E::refund_requested, S::paid}, {S::paid, {}, {W::reverse_payment}, {}}},
      {{E::refund_requested, S::invoiced}, {S::invoiced, {}, {W::reverse_payment}, {}}},
  };
  return table;
}

TEST(SessionLifecycle, EveryEventInEveryStateDoesWhatTheStateTableSays) {
  for (auto event : kAllEvents) {
    for (auto state : kAllStates) {
      const auto step = next_step(state, event);
      const auto it = expected().find({event, state});
      SCOPED_TRACE(std::string(to_string(event)) + " in " + std::string(to_string(state)));
      if (it == expected().end()) {
        EXPECT_FALSE(step.has_value());
        continue;
      }
      ASSERT_TRUE(step.has_value());
      EXPECT_EQ(step->to, it->second.to);
      EXPECT_EQ(step->reason, it->second.reason);
      EXPECT_EQ(step->queues, it->second.queues);
      EXPECT_EQ(step->stops, it->second.stops);
    }
  }
}

TEST(SessionLifecycle, EachEventAndStateHasAtMostOneRow) {
  std::set<std::pair<E, S>> seen;
  for (const auto& t : kLifecycle) {
    EXPECT_TRUE(seen.insert({t.event, t.from}).second)
        << to_string(t.event) << " from " << to_string(t.from) << " is listed twice";
  }
}

TEST(SessionLifecycle, FinalStatesAreNeverLeft) {
  for (const auto& t : kLifecycle) {
    if (is_final(t.from)) {
      EXPECT_EQ(t.step.to, t.from) << to_string(t.event) << " leaves " << to_string(t.from);
    }
  }
}

TEST(SessionLifecycle, EnteringTheInvoicePathQueuesItsWorkAndSaysWhy) {
  for (const auto& t : kLifecycle) {
    if (t.step.to != S::invoicing) continue;
    EXPECT_TRUE(t.step.queues.contains(W::invoice_session)) << to_string(t.event);
    if (t.from != S::invoicing) {
      EXPECT_TRUE(t.step.reason.has_value()) << to_string(t.event);
    }
  }
}

TEST(SessionLifecycle, NoStepQueuesWhatItStops) {
  for (const auto& t : kLifecycle) {
    for (auto k : t.step.queues.kinds()) {
      EXPECT_FALSE(t.step.stops.contains(k)) << to_string(t.event);
    }
  }
}

// Every open state reaches every final state's neighbourhood: from each non-final state some
// sequence of events ends the session (no state without an exit).
TEST(SessionLifecycle, EveryOpenStateCanEnd) {
  for (auto start : kAllStates) {
    if (is_final(start)) continue;
    std::set<S> reached{start};
    bool grew = true;
    while (grew) {
      grew = false;
      for (const auto& t : kLifecycle) {
        if (reached.count(t.from) && reached.insert(t.step.to).second) grew = true;
      }
    }
    EXPECT_TRUE(reached.count(S::paid) && reached.count(S::cancelled)) << to_string(start);
    EXPECT_TRUE(reached.count(S::invoiced)) << to_string(start);
  }
}

TEST(SessionLifecycle, OpenStatesWithoutDeadlineHaveExitWork) {
  EXPECT_EQ(exit_work(S::pending), (WorkSet{W::create_payment_order, W::send_payment_sms}));
  EXPECT_EQ(exit_work(S::invoicing), (WorkSet{W::invoice_session}));
  EXPECT_TRUE(exit_work(S::awaiting_payment).empty());  // the deadline is its exit
  for (auto s : {S::paid, S::invoiced, S::cancelled})
    EXPECT_TRUE(exit_work(s).empty());
}

TEST(SessionLifecycle, ACheckoutStartsWithItsFirstWork) {
  const auto with_phone = start_of(true);
  EXPECT_EQ(with_phone.state, S::pending);
  EXPECT_FALSE(with_phone.reason.has_value());
  EXPECT_EQ(with_phone.queues, WorkSet{W::create_payment_order});
  const auto without = start_of(false);
  EXPECT_EQ(without.state, S::invoicing);
  EXPECT_EQ(without.reason, InvoiceReason::no_phone);
  EXPECT_EQ(without.queues, WorkSet{W::invoice_session});
}

TEST(SessionLifecycle, NamesRoundTrip) {
  std::set<std::string_view> names;
  for (auto s : kAllStates) {
    EXPECT_EQ(parse_session_state(to_string(s)), s);
    names.insert(to_string(s));
  }
  EXPECT_EQ(names.size(), kAllStates.size());
  for (auto r : kAllReasons)
    EXPECT_EQ(parse_invoice_reason(to_string(r)), r);
  for (auto k : kAllWorkKinds)
    EXPECT_EQ(parse_work_kind(to_string(k)), k);
  for (auto o : {OrderStatus::open, OrderStatus::paid, OrderStatus::aborted, OrderStatus::failed,
                 OrderStatus::cancelled, OrderStatus::reversed, OrderStatus::unknown}) {
    EXPECT_EQ(parse_order_status(to_string(o)), o);
  }
  for (std::string_view text :
       {"", "PENDING", "Paid", "pending ", "awaiting-payment", "Initialized"}) {
    EXPECT_EQ(parse_session_state(text), std::nullopt) << text;
    EXPECT_EQ(parse_order_status(text), std::nullopt) << text;
  }
}

TEST(OrderStatus, OnlyClosedUnpaidStatusesLetAnInvoiceFollow) {
  EXPECT_FALSE(closed_unpaid(OrderStatus::open));
  EXPECT_FALSE(closed_unpaid(OrderStatus::paid));
  EXPECT_FALSE(closed_unpaid(OrderStatus::unknown));  // might still be payable
  for (auto s :
       {OrderStatus::aborted, OrderStatus::failed, OrderStatus::cancelled, OrderStatus::reversed}) {
    EXPECT_TRUE(closed_unpaid(s)) << to_string(s);
  }
}

TEST(NextStatusCheck, TenAndThirtyMinutesThenHourlyAndOnceBeforeTheDeadline) {
  const Timestamp since = common::from_oslo_local(2026, 12, 1, 12, 0);
  const Timestamp deadline = since + hours(48);
  std::vector<Timestamp> checks;
  auto now = since;
  while (auto next = next_status_check(since, deadline, now)) {
    ASSERT_GT(*next, now);
    checks.push_back(*next);
    now = *next;
  }
  ASSERT_GE(checks.size(), 4u);
  EXPECT_EQ(checks[0], since + minutes(10));
  EXPECT_EQ(checks[1], since + minutes(30));
  EXPECT_EQ(checks[2], since + hours(1));
  EXPECT_EQ(checks[3], since + hours(2));
  EXPECT_EQ(checks.back(), deadline - minutes(5));
  // 10 min, 30 min, hours 1..47, and 5 minutes before the deadline: 50 instead of 288.
  EXPECT_EQ(checks.size(), 50u);
}

TEST(NextStatusCheck, ALateCheckSchedulesTheNextFromTheLinkNotFromNow) {
  const Timestamp since = common::from_oslo_local(2026, 12, 1, 12, 0);
  const Timestamp deadline = since + hours(48);
  // The reconciler ran late (an instance was down): the next check is the next whole hour.
  EXPECT_EQ(next_status_check(since, deadline, since + hours(5) + minutes(20)), since + hours(6));
  EXPECT_EQ(next_status_check(since, deadline, deadline - minutes(5)), std::nullopt);
  // A short window: the last check comes before the first hourly one.
  EXPECT_EQ(next_status_check(since, since + minutes(20), since + minutes(10)),
            since + minutes(15));
}

}  // namespace
}  // namespace visitpay::domain
