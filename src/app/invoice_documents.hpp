#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <string>

#include "app/payer_vault.hpp"
#include "common/result.hpp"
#include "ports/clock.hpp"
#include "ports/invoice_channel.hpp"
#include "store/invoice_store.hpp"

namespace visitpay::app {

// Decrypts what a stored invoice keeps under the session's retained key (unwrapped once): the
// buyer's name and address into its buyer_* fields, and each visit line's description. Once the
// key was destroyed at the end of the bookkeeping period, buyer_* stay empty and the visit lines'
// descriptions absent.
common::Result<void> reveal_retained(const PayerVault& vault, store::InvoiceRecord& invoice);

// Renders stored invoices as PDF on the blocking-work pool, so an I/O thread never spends the
// milliseconds a page takes.
class InvoiceDocuments {
 public:
  InvoiceDocuments(const ports::InvoiceRenderer& renderer,
                   boost::asio::any_io_executor blocking_executor, const ports::Clock& clock)
      : renderer_(renderer), blocking_(std::move(blocking_executor)), clock_(clock) {}

  // The printable document and its PDF.
  struct Rendered {
    domain::InvoiceDocument document;
    std::string pdf;
  };
  boost::asio::awaitable<common::Result<Rendered>> render(const store::InvoiceRecord& invoice);
  // Any document (a reminder letter) as PDF, on the blocking pool.
  boost::asio::awaitable<common::Result<std::string>> render_document(
      domain::InvoiceDocument document);

  // "<org>-invoice-<number>" / "<org>-credit_note-<number>": unique, stable, no personal data.
  static std::string file_name(const store::InvoiceRecord& invoice);

 private:
  const ports::InvoiceRenderer& renderer_;
  boost::asio::any_io_executor blocking_;
  const ports::Clock& clock_;
};

}  // namespace visitpay::app
