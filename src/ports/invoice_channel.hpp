#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "common/result.hpp"
#include "domain/invoice.hpp"

namespace visitpay::ports {

// Turns an invoice into a printable A4 PDF. CPU only (no I/O); callers run it off the I/O threads.
class InvoiceRenderer {
 public:
  virtual ~InvoiceRenderer() = default;
  virtual common::Result<std::string> render(const domain::InvoiceDocument& document) const = 0;
};

struct InvoiceDelivery {
  const domain::InvoiceDocument& document;
  const std::string& pdf;
  std::string name;  // stable and unique per document, no personal data: "<org>-invoice-<number>"
  std::optional<std::string> email;  // the payer's address (personal data), for e-mail channels
};

struct InvoiceDelivered {
  std::string reference;  // where it went (a file name, a provider id); no personal data
};

// Sends an issued invoice, credit note or letter to the payer: print-and-post, e-mail, and later
// eFaktura or a digital mailbox. Delivering the same `name` again should not produce a second
// letter (at-least-once callers; each channel says how far it can promise that).
// Failures: provider_unavailable (retry later), provider_rejected (this recipient or document
// will never be taken: the caller sends it another way).
class InvoiceChannel {
 public:
  virtual ~InvoiceChannel() = default;
  virtual boost::asio::awaitable<common::Result<InvoiceDelivered>> deliver(
      const InvoiceDelivery& delivery) = 0;
};

}  // namespace visitpay::ports
