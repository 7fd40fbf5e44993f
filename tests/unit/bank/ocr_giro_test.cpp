// The OCR giro parser against Nets' record layouts (bank.md §1): the checked two-payment example,
// and one malformed variant per rule, each refused with its line and field.
#include "bank/ocr_giro.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace visitpay::bank {
namespace {

std::vector<std::string> example_lines() {
  std::ifstream in(std::string(VISITPAY_SOURCE_DIR) + "/tests/fixtures/bank/ocr_two_payments.txt");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines)
    out += l + "\n";
  return out;
}

struct Parsed {
  common::Result<FileSummary> summary;
  std::vector<BankPayment> payments;
};

// Fed in small pieces, so lines are split across chunks as a streamed file splits them.
Parsed parse(const std::string& file, std::size_t chunk = 7) {
  OcrGiroParser parser({{domain::KidAlgorithm::mod10, 10}});
  Parsed p;
  for (std::size_t at = 0; at < file.size(); at += chunk) {
    auto fed = parser.feed(std::string_view(file).substr(at, chunk), p.payments);
    if (!fed) {
      p.summary = std::move(fed).error();
      return p;
    }
  }
  p.summary = parser.finish(p.payments);
  return p;
}

// The error's field pointer, e.g. "/lines/3/amount".
std::string refused_at(const std::vector<std::string>& lines) {
  auto p = parse(join(lines));
  if (p.summary.ok()) return "accepted";
  const auto& e = p.summary.error();
  EXPECT_EQ(e.code, common::ErrorCode::validation_failed);
  EXPECT_EQ(e.fields.size(), 1u);
  EXPECT_NE(e.detail.find("line "), std::string::npos) << e.detail;
  return e.fields.empty() ? "" : e.fields[0].pointer;
}

void put(std::string& line, std::size_t from, std::string_view text) {
  line.replace(from - 1, text.size(), text);
}

TEST(OcrGiro, ReadsTheCheckedExample) {
  auto p = parse(join(example_lines()));
  ASSERT_TRUE(p.summary.ok()) << p.summary.error().detail;
  EXPECT_EQ(p.summary->payments, 2);
  EXPECT_EQ(p.summary->total, 239050);
  EXPECT_EQ(p.summary->file_key, "00008080/0000123/00012345");
  ASSERT_EQ(p.payments.size(), 2u);
  const auto& a = p.payments[0];
  EXPECT_EQ(a.kid, "2025000171");
  EXPECT_EQ(a.amount, 150000);
  EXPECT_EQ(a.booking_date, "2025-01-15");
  EXPECT_EQ(a.value_date, "2025-01-14");
  EXPECT_EQ(a.bank_reference, "012345678");
  EXPECT_EQ(a.creditor_account, "12345678903");
  EXPECT_EQ(a.payer_account, "98765432103");
  EXPECT_EQ(a.line, 3u);
  const auto& b = p.payments[1];
  EXPECT_EQ(b.kid, "2025000189");
  EXPECT_EQ(b.amount, 89050);
  EXPECT_EQ(b.bank_reference, "000012346");
  EXPECT_EQ(b.payer_account, "");  // zeros: not known
  EXPECT_NE(a.source_ref, b.source_ref);
}

TEST(OcrGiro, CrlfAndWholeFileChunksReadTheSame) {
  std::string crlf;
  for (const auto& l : example_lines())
    crlf += l + "\r\n";
  auto p = parse(crlf, crlf.size());
  ASSERT_TRUE(p.summary.ok()) << p.summary.error().detail;
  EXPECT_EQ(p.payments.size(), 2u);
}

TEST(OcrGiro, LineOfWrongLength) {
  auto lines = example_lines();
  lines[2].pop_back();  // 79
  EXPECT_EQ(refused_at(lines), "/lines/3/record");
  lines = example_lines();
  lines[3] += "0";  // 81
  EXPECT_EQ(refused_at(lines), "/lines/4/record");
}

TEST(OcrGiro, UnknownRecordType) {
  auto lines = example_lines();
  put(lines[2], 7, "40");
  EXPECT_EQ(refused_at(lines), "/lines/3/record_type");
}

TEST(OcrGiro, RecordsOutOfOrder) {
  auto lines = example_lines();
  std::swap(lines[2], lines[3]);  // item 2 before item 1
  EXPECT_EQ(refused_at(lines), "/lines/3/record_type");
}

TEST(OcrGiro, TransmissionTotalOffByOne) {
  auto lines = example_lines();
  put(lines[7], 25, "00000000000239051");
  EXPECT_EQ(refused_at(lines), "/lines/8/total_amount");
}

TEST(OcrGiro, AssignmentRecordCountWithoutItsStartAndEnd) {
  auto lines = example_lines();
  put(lines[6], 17, "00000004");
  EXPECT_EQ(refused_at(lines), "/lines/7/number_of_records");
}

TEST(OcrGiro, AssignmentTransactionCount) {
  auto lines = example_lines();
  put(lines[6], 9, "00000003");
  EXPECT_EQ(refused_at(lines), "/lines/7/number_of_transactions");
}

TEST(OcrGiro, KidWithWrongCheckDigit) {
  auto lines = example_lines();
  put(lines[2], 65, "2025000172");
  EXPECT_EQ(refused_at(lines), "/lines/3/kid");
}

TEST(OcrGiro, KidWithALetter) {
  auto lines = example_lines();
  put(lines[2], 65, "20250A0171");
  EXPECT_EQ(refused_at(lines), "/lines/3/kid");
}

TEST(OcrGiro, NonNumericAmount) {
  auto lines = example_lines();
  put(lines[2], 44, "15O000");
  EXPECT_EQ(refused_at(lines), "/lines/3/amount");
}

TEST(OcrGiro, MissingEndRecord) {
  auto lines = example_lines();
  lines.pop_back();
  EXPECT_EQ(refused_at(lines), "/lines/8/record");
}

TEST(OcrGiro, AvtaleGiroAssignmentIsRefused) {
  auto lines = example_lines();
  put(lines[1], 3, "21");
  EXPECT_EQ(refused_at(lines), "/lines/2/service_code");
}

TEST(OcrGiro, ImpossibleDate) {
  auto lines = example_lines();
  put(lines[2], 16, "310225");  // 31 February
  EXPECT_EQ(refused_at(lines), "/lines/3/nets_date");
}

TEST(OcrGiro, ItemTwoOfAnotherTransaction) {
  auto lines = example_lines();
  put(lines[3], 9, "0000009");
  EXPECT_EQ(refused_at(lines), "/lines/4/transaction_number");
}

TEST(OcrGiro, NonZeroDocumentedFillerInItemTwoIsAccepted) {
  // Nets' own example has values in positions 35-41 of amount item 2 (bank.md §1.5).
  auto lines = example_lines();
  put(lines[3], 35, "1883206");
  EXPECT_EQ(refused_at(lines), "accepted");
}

TEST(OcrGiro, ReversalIsNegativeAndCountsPositivelyInTheTotals) {
  auto lines = example_lines();
  put(lines[4], 5, "18");  // type 12 -> 18 (reversing with KID)
  put(lines[5], 5, "18");
  auto p = parse(join(lines));
  ASSERT_TRUE(p.summary.ok()) << p.summary.error().detail;
  EXPECT_EQ(p.payments[1].amount, -89050);
  EXPECT_EQ(p.summary->total, 239050);
}

}  // namespace
}  // namespace visitpay::bank
