// The migrations' CHECK lists hold exactly the values of the C++ enums the core sends as
// parameters (states, reasons, work kinds, order statuses): a value added on one side only fails
// here, not at run time.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "domain/dunning.hpp"
#include "domain/invoice_status.hpp"
#include "domain/order_status.hpp"
#include "domain/refund.hpp"
#include "domain/session_lifecycle.hpp"
#include "store/migrations.hpp"

namespace visitpay::store {
namespace {

// The quoted values of the last `CONSTRAINT name CHECK (column IN (...))` (or column-level
// `CHECK (column IN (...))` for `column`) across all migrations.
std::set<std::string> check_list(const std::string& constraint, const std::string& column) {
  std::set<std::string> values;
  const std::regex named("(CONSTRAINT|ADD CONSTRAINT)\\s+" + constraint + "\\s+CHECK\\s*\\(\\s*" +
                         column + "\\s+IN\\s*\\(([^)]*)\\)");
  const std::regex inline_check("\\b" + column + "\\s+text[^,;]*?CHECK\\s*\\(\\s*" + column +
                                "\\s+IN\\s*\\(([^)]*)\\)");
  const std::regex quoted("'([^']*)'");
  for (const auto& m : embedded_migrations()) {
    const std::string sql(m.sql);
    std::smatch found;
    std::string list;
    for (auto it = std::sregex_iterator(sql.begin(), sql.end(), named);
         it != std::sregex_iterator(); ++it) {
      list = (*it)[2];
    }
    if (list.empty()) {
      for (auto it = std::sregex_iterator(sql.begin(), sql.end(), inline_check);
           it != std::sregex_iterator(); ++it) {
        list = (*it)[1];
      }
    }
    if (list.empty()) continue;
    values.clear();
    for (auto q = std::sregex_iterator(list.begin(), list.end(), quoted);
         q != std::sregex_iterator(); ++q) {
      values.insert((*q)[1]);
    }
  }
  return values;
}

template <typename Enum, std::size_t N>
std::set<std::string> names(const std::array<Enum, N>& all) {
  std::set<std::string> out;
  for (auto v : all)
    out.emplace(domain::to_string(v));
  return out;
}

TEST(SchemaEnums, SessionStates) {
  EXPECT_EQ(check_list("sessions_state_check", "state"), names(domain::kAllStates));
}

TEST(SchemaEnums, SessionInvoiceReasons) {
  EXPECT_EQ(check_list("sessions_invoice_reason_check", "invoice_reason"),
            names(domain::kAllReasons));
}

TEST(SchemaEnums, InvoiceReasonsAreTheSessionsPlusCredit) {
  auto expected = names(domain::kAllReasons);
  expected.insert("credit");
  EXPECT_EQ(check_list("invoices_reason_check", "reason"), expected);
}

TEST(SchemaEnums, OutboxWorkKinds) {
  EXPECT_EQ(check_list("outbox_kind_check", "kind"), names(domain::kAllWorkKinds));
}

TEST(SchemaEnums, OrderStatuses) {
  constexpr std::array all = {domain::OrderStatus::open,      domain::OrderStatus::paid,
                              domain::OrderStatus::aborted,   domain::OrderStatus::failed,
                              domain::OrderStatus::cancelled, domain::OrderStatus::reversed,
                              domain::OrderStatus::unknown};
  EXPECT_EQ(check_list("payment_orders_status_check", "status"), names(all));
}

TEST(SchemaEnums, InvoiceStatuses) {
  EXPECT_EQ(check_list("invoices_status_check", "status"), names(domain::kAllInvoiceStatuses));
}

TEST(SchemaEnums, ReminderKinds) {
  EXPECT_EQ(check_list("invoice_reminders_kind_check", "kind"), names(domain::kAllDunningKinds));
}

TEST(SchemaEnums, BankPaymentOutcomes) {
  EXPECT_EQ(check_list("bank_payments_status_check", "status"), names(domain::kAllBankOutcomes));
}

TEST(SchemaEnums, PaymentOperationKindsAndStatuses) {
  EXPECT_EQ(check_list("payment_operations_kind_check", "kind"),
            names(domain::kAllPaymentOperationKinds));
  EXPECT_EQ(check_list("payment_operations_status_check", "status"),
            names(domain::kAllPaymentOperationStatuses));
}

}  // namespace
}  // namespace visitpay::store
