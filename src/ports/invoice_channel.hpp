#pragma once

#include <boost/asio/awaitable.hpp>
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
};

struct InvoiceDelivered {
  std::string reference;  // where it went (a file name, a provider id); no personal data
};

// Sends an issued invoice or credit note to the payer: print-and-post, eFaktura, e-mail ...
// Delivering the same `name` again must not produce a second letter (at-least-once callers).
// Failures: provider_unavailable (retry later), provider_rejected (permanent).
class InvoiceChannel {
 public:
  virtual ~InvoiceChannel() = default;
  virtual boost::asio::awaitable<common::Result<InvoiceDelivered>> deliver(
      const InvoiceDelivery& delivery) = 0;
};

}  // namespace visitpay::ports
