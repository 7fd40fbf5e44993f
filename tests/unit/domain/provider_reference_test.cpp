#include "domain/provider_reference.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

namespace visitpay::domain {
namespace {

TEST(PayeeReference, IsShortAlphanumericAndStablePerOperation) {
  const std::string session = "01a20360-b840-7915-9e90-aeb5cac0f7e6";
  const auto order = payee_reference("PO", session);
  EXPECT_EQ(order.size(), 27u);  // Swedbank Pay allows 30
  EXPECT_TRUE(std::all_of(order.begin(), order.end(),
                          [](unsigned char c) { return std::isalnum(c) != 0; }));
  EXPECT_EQ(order, payee_reference("PO", session));  // a retry sends the same reference
  EXPECT_NE(order, payee_reference("CP", session));  // unique per operation
  EXPECT_NE(order, payee_reference("PO", "01a20360-b840-7915-9e90-aeb5cac0f7e7"));
}

TEST(PayeeReference, EncodesTheWholeUuid) {
  EXPECT_EQ(payee_reference("PO", "00000000-0000-0000-0000-000000000000"),
            "PO0000000000000000000000000");
  EXPECT_EQ(payee_reference("PO", "00000000-0000-0000-0000-000000000023"),
            "PO000000000000000000000000Z");  // 35
  EXPECT_EQ(payee_reference("PO", "ffffffff-ffff-ffff-ffff-ffffffffffff"),
            "POF5LXX1ZZ5PNORYNQGLHZMSP33");  // 2^128 - 1 in base 36
}

TEST(PayeeReference, EveryOrderAttemptHasItsOwnThirtyCharacterReference) {
  const std::string session = "01a20360-b840-7915-9e90-aeb5cac0f7e6";
  const auto first = order_payee_reference(session, 1);
  EXPECT_EQ(first, payee_reference("PO", session) + "001");
  EXPECT_EQ(first.size(), 30u);  // Swedbank Pay's limit when it settles
  EXPECT_TRUE(std::all_of(first.begin(), first.end(),
                          [](unsigned char c) { return std::isalnum(c) != 0; }));
  EXPECT_EQ(order_payee_reference(session, 2), payee_reference("PO", session) + "002");
  EXPECT_EQ(order_payee_reference(session, 999), payee_reference("PO", session) + "999");
  EXPECT_NE(first, order_payee_reference("01a20360-b840-7915-9e90-aeb5cac0f7e7", 1));
  EXPECT_EQ(order_payee_reference(session, 0), "");
  EXPECT_EQ(order_payee_reference(session, 1000), "");
  EXPECT_EQ(order_payee_reference("not-a-uuid", 1), "");
}

TEST(PayeeReference, RejectsWhatIsNotAUuid) {
  EXPECT_EQ(payee_reference("PO", ""), "");
  EXPECT_EQ(payee_reference("PO", "not-a-uuid"), "");
  EXPECT_EQ(payee_reference("PO", "01a20360-b840-7915-9e90-aeb5cac0f7e6ff"), "");
}

}  // namespace
}  // namespace visitpay::domain
