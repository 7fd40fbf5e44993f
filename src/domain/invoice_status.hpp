#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace visitpay::domain {

// An invoice's life (ARCHITECTURE.md §2): pending_review -> issued -> partially_paid -> paid,
// or credited; pending_review -> void; issued -> sent_to_collection (the reminder schedule's
// hand-off, domain/dunning.hpp) -> paid. Bank payments move an issued invoice by what has been
// paid against its total plus reminder fees; finance's actions are the other transitions.
enum class InvoiceStatus {
  pending_review,
  issued,
  partially_paid,
  paid,
  credited,
  void_,
  sent_to_collection
};

inline constexpr std::array kAllInvoiceStatuses = {
    InvoiceStatus::pending_review,    InvoiceStatus::issued,
    InvoiceStatus::partially_paid,    InvoiceStatus::paid,
    InvoiceStatus::credited,          InvoiceStatus::void_,
    InvoiceStatus::sent_to_collection};

constexpr std::string_view to_string(InvoiceStatus s) {
  switch (s) {
    case InvoiceStatus::pending_review:
      return "pending_review";
    case InvoiceStatus::issued:
      return "issued";
    case InvoiceStatus::partially_paid:
      return "partially_paid";
    case InvoiceStatus::paid:
      return "paid";
    case InvoiceStatus::credited:
      return "credited";
    case InvoiceStatus::void_:
      return "void";
    case InvoiceStatus::sent_to_collection:
      return "sent_to_collection";
  }
  return "issued";
}

// What a bank payment came to (bank_payments.status).
enum class BankOutcome { matched, partial, overpaid, reversed, unmatched };

inline constexpr std::array kAllBankOutcomes = {BankOutcome::matched, BankOutcome::partial,
                                                BankOutcome::overpaid, BankOutcome::reversed,
                                                BankOutcome::unmatched};

constexpr std::string_view to_string(BankOutcome o) {
  switch (o) {
    case BankOutcome::matched:
      return "matched";
    case BankOutcome::partial:
      return "partial";
    case BankOutcome::overpaid:
      return "overpaid";
    case BankOutcome::reversed:
      return "reversed";
    case BankOutcome::unmatched:
      return "unmatched";
  }
  return "unmatched";
}

}  // namespace visitpay::domain
