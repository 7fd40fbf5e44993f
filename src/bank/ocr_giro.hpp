#pragma once

#include <string>
#include <vector>

#include "bank/bank_payment.hpp"

namespace visitpay::bank {

// Nets OCR giro transmissions (80-character records 10/20/30/31/32/88/89; bank.md §1), read line
// by line. Checks every record's length, format code, type and place in the record order, every
// numeric field, the KID's check character against the agreements' KID rules, and the 88/89
// counts and sums against the transactions read. Errors name the line and the field.
class OcrGiroParser final : public BankFileParser {
 public:
  explicit OcrGiroParser(std::vector<KidRule> kid_rules) : kid_rules_(std::move(kid_rules)) {}

  common::Result<void> feed(std::string_view chunk, std::vector<BankPayment>& out) override;
  common::Result<FileSummary> finish(std::vector<BankPayment>& out) override;

 private:
  enum class Expect { transmission_start, assignment_or_end, item1_or_end, item2, item3, done };
  struct Totals {
    std::int64_t transactions = 0;
    std::int64_t records = 0;
    Ore amount = 0;
  };

  common::Result<void> record(std::string_view text, std::vector<BankPayment>& out);
  common::Result<void> transmission_start(std::string_view r);
  common::Result<void> assignment_start(std::string_view r);
  common::Result<void> amount_item1(std::string_view r);
  common::Result<void> amount_item2(std::string_view r, std::vector<BankPayment>& out);
  common::Result<void> amount_item3(std::string_view r);
  common::Result<void> assignment_end(std::string_view r);
  common::Result<void> transmission_end(std::string_view r);
  common::Result<void> check_totals(std::string_view r, const Totals& expected,
                                    std::string_view what) const;

  std::vector<KidRule> kid_rules_;
  std::string partial_;  // the start of a line whose end is in the next chunk
  std::size_t line_ = 0;
  Expect expect_ = Expect::transmission_start;
  std::string transaction_type_;
  std::string transaction_number_;
  std::string agreement_id_;
  std::string assignment_account_;
  BankPayment pending_;  // item 1 read, waiting for item 2
  Totals assignment_;
  Totals transmission_;
  FileSummary summary_;
};

}  // namespace visitpay::bank
