#include "adapters/invoice/email/email_channel.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <ctime>
#include <memory>
#include <utility>

#include "adapters/http/http_client.hpp"
#include "domain/payment_sms.hpp"

namespace visitpay::adapters::invoice {

namespace asio = boost::asio;
using common::ErrorCode;
using common::make_error;
using common::Result;

namespace {

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                  reinterpret_cast<const unsigned char*>(bytes.data()),
                  static_cast<int>(bytes.size()));
  return out;
}

std::string date_text(std::chrono::year_month_day d) {
  std::array<char, 16> out{};
  std::snprintf(out.data(), out.size(), "%02u.%02u.%04d", static_cast<unsigned>(d.day()),
                static_cast<unsigned>(d.month()), static_cast<int>(d.year()));
  return out.data();
}

// 11 digits as banks print them: 1503.20.80003.
std::string account_text(const std::string& digits) {
  if (digits.size() != 11) return digits;
  return digits.substr(0, 4) + "." + digits.substr(4, 2) + "." + digits.substr(6);
}

std::string document_title(const domain::InvoiceDocument& d) {
  const std::string number = std::to_string(d.number);
  if (d.letter) {
    return d.letter->kind == domain::LetterKind::purring ? "Purring på faktura " + number
                                                         : "Inkassovarsel for faktura " + number;
  }
  return d.kind == domain::InvoiceKind::credit_note ? "Kreditnota " + number : "Faktura " + number;
}

std::string opening(const domain::InvoiceDocument& d) {
  const std::string visit =
      " for helsetjenester levert " + date_text(d.delivery_date) + " ved " + d.delivery_place + ".";
  if (d.letter) {
    const std::string what = d.letter->kind == domain::LetterKind::purring
                                 ? "en purring"
                                 : "et inkassovarsel (varsel om inkasso)";
    return "vedlagt er " + what + " fra " + d.seller_name + " på faktura " +
           std::to_string(d.number) + visit + " Fakturaen er ikke betalt.";
  }
  if (d.kind == domain::InvoiceKind::credit_note) {
    return "vedlagt er kreditnota " + std::to_string(d.number) + " fra " + d.seller_name +
           (d.credits_number ? ", som krediterer faktura " + std::to_string(*d.credits_number)
                             : std::string()) +
           visit;
  }
  return "vedlagt er faktura " + std::to_string(d.number) + " fra " + d.seller_name + visit;
}

std::string payment_block(const domain::InvoiceDocument& d) {
  if (d.kind == domain::InvoiceKind::credit_note) return "";
  std::string out = "Å betale: " + domain::format_kroner(d.total) + "\n";
  out += "Forfall: " + date_text(d.due_date) + "\n";
  out += "Til konto: " + account_text(d.seller_bank_account) + "\n";
  if (!d.kid.empty()) out += "KID: " + d.kid + "\n";
  return out + "\n";
}

std::string signature(const domain::InvoiceDocument& d) {
  std::string out = "Med vennlig hilsen\n" + d.seller_name + "\n";
  if (!d.seller_street.empty()) {
    out += d.seller_street + ", " + d.seller_postal_code + " " + d.seller_city + "\n";
  }
  return out + "Org.nr. " + d.seller_org_number + "\n";
}

std::string rfc5322_date(std::chrono::system_clock::time_point now) {
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&t, &utc);
  std::array<char, 64> out{};
  std::strftime(out.data(), out.size(), "%a, %d %b %Y %H:%M:%S +0000", &utc);
  return out.data();
}

struct CurlEasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct CurlMimeDeleter {
  void operator()(curl_mime* m) const { curl_mime_free(m); }
};
struct CurlListDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlList = std::unique_ptr<curl_slist, CurlListDeleter>;

void append(CurlList& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) throw std::bad_alloc();
  (void)list.release();
  list.reset(grown);
}

// What the relay said, as the caller needs it: the reply code and which step failed. libcurl's
// own message names the step ("RCPT failed: 550", "MAIL failed: 451", "Got unexpected
// smtp-server response: 421" at the greeting); a refusal after the data is a weird server reply
// with no message. The server's text is never used.
Result<ports::InvoiceDelivered> outcome(CURLcode rc, long reply, const char* error_buffer,
                                        const std::string& message_id) {
  if (rc == CURLE_OK) return ports::InvoiceDelivered{"email:" + message_id};
  const std::string step(error_buffer);
  const bool recipient = step.rfind("RCPT failed", 0) == 0;
  const bool after_data = rc == CURLE_WEIRD_SERVER_REPLY && step.empty();
  const std::string code = reply > 0 ? " (SMTP " + std::to_string(reply) + ")" : std::string();
  if (reply >= 500 && reply < 600 && (recipient || after_data)) {
    return make_error(
        ErrorCode::provider_rejected,
        std::string("e-mail refused") + (recipient ? " for the recipient" : "") + code);
  }
  return make_error(ErrorCode::provider_unavailable,
                    std::string("e-mail not sent: ") + curl_easy_strerror(rc) + code);
}

struct Outgoing {
  EmailSettings settings;
  std::string to;
  std::string pdf;
  std::string file_name;
  std::string from_header;
  EmailContent content;
};

Result<ports::InvoiceDelivered> send_blocking(const Outgoing& m) {
  http::curl_init_once();
  std::unique_ptr<CURL, CurlEasyDeleter> easy(curl_easy_init());
  if (!easy) return make_error(ErrorCode::provider_unavailable, "e-mail: curl_easy_init failed");
  CURL* h = easy.get();
  std::unique_ptr<curl_mime, CurlMimeDeleter> mime(curl_mime_init(h));
  // Lines end in CRLF in a message (RFC 5322 § 2.3), so quoted-printable keeps them as lines.
  std::string crlf_text;
  for (char c : m.content.text)
    crlf_text += c == '\n' ? std::string("\r\n") : std::string(1, c);
  curl_mimepart* text = curl_mime_addpart(mime.get());
  curl_mime_data(text, crlf_text.data(), crlf_text.size());
  curl_mime_type(text, "text/plain; charset=UTF-8");
  curl_mime_encoder(text, "quoted-printable");
  curl_mimepart* pdf = curl_mime_addpart(mime.get());
  curl_mime_data(pdf, m.pdf.data(), m.pdf.size());
  curl_mime_type(pdf, "application/pdf");
  curl_mime_filename(pdf, m.file_name.c_str());
  curl_mime_encoder(pdf, "base64");

  CurlList headers;
  append(headers, "Date: " + rfc5322_date(std::chrono::system_clock::now()));
  append(headers, "From: " + m.from_header);
  append(headers, "To: <" + m.to + ">");
  if (!m.settings.reply_to.empty()) append(headers, "Reply-To: <" + m.settings.reply_to + ">");
  append(headers, "Subject: " + encode_header_text(m.content.subject));
  append(headers, "Message-ID: " + m.content.message_id);
  CurlList recipients;
  append(recipients, "<" + m.to + ">");

  const auto& s = m.settings;
  const std::string mail_from = "<" + s.from_address + ">";
  std::array<char, CURL_ERROR_SIZE> error{};
  curl_easy_setopt(h, CURLOPT_URL, s.smtp_url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_USE_SSL, s.require_tls ? CURLUSESSL_ALL : CURLUSESSL_NONE);
  if (!s.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, s.ca_file.c_str());
  if (!s.username.empty()) {
    curl_easy_setopt(h, CURLOPT_USERNAME, s.username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, s.password.c_str());
  }
  curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h, CURLOPT_MIMEPOST, mime.get());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(s.timeout.count()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min<long long>(s.timeout.count(), 10000)));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error.data());
  const CURLcode rc = curl_easy_perform(h);
  long reply = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
  return outcome(rc, reply, error.data(), m.content.message_id);
}

asio::awaitable<Result<ports::InvoiceDelivered>> send_on_pool(Outgoing message) {
  co_return send_blocking(message);
}

}  // namespace

std::string encode_header_text(const std::string& utf8) {
  const bool ascii = std::all_of(utf8.begin(), utf8.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (ascii) return utf8;
  // Encoded-words of at most 75 characters (RFC 2047 § 2): 45 bytes of text each, cut between
  // UTF-8 characters, folded onto continuation lines.
  std::string out;
  std::size_t at = 0;
  while (at < utf8.size()) {
    std::size_t n = std::min<std::size_t>(45, utf8.size() - at);
    while (at + n < utf8.size() && (static_cast<unsigned char>(utf8[at + n]) & 0xC0) == 0x80)
      --n;
    const std::string_view piece(utf8.data() + at, n);
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(piece) + "?=";
    at += n;
  }
  return out;
}

EmailContent compose_email(const ports::InvoiceDelivery& delivery,
                           const std::string& from_address) {
  const auto& d = delivery.document;
  EmailContent c;
  c.subject = document_title(d) + " fra " + d.seller_name;
  c.text = "Hei,\n\n" + opening(d) + "\n\n" + payment_block(d) +
           "Dokumentet er vedlagt som PDF. Har du spørsmål, kontakt " + d.seller_name + ".\n\n" +
           signature(d);
  const auto at = from_address.rfind('@');
  const std::string domain =
      at == std::string::npos ? "visitpay.invalid" : from_address.substr(at + 1);
  c.message_id = "<" + delivery.name + ".visitpay@" + domain + ">";
  return c;
}

EmailInvoiceChannel::EmailInvoiceChannel(EmailSettings settings, std::size_t connections)
    : settings_(std::move(settings)), pool_(connections) {}

asio::awaitable<Result<ports::InvoiceDelivered>> EmailInvoiceChannel::deliver(
    const ports::InvoiceDelivery& delivery) {
  if (!delivery.email || delivery.email->empty()) {
    co_return make_error(ErrorCode::provider_rejected, "e-mail: the payer gave no address");
  }
  if (delivery.pdf.empty()) co_return make_error(ErrorCode::provider_rejected, "e-mail: no PDF");
  Outgoing m{
      settings_,
      *delivery.email,
      delivery.pdf,
      delivery.name + ".pdf",
      encode_header_text(delivery.document.seller_name) + " <" + settings_.from_address + ">",
      compose_email(delivery, settings_.from_address)};
  // A named variable: GCC 12 destroys temporaries in a co_await expression twice.
  auto work = send_on_pool(std::move(m));
  co_return co_await asio::co_spawn(pool_.get_executor(), std::move(work), asio::use_awaitable);
}

}  // namespace visitpay::adapters::invoice
