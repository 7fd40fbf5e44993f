#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"
#include "domain/invoice.hpp"
#include "ports/invoice_channel.hpp"

namespace visitpay::adapters::pdf {

// `pdf.libharu`: an invoice or credit note as an A4 PDF (libharu 2.3), in Norwegian bokmål. The
// buyer's address sits where a left window envelope shows it; lines that do not fit one page
// continue on the next, and the totals and payment block are always on the last page. Text uses
// the standard Helvetica with WinAnsiEncoding (nothing embedded), so every character of the
// document must be in Windows-1252; others print as '?'. The output is deterministic: the same
// document gives the same bytes (the PDF creation date is the issue date).
// Errors are internal_error "pdf: ..." and never contain personal data.
class LibharuInvoiceRenderer final : public ports::InvoiceRenderer {
 public:
  common::Result<std::string> render(const domain::InvoiceDocument& document) const override;
};

// UTF-8 -> Windows-1252. Malformed UTF-8 and characters outside CP1252 become '?'; tab, CR and LF
// become a space, other control characters '?'; the Unicode space variants (thin, narrow no-break,
// figure ...) a plain space and U+2212 MINUS SIGN '-'. Exposed for tests.
std::string to_cp1252(std::string_view utf8);

// "1 234,50", "-95,00": øre as kroner with a space between thousands and a decimal comma.
std::string format_amount(domain::Ore amount);

// "923 609 016" for nine digits; anything else unchanged.
std::string format_org_number(std::string_view digits);

// "1234.56.78903" for eleven digits; anything else unchanged.
std::string format_bank_account(std::string_view digits);

}  // namespace visitpay::adapters::pdf
