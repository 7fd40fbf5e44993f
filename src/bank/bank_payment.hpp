#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"
#include "domain/kid.hpp"

namespace visitpay::bank {

using Ore = std::int64_t;

enum class BankFormat { ocr_giro, camt054 };

std::string_view to_string(BankFormat format);  // "ocr_giro" | "camt054"

// One incoming payment, whatever file it came in. Only what matching, booking and a refund need:
// the payer's name is never read; the payer's account is kept for a refund of an overpayment.
struct BankPayment {
  // Unique per payment across files, so a re-delivered payment is recognised: OCR a composite of
  // the record's Nets fields (bank.md §3, our choice), camt.054 the bank's AcctSvcrRef.
  std::string source_ref;
  std::string kid;             // digits (and a MOD11 '-'); empty when the payment carries none
  Ore amount = 0;              // øre; negative for a reversal (money going back to the payer)
  std::string booking_date;    // YYYY-MM-DD: when it reached our account (Nets date, BookgDt)
  std::string value_date;      // YYYY-MM-DD or "": the payer's bank date (OCR), ValDt (camt)
  std::string bank_reference;  // shown to finance: archive reference, AcctSvcrRef or end-to-end id
  std::string creditor_account;  // our 11-digit account the payment was made to
  std::string payer_account;     // the payer's account if the bank sent it (personal data)
  std::size_t line = 0;          // where it starts in the file
};

// What a whole file declared about itself, known once it has been read to the end.
struct FileSummary {
  BankFormat format = BankFormat::ocr_giro;
  std::string file_key;  // OCR: transmitter/transmission/recipient; camt.054: GrpHdr/MsgId
  std::int64_t payments = 0;
  Ore total = 0;  // sum of the payments' absolute amounts (as the 88/89 records count them)
  std::int64_t skipped = 0;  // camt.054 entries not booked yet (PDNG/INFO): not payments
};

// The KID shapes the bank agreements allow (one per legal entity's configuration).
struct KidRule {
  domain::KidAlgorithm algorithm = domain::KidAlgorithm::mod10;
  std::size_t length = 10;
};

bool kid_allowed(std::string_view kid, const std::vector<KidRule>& rules);

// A malformed file: the error names the line and the field ("/lines/7/amount" as its pointer).
common::Error file_error(std::size_t line, std::string_view field, std::string detail);

// Parses a bank file pushed in chunks of any size; payments are appended to `out` as they are
// complete, so the caller can write them in batches and the file is never held whole.
class BankFileParser {
 public:
  virtual ~BankFileParser() = default;
  virtual common::Result<void> feed(std::string_view chunk, std::vector<BankPayment>& out) = 0;
  // The end of the file: checks what can only be checked at the end (totals, the end records).
  virtual common::Result<FileSummary> finish(std::vector<BankPayment>& out) = 0;
};

// The format from the file's first bytes: '<' is XML (camt.054), "NY" an OCR giro transmission.
common::Result<BankFormat> detect_format(std::string_view head);

}  // namespace visitpay::bank
