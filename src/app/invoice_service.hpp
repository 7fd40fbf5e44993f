#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "app/auth.hpp"
#include "app/invoice_documents.hpp"
#include "common/log.hpp"
#include "common/result.hpp"
#include "ports/clock.hpp"
#include "store/invoice_store.hpp"

namespace visitpay::app {

// What one id of a bulk approval came to.
struct BulkOutcome {
  std::string id;
  std::optional<store::InvoiceRecord> invoice;  // approved
  std::optional<common::Error> error;           // or why not
};

// Finance's review queue: list, look, approve (single or bulk), void, credit, mark paid, export.
// Every transition is guarded by the invoice's status (a refused one is an invalid_state error,
// 409) and audited with the caller's name. An invoice of a clinic the caller's token is not bound
// to is reported as absent.
class InvoiceService {
 public:
  InvoiceService(store::InvoiceStore& invoices, InvoiceDocuments& documents,
                 const PayerVault& vault, const ports::Clock& clock, common::Logger& log,
                 std::function<void()> nudge);

  asio::awaitable<common::Result<store::InvoicePage>> list(
      store::InvoiceFilter filter, const Principal& principal,
      const std::optional<store::InvoiceCursor>& after, int limit);
  asio::awaitable<common::Result<store::InvoiceRecord>> get(std::string_view id,
                                                            const Principal& principal);
  asio::awaitable<common::Result<InvoiceDocuments::Rendered>> pdf(std::string_view id,
                                                                  const Principal& principal);

  asio::awaitable<common::Result<store::InvoiceRecord>> approve(std::string_view id,
                                                                const Principal& principal);
  asio::awaitable<std::vector<BulkOutcome>> approve_all(const std::vector<std::string>& ids,
                                                        const Principal& principal);
  asio::awaitable<common::Result<store::InvoiceRecord>> void_invoice(std::string_view id,
                                                                     const Principal& principal,
                                                                     std::string_view reason);
  // Returns the credit note.
  asio::awaitable<common::Result<store::InvoiceRecord>> credit(std::string_view id,
                                                               const Principal& principal,
                                                               std::string_view reason);
  asio::awaitable<common::Result<store::InvoiceRecord>> mark_paid(std::string_view id,
                                                                  const Principal& principal,
                                                                  std::string_view paid_on,
                                                                  std::string_view reference);

  // Every invoice and credit note the filter matches, as CSV for the accounting system.
  asio::awaitable<common::Result<std::string>> export_csv(store::InvoiceFilter filter,
                                                          const Principal& principal);

 private:
  asio::awaitable<common::Result<store::InvoiceRecord>> transition(std::string_view id,
                                                                   const Principal& principal,
                                                                   store::InvoiceTransition t);

  store::InvoiceStore& invoices_;
  InvoiceDocuments& documents_;
  const PayerVault& vault_;
  const ports::Clock& clock_;
  common::Logger& log_;
  std::function<void()> nudge_;
};

// One CSV row per invoice (RFC 4180; amounts in kroner with two decimals, dates ISO 8601).
std::string invoice_csv_header();
std::string invoice_csv_row(const store::InvoiceRecord& invoice);

}  // namespace visitpay::app
