// The reminder schedule against inkassoforskriften §§ 1-2, 1-3 and inkassoloven § 9: the 14-day
// boundaries on Oslo calendar dates, the fee count, and the steps' order.
#include "domain/dunning.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace visitpay::domain {
namespace {

using std::chrono::days;
using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace)

constexpr Date kDue = std::chrono::sys_days{2026y / 3 / 20};  // DST starts 29 March

DunningPolicy varsel_policy() {
  DunningPolicy p;
  p.enabled = true;
  p.fee = 3500;
  p.purringer = 1;
  p.fee_purringer = 1;
  p.inkassovarsel = true;
  p.collection = true;
  return p;
}

DunningPolicy two_purringer_policy() {
  DunningPolicy p = varsel_policy();
  p.inkassovarsel = false;
  p.purringer = 2;
  p.fee_purringer = 2;
  return p;
}

DunningStepTaken taken(const DunningDecision& d, Date on) {
  return {*d.step, on, d.deadline, d.fee};
}

TEST(Dunning, NoPurringBeforeFourteenDaysAfterTheDueDate) {
  const auto d = next_dunning_step(varsel_policy(), kDue, {}, kDue + days(13));
  EXPECT_FALSE(d.step);
  EXPECT_FALSE(d.finished);
  EXPECT_EQ(d.not_before, kDue + days(14));
}

TEST(Dunning, PurringOnTheFourteenthDayWithFeeAndAFourteenDayDeadline) {
  const auto d = next_dunning_step(varsel_policy(), kDue, {}, kDue + days(14));
  ASSERT_TRUE(d.step);
  EXPECT_EQ(*d.step, DunningKind::purring);
  EXPECT_EQ(d.sequence, 1);
  EXPECT_EQ(d.fee, 3500);
  EXPECT_EQ(d.deadline, kDue + days(28));  // across the DST change: calendar days, not hours
}

TEST(Dunning, ConfigBelowTheLegalMinimumIsRaisedToIt) {
  auto p = varsel_policy();
  p.first_after_days = 3;
  p.deadline_days = 5;
  EXPECT_FALSE(next_dunning_step(p, kDue, {}, kDue + days(13)).step);
  const auto d = next_dunning_step(p, kDue, {}, kDue + days(14));
  ASSERT_TRUE(d.step);
  EXPECT_EQ(d.deadline, kDue + days(28));
  EXPECT_EQ(dunning_policy_problems(p).size(), 2u);
}

TEST(Dunning, InkassovarselOnlyAfterThePurringDeadlineHasPassed) {
  const auto p = varsel_policy();
  const auto first = next_dunning_step(p, kDue, {}, kDue + days(14));
  const std::vector steps = {taken(first, kDue + days(14))};
  // Paying on the deadline day is on time: nothing that day.
  const auto on_deadline = next_dunning_step(p, kDue, steps, *first.deadline);
  EXPECT_FALSE(on_deadline.step);
  EXPECT_EQ(on_deadline.not_before, *first.deadline + days(1));
  const auto d = next_dunning_step(p, kDue, steps, *first.deadline + days(1));
  ASSERT_TRUE(d.step);
  EXPECT_EQ(*d.step, DunningKind::inkassovarsel);
  EXPECT_EQ(d.fee, 3500);  // one purring + one inkassovarsel (§ 1-3)
  EXPECT_EQ(d.deadline, *first.deadline + days(15));
}

TEST(Dunning, HandOffAfterTheInkassovarselDeadlineThenNothingMore) {
  const auto p = varsel_policy();
  std::vector<DunningStepTaken> steps;
  Date today = kDue + days(14);
  for (auto expected : {DunningKind::purring, DunningKind::inkassovarsel}) {
    const auto d = next_dunning_step(p, kDue, steps, today);
    ASSERT_TRUE(d.step);
    EXPECT_EQ(*d.step, expected);
    steps.push_back(taken(d, today));
    today = *d.deadline + days(1);
  }
  const auto hand_off = next_dunning_step(p, kDue, steps, today);
  ASSERT_TRUE(hand_off.step);
  EXPECT_EQ(*hand_off.step, DunningKind::collection);
  EXPECT_EQ(hand_off.fee, 0);
  EXPECT_FALSE(hand_off.deadline);
  steps.push_back({DunningKind::collection, today, std::nullopt, 0});
  EXPECT_TRUE(next_dunning_step(p, kDue, steps, today + days(100)).finished);
}

TEST(Dunning, WithoutCollectionTheScheduleEndsAfterTheLastLetter) {
  auto p = varsel_policy();
  p.collection = false;
  const std::vector<DunningStepTaken> steps = {
      {DunningKind::purring, kDue + days(14), kDue + days(28), 3500},
      {DunningKind::inkassovarsel, kDue + days(29), kDue + days(43), 3500}};
  EXPECT_TRUE(next_dunning_step(p, kDue, steps, kDue + days(60)).finished);
}

TEST(Dunning, TwoPurringerBothWithFeeWhenTheFirstDeadlineWasFourteenDays) {
  const auto p = two_purringer_policy();
  const auto first = next_dunning_step(p, kDue, {}, kDue + days(14));
  const std::vector steps = {taken(first, kDue + days(14))};
  const auto second = next_dunning_step(p, kDue, steps, *first.deadline + days(1));
  ASSERT_TRUE(second.step);
  EXPECT_EQ(*second.step, DunningKind::purring);
  EXPECT_EQ(second.sequence, 2);
  EXPECT_EQ(second.fee, 3500);
}

TEST(Dunning, NoSecondFeeWhenTheFirstDeadlineWasShorterThanFourteenDays) {
  // A purring recorded by hand with a 10-day deadline (§ 1-3: the second fee needs >= 14).
  const auto p = two_purringer_policy();
  const std::vector<DunningStepTaken> steps = {
      {DunningKind::purring, kDue + days(14), kDue + days(24), 3500}};
  const auto d = next_dunning_step(p, kDue, steps, kDue + days(25));
  ASSERT_TRUE(d.step);
  EXPECT_EQ(d.fee, 0);
}

TEST(Dunning, NeverMoreThanTwoFeesWhateverTheConfigSays) {
  auto p = two_purringer_policy();
  p.inkassovarsel = true;  // an invalid config: two paid purringer and a paid inkassovarsel
  EXPECT_FALSE(dunning_policy_problems(p).empty());
  std::vector<DunningStepTaken> steps;
  Date today = kDue + days(14);
  Ore fees = 0;
  for (int i = 0; i < 3; ++i) {
    const auto d = next_dunning_step(p, kDue, steps, today);
    ASSERT_TRUE(d.step);
    fees += d.fee;
    steps.push_back(taken(d, today));
    today = *d.deadline + days(1);
  }
  EXPECT_EQ(steps[2].kind, DunningKind::inkassovarsel);
  EXPECT_LE(fees, 2 * 3500);
  EXPECT_EQ(steps[1].fee, 0);  // with an inkassovarsel only one purring may carry the fee
}

TEST(Dunning, SecondPurringWithoutFeeWhenOnlyOneIsPaid) {
  auto p = two_purringer_policy();
  p.fee_purringer = 1;
  const std::vector<DunningStepTaken> steps = {
      {DunningKind::purring, kDue + days(14), kDue + days(28), 3500}};
  const auto d = next_dunning_step(p, kDue, steps, kDue + days(29));
  ASSERT_TRUE(d.step);
  EXPECT_EQ(d.sequence, 2);
  EXPECT_EQ(d.fee, 0);
}

TEST(Dunning, ZeroFeeRateChargesNothing) {
  auto p = varsel_policy();
  p.fee = 0;
  EXPECT_EQ(next_dunning_step(p, kDue, {}, kDue + days(20)).fee, 0);
}

TEST(Dunning, InkassovarselAfterAFeeLessPurringCarriesTheFee) {
  // A purring without fee (sent early, by hand, before this schedule): the inkassovarsel, sent
  // more than 14 days after the due date, may still charge its own (§ 1-2, § 1-3).
  auto p = varsel_policy();
  const std::vector<DunningStepTaken> steps = {
      {DunningKind::purring, kDue + days(1), kDue + days(15), 0}};
  const auto d = next_dunning_step(p, kDue, steps, kDue + days(16));
  ASSERT_TRUE(d.step);
  EXPECT_EQ(*d.step, DunningKind::inkassovarsel);
  EXPECT_EQ(d.fee, 3500);
}

TEST(Dunning, DisabledDoesNothing) {
  auto p = varsel_policy();
  p.enabled = false;
  EXPECT_TRUE(next_dunning_step(p, kDue, {}, kDue + days(100)).finished);
}

TEST(Dunning, DefaultFeeIsOneTwentiethOfTheInkassosats) {
  EXPECT_EQ(kReminderFee2025, 3500);
  EXPECT_TRUE(dunning_policy_problems(varsel_policy()).empty());
  EXPECT_TRUE(dunning_policy_problems(two_purringer_policy()).empty());
}

TEST(Dunning, KindNamesRoundTrip) {
  for (auto k : kAllDunningKinds)
    EXPECT_EQ(parse_dunning_kind(to_string(k)), k);
  EXPECT_FALSE(parse_dunning_kind("betalingsoppfordring"));
}

}  // namespace
}  // namespace visitpay::domain
