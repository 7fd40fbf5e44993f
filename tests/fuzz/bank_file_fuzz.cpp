// Bank files (visitpay bank import, POST /v1/bank/files): the format detection, then the OCR giro
// or camt.054 parser, as the import streams a file: in chunks whose size the input's first byte
// chooses, so lines and XML elements split across chunks.
//
// Checked: the parsers never crash or leak; the result (payments and summary, or the error) is
// the same whether the file comes whole or in chunks; an error names one field as
// "/lines/<n>/<field>"; an accepted file's summary counts and adds up its payments; every
// payment has a reference and, when it has a KID, one of digits (and a MOD11 '-').
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bank/bank_payment.hpp"
#include "bank/camt054.hpp"
#include "bank/ocr_giro.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

namespace bank = visitpay::bank;
using visitpay::common::ErrorCode;

struct Outcome {
  visitpay::common::Result<bank::FileSummary> summary;
  std::vector<bank::BankPayment> payments;
};

std::unique_ptr<bank::BankFileParser> parser_for(bank::BankFormat format) {
  if (format == bank::BankFormat::camt054) return std::make_unique<bank::Camt054Parser>();
  return std::make_unique<bank::OcrGiroParser>(std::vector<bank::KidRule>{
      {visitpay::domain::KidAlgorithm::mod10, 10}, {visitpay::domain::KidAlgorithm::mod11, 7}});
}

Outcome parse(bank::BankFormat format, std::string_view file, std::size_t chunk) {
  auto parser = parser_for(format);
  Outcome out;
  for (std::size_t at = 0; at < file.size(); at += chunk) {
    auto fed = parser->feed(file.substr(at, chunk), out.payments);
    if (!fed) {
      out.summary = std::move(fed).error();
      return out;
    }
  }
  out.summary = parser->finish(out.payments);
  return out;
}

bool same_payment(const bank::BankPayment& a, const bank::BankPayment& b) {
  return a.source_ref == b.source_ref && a.kid == b.kid && a.amount == b.amount &&
         a.booking_date == b.booking_date && a.value_date == b.value_date &&
         a.bank_reference == b.bank_reference && a.creditor_account == b.creditor_account &&
         a.payer_account == b.payer_account && a.line == b.line;
}

void check_error(const visitpay::common::Error& error) {
  FUZZ_CHECK(error.code == ErrorCode::validation_failed);
  FUZZ_CHECK(error.fields.size() == 1);
  FUZZ_CHECK(error.fields[0].pointer.starts_with("/lines/"));
}

void check_accepted(const bank::FileSummary& summary,
                    const std::vector<bank::BankPayment>& payments) {
  FUZZ_CHECK(summary.payments == static_cast<std::int64_t>(payments.size()));
  bank::Ore total = 0;
  for (const auto& p : payments) {
    FUZZ_CHECK(!p.source_ref.empty());
    FUZZ_CHECK(p.kid.find_first_not_of("0123456789-") == std::string::npos);
    FUZZ_CHECK(p.line >= 1);
    total += p.amount < 0 ? -p.amount : p.amount;
  }
  FUZZ_CHECK(summary.total == total);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 97;
  const std::string_view file(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto format = bank::detect_format(file.substr(0, 64));
  if (!format) {
    check_error(format.error());
    return 0;
  }
  const auto whole = parse(*format, file, file.size() + 1);
  const auto chunked = parse(*format, file, chunk);

  FUZZ_CHECK(whole.summary.ok() == chunked.summary.ok());
  if (!whole.summary) {
    check_error(whole.summary.error());
    FUZZ_CHECK(whole.summary.error().fields[0].pointer ==
               chunked.summary.error().fields[0].pointer);
    return 0;
  }
  FUZZ_CHECK(whole.payments.size() == chunked.payments.size());
  for (std::size_t i = 0; i < whole.payments.size(); ++i)
    FUZZ_CHECK(same_payment(whole.payments[i], chunked.payments[i]));
  FUZZ_CHECK(whole.summary->file_key == chunked.summary->file_key);
  check_accepted(whole.summary.value(), whole.payments);
  return 0;
}
