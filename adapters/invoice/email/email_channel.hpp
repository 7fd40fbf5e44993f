// `invoice.email`: invoices, credit notes and letters e-mailed to the payer through an SMTP relay
// (libcurl), the PDF attached.
//
// - TLS: smtps:// (implicit TLS) or smtp:// with STARTTLS required (`require_tls`); the server's
//   certificate and name are verified. Plain SMTP only to a relay on the loopback (the config
//   refuses anything else), for the local catcher.
// - The message: From the clinic's legal entity name <from_address>, To the payer's address, a
//   subject and a short Norwegian text naming the document (number, amount, due date, account and
//   KID: what is on the PDF, never the payer's name or the visit's lines), the PDF attached. The
//   Message-ID is stable per document (`<name>.visitpay@<sender's domain>`), so a repeat after a
//   crash between the relay's "250" and our record of it reaches the payer as the same message
//   (mail clients show one). The channel itself keeps no state: that window is the limit of its
//   at-most-once promise.
// - Outcome: the relay's "250" after the data is delivered (reference "email:<Message-ID>").
//   The recipient refused (RCPT 5xx) or the message refused (5xx after the data): provider_rejected
//   "e-mail refused (SMTP 550)", so the caller sends it by post. Anything else (no connection,
//   TLS failure, 4xx, login refused, the sender refused): provider_unavailable, retried. Errors
//   carry the SMTP reply code only: a server's text often quotes the address.
// - Bounces that come later (a DSN to from_address) are not read here: the mailbox behind
//   from_address is finance's to watch.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <string>

#include "common/result.hpp"
#include "ports/invoice_channel.hpp"

namespace visitpay::adapters::invoice {

struct EmailSettings {
  std::string smtp_url;  // smtp://host:587 or smtps://host:465
  bool require_tls = true;
  std::string from_address;
  std::string reply_to;  // "" = none
  std::string username;  // "" = no AUTH
  std::string password;  // secret
  std::string ca_file;   // "" = the system's CA bundle
  std::chrono::milliseconds timeout{30000};
};

// What the message says, apart from the attachment. Pure: exposed for tests.
struct EmailContent {
  std::string subject;     // UTF-8, not yet encoded for the header
  std::string text;        // the body, UTF-8
  std::string message_id;  // "<...>"
};
EmailContent compose_email(const ports::InvoiceDelivery& delivery, const std::string& from_address);

// A header value as RFC 2047 encoded-words when it is not plain ASCII ("=?UTF-8?B?...?=").
std::string encode_header_text(const std::string& utf8);

class EmailInvoiceChannel final : public ports::InvoiceChannel {
 public:
  // The SMTP exchanges run on the channel's own threads (libcurl's easy interface blocks; a slow
  // relay must not hold up the PDF renderer's pool), at most `connections` at once; the result
  // comes back on the caller's executor.
  explicit EmailInvoiceChannel(EmailSettings settings, std::size_t connections = 4);

  // Needs delivery.email; without it the delivery is provider_rejected.
  boost::asio::awaitable<common::Result<ports::InvoiceDelivered>> deliver(
      const ports::InvoiceDelivery& delivery) override;

 private:
  EmailSettings settings_;
  boost::asio::thread_pool pool_;
};

}  // namespace visitpay::adapters::invoice
