#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "domain/checkout.hpp"

namespace visitpay::domain {

enum class InvoiceKind { invoice, credit_note };

struct InvoiceLine {
  std::string description;
  Ore amount = 0;  // negative on a credit note
  Ore vat = 0;     // the VAT part of amount, with its sign; 0: exempt (mval. § 3-2)
};

// A reminder letter about an invoice (domain/dunning.hpp). Printed like the invoice: the document's
// issue_date is the letter's date, due_date the new deadline, lines what is owed, and `notice`
// the paragraphs the law asks for (inkassoforskriften § 1-2: amount and what the claim concerns;
// inkassoloven § 9: the warning that the claim goes to collection).
enum class LetterKind { purring, inkassovarsel };

struct Letter {
  LetterKind kind = LetterKind::purring;
  int sequence = 1;
  std::chrono::year_month_day invoice_issue_date{};
  std::chrono::year_month_day invoice_due_date{};
  std::vector<std::string> notice;
};

// Everything printed on an invoice or credit note (bokføringsforskriften § 5-1-1: number, dates,
// seller with organisation number, buyer name and address, what was delivered and when, amounts,
// due date, bank account and KID). Health services are VAT-exempt: no VAT line, "unntatt mva".
// Dates are calendar dates in Europe/Oslo.
struct InvoiceDocument {
  InvoiceKind kind = InvoiceKind::invoice;
  bool draft = false;  // not issued yet (pending review): printed as a draft, never sent
  std::int64_t number = 0;
  std::optional<std::int64_t> credits_number;  // a credit note: the invoice it credits
  std::string kid;                             // empty on a credit note
  std::chrono::year_month_day issue_date{};
  std::chrono::year_month_day due_date{};       // unused on a credit note
  std::chrono::year_month_day delivery_date{};  // the visit
  std::string delivery_place;                   // the clinic's name

  std::string seller_name;
  std::string seller_org_number;  // 9 digits
  bool seller_foretaksregisteret = false;
  bool seller_vat_registered = false;
  std::string seller_bank_account;  // 11 digits
  std::string seller_street;        // the business address ('' on invoices made before 0016)
  std::string seller_postal_code;
  std::string seller_city;

  std::string buyer_name;  // personal data
  std::string buyer_street;
  std::string buyer_postal_code;
  std::string buyer_city;
  std::string buyer_country;  // ISO 3166 alpha-2

  std::vector<InvoiceLine> lines;  // the visit's lines, then the invoice fee line if charged
  Ore total = 0;                   // sum of lines

  std::optional<Letter> letter;  // set: a purring or inkassovarsel about invoice `number`
};

}  // namespace visitpay::domain
