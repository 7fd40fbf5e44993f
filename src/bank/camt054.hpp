#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bank/bank_payment.hpp"

namespace visitpay::bank {

// ISO 20022 camt.054 (BankToCustomerDebitCreditNotification) versions 001.02 to 001.08 (bank.md
// §2), read by a streaming XML parser (expat): memory stays bounded by one entry, whatever the
// file's size. One payment per TxDtls (or per entry without details); only booked entries (BOOK)
// are payments. Checks the namespace, the required elements, amounts (NOK, at most two decimals)
// and that each entry's transactions add up to the entry (and its batch). Errors name the line and
// the element path. The KID is CdtrRefInf/Ref when it is digits (bank.md §2.3); anything else
// is a payment without KID.
class Camt054Parser final : public BankFileParser {
 public:
  Camt054Parser();
  ~Camt054Parser() override;
  Camt054Parser(const Camt054Parser&) = delete;
  Camt054Parser& operator=(const Camt054Parser&) = delete;

  common::Result<void> feed(std::string_view chunk, std::vector<BankPayment>& out) override;
  common::Result<FileSummary> finish(std::vector<BankPayment>& out) override;

  struct State;

 private:
  common::Result<void> parse(std::string_view chunk, bool final, std::vector<BankPayment>& out);
  std::unique_ptr<State> state_;
};

}  // namespace visitpay::bank
