#include <gtest/gtest.h>

#include "app/invoice_service.hpp"
#include "common/time_format.hpp"

namespace visitpay::app {
namespace {

store::InvoiceRecord invoice() {
  store::InvoiceRecord v;
  v.kind = "invoice";
  v.number = 42;
  v.org_number = "912345688";
  v.clinic_id = "oslo-sentrum";
  v.status = "issued";
  v.created_at = *common::parse_rfc3339("2026-11-22T23:30:00Z");  // 00:30 on the 23rd in Oslo
  v.issue_date = "2026-11-23";
  v.due_date = "2026-12-07";
  v.delivered_on = "2026-11-22";
  v.kid = "0000000422";
  v.fee = 3900;
  v.total = 68905;
  return v;
}

TEST(InvoiceCsv, HeaderAndRowHaveTheSameColumns) {
  const auto header = invoice_csv_header();
  const auto row = invoice_csv_row(invoice());
  EXPECT_EQ(std::count(header.begin(), header.end(), ','), std::count(row.begin(), row.end(), ','));
  EXPECT_EQ(row.substr(row.size() - 2), "\r\n");
}

TEST(InvoiceCsv, AmountsInKronerAndDatesInOslo) {
  EXPECT_EQ(invoice_csv_row(invoice()),
            "invoice,42,,912345688,oslo-sentrum,issued,2026-11-23,2026-11-23,2026-12-07,"
            "2026-11-22,0000000422,650.05,39.00,689.05,,,false,false\r\n");
}

TEST(InvoiceCsv, CreditNoteIsNegativeAndNamesTheInvoice) {
  auto note = invoice();
  note.kind = "credit_note";
  note.number = 43;
  note.credits_number = 42;
  note.kid.reset();
  note.total = -68905;
  const auto row = invoice_csv_row(note);
  EXPECT_NE(row.find("credit_note,43,42,"), std::string::npos) << row;
  EXPECT_NE(row.find(",-650.05,-39.00,-689.05,"), std::string::npos) << row;
}

TEST(InvoiceCsv, FreeTextIsQuoted) {
  auto v = invoice();
  v.status = "paid";
  v.paid_on = "2026-11-30";
  v.payment_reference = "bank \"DNB\", 30.11";
  const auto row = invoice_csv_row(v);
  EXPECT_NE(row.find(",\"bank \"\"DNB\"\", 30.11\","), std::string::npos) << row;
}

}  // namespace
}  // namespace visitpay::app
