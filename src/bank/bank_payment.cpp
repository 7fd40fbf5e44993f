#include "bank/bank_payment.hpp"

namespace visitpay::bank {

std::string_view to_string(BankFormat format) {
  return format == BankFormat::ocr_giro ? "ocr_giro" : "camt054";
}

bool kid_allowed(std::string_view kid, const std::vector<KidRule>& rules) {
  for (const auto& rule : rules) {
    if (domain::is_valid_kid(kid, rule.algorithm, {rule.length, rule.length})) return true;
  }
  return false;
}

common::Error file_error(std::size_t line, std::string_view field, std::string detail) {
  auto error = common::make_error(
      common::ErrorCode::validation_failed,
      "line " + std::to_string(line) + ", " + std::string(field) + ": " + detail);
  error.fields.push_back(
      {"/lines/" + std::to_string(line) + "/" + std::string(field), std::move(detail)});
  return error;
}

common::Result<BankFormat> detect_format(std::string_view head) {
  // A UTF-8 byte order mark may precede an XML declaration.
  if (head.starts_with("\xEF\xBB\xBF")) head.remove_prefix(3);
  const auto first = head.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return file_error(1, "file", "the file is empty");
  head.remove_prefix(first);
  if (head.starts_with("<")) return BankFormat::camt054;
  if (head.starts_with("NY")) return BankFormat::ocr_giro;
  return file_error(1, "file",
                    "neither an OCR giro transmission (records start with NY) nor camt.054 XML");
}

}  // namespace visitpay::bank
