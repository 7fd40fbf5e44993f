// The camt.054 parser against the element paths of bank.md §2: the v02 example, its v08 variant,
// and malformed files refused with the line and element.
#include "bank/camt054.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace visitpay::bank {
namespace {

std::string example() {
  std::ifstream in(std::string(VISITPAY_SOURCE_DIR) +
                   "/tests/fixtures/bank/camt054_two_payments.xml");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string replaced(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

struct Parsed {
  common::Result<FileSummary> summary;
  std::vector<BankPayment> payments;
};

Parsed parse(const std::string& file, std::size_t chunk = 64) {
  Camt054Parser parser;
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

std::string refused_at(const std::string& file) {
  auto p = parse(file);
  if (p.summary.ok()) return "accepted";
  const auto& e = p.summary.error();
  EXPECT_EQ(e.code, common::ErrorCode::validation_failed);
  EXPECT_NE(e.detail.find("line "), std::string::npos) << e.detail;
  return e.fields.empty() ? "" : e.fields[0].pointer;
}

TEST(Camt054, ReadsTheExample) {
  auto p = parse(example());
  ASSERT_TRUE(p.summary.ok()) << p.summary.error().detail;
  EXPECT_EQ(p.summary->file_key, "CAMT054-20250115-0001");
  EXPECT_EQ(p.summary->payments, 2);
  EXPECT_EQ(p.summary->total, 239050);
  ASSERT_EQ(p.payments.size(), 2u);
  const auto& a = p.payments[0];
  EXPECT_EQ(a.kid, "2025000171");
  EXPECT_EQ(a.amount, 150000);
  EXPECT_EQ(a.booking_date, "2025-01-15");
  EXPECT_EQ(a.value_date, "2025-01-15");
  EXPECT_EQ(a.source_ref, "camt/TX-REF-0001");
  EXPECT_EQ(a.bank_reference, "TX-REF-0001");
  EXPECT_EQ(a.creditor_account, "12345678903");
  EXPECT_EQ(a.payer_account, "98765432103");
  EXPECT_EQ(p.payments[1].kid, "2025000189");
  EXPECT_EQ(p.payments[1].amount, 89050);
}

TEST(Camt054, PayerNameIsNeverRead) {
  auto p = parse(example());
  ASSERT_TRUE(p.summary.ok());
  for (const auto& pay : p.payments) {
    for (const auto& s : {pay.source_ref, pay.kid, pay.bank_reference, pay.payer_account})
      EXPECT_EQ(s.find("Nordmann"), std::string::npos);
  }
}

TEST(Camt054, ReadsTheV08Shape) {
  auto v08 = replaced(example(), "camt.054.001.02", "camt.054.001.08");
  v08 = replaced(v08, "<Sts>BOOK</Sts>", "<Sts><Cd>BOOK</Cd></Sts>");
  v08 = replaced(v08, "<AmtDtls><TxAmt><Amt Ccy=\"NOK\">1500.00</Amt></TxAmt></AmtDtls>",
                 "<Amt Ccy=\"NOK\">1500.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>");
  auto p = parse(v08);
  ASSERT_TRUE(p.summary.ok()) << p.summary.error().detail;
  ASSERT_EQ(p.payments.size(), 2u);
  EXPECT_EQ(p.payments[0].amount, 150000);
}

TEST(Camt054, NonDigitReferenceIsAPaymentWithoutKid) {
  auto p = parse(replaced(example(), "<Ref>2025000189</Ref>", "<Ref>RF18539007547034</Ref>"));
  ASSERT_TRUE(p.summary.ok());
  EXPECT_EQ(p.payments[1].kid, "");
  EXPECT_EQ(p.payments[1].bank_reference, "TX-REF-0002");
}

TEST(Camt054, PendingEntriesAreNotPayments) {
  auto p = parse(replaced(example(), "<Sts>BOOK</Sts>", "<Sts>PDNG</Sts>"));
  ASSERT_TRUE(p.summary.ok());
  EXPECT_TRUE(p.payments.empty());
  EXPECT_EQ(p.summary->skipped, 1);
}

TEST(Camt054, ReversalIsNegative) {
  auto p = parse(replaced(example(), "<CdtDbtInd>CRDT</CdtDbtInd><Sts>",
                          "<CdtDbtInd>CRDT</CdtDbtInd><RvslInd>true</RvslInd><Sts>"));
  ASSERT_TRUE(p.summary.ok());
  EXPECT_EQ(p.payments[0].amount, -150000);
}

TEST(Camt054, WrongNamespace) {
  EXPECT_EQ(refused_at(replaced(example(), "camt.054.001.02", "camt.053.001.02")),
            "/lines/2/Document");
}

TEST(Camt054, MissingEntryAmount) {
  EXPECT_EQ(refused_at(replaced(example(), "<Amt Ccy=\"NOK\">2390.50</Amt>", "")),
            "/lines/32/Ntry/Amt");
}

TEST(Camt054, MissingBookingDate) {
  EXPECT_EQ(refused_at(replaced(example(), "<BookgDt><Dt>2025-01-15</Dt></BookgDt>", "")),
            "/lines/32/Ntry/BookgDt/Dt");
}

TEST(Camt054, MissingMessageId) {
  EXPECT_EQ(refused_at(replaced(example(), "<MsgId>CAMT054-20250115-0001</MsgId>", "")),
            "/lines/36/GrpHdr/MsgId");
}

TEST(Camt054, BadAmount) {
  EXPECT_EQ(refused_at(replaced(example(), ">890.50<", ">890,50<")),
            "/lines/26/Ntry/NtryDtls/TxDtls/AmtDtls/TxAmt/Amt");
  EXPECT_EQ(refused_at(replaced(example(), ">890.50<", ">890.505<")),
            "/lines/26/Ntry/NtryDtls/TxDtls/AmtDtls/TxAmt/Amt");
}

TEST(Camt054, WrongCurrency) {
  EXPECT_EQ(refused_at(replaced(example(), "<Amt Ccy=\"NOK\">890.50", "<Amt Ccy=\"SEK\">890.50")),
            "/lines/26/Ntry/NtryDtls/TxDtls/AmtDtls/TxAmt/Amt");
}

TEST(Camt054, TransactionsNotAddingUpToTheEntry) {
  EXPECT_EQ(refused_at(replaced(example(), ">890.50<", ">890.40<")), "/lines/32/Ntry/Amt");
}

TEST(Camt054, BatchCountDisagrees) {
  EXPECT_EQ(refused_at(replaced(example(), "<NbOfTxs>2</NbOfTxs>", "<NbOfTxs>3</NbOfTxs>")),
            "/lines/32/Ntry/NtryDtls/Btch/NbOfTxs");
}

TEST(Camt054, NotWellFormed) {
  EXPECT_EQ(refused_at(replaced(example(), "</AmtDtls>", "</AmtDtl>")), "/lines/17/xml");
}

TEST(Camt054, DoctypeIsRefused) {
  const auto with_dtd =
      replaced(example(), "<Document ", "<!DOCTYPE Document [<!ENTITY a \"aaaa\">]>\n<Document ");
  EXPECT_EQ(refused_at(with_dtd), "/lines/2/DOCTYPE");
}

}  // namespace
}  // namespace visitpay::bank
