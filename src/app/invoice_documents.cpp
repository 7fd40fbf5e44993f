#include "app/invoice_documents.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/line_descriptions.hpp"
#include "common/time_format.hpp"

namespace visitpay::app {

namespace {

// Parameters by value: the coroutine runs on another thread after the caller's frame moved on.
boost::asio::awaitable<common::Result<std::string>> render_on_pool(
    const ports::InvoiceRenderer& renderer, domain::InvoiceDocument document) {
  co_return renderer.render(document);
}

// An invoice whose buyer was copied in plaintext (before migration 0005, not yet migrated) keeps
// those buyer_* fields.
common::Result<void> reveal_buyer(const UnlockedKey& retained, store::InvoiceRecord& invoice) {
  if (!invoice.buyer_name_enc) return common::Ok{};
  auto name = retained.open("name", invoice.buyer_name_enc);
  if (!name) return std::move(name).error();
  auto address = retained.open("address", invoice.buyer_address_enc);
  if (!address) return std::move(address).error();
  auto email = retained.open("email", invoice.buyer_email_enc);
  if (!email) return std::move(email).error();
  invoice.buyer_name = std::move(*name);
  invoice.buyer_email = std::move(*email);
  if (*address) {
    if (auto a = split_address(**address)) {
      invoice.buyer_street = a->street;
      invoice.buyer_postal_code = a->postal_code;
      invoice.buyer_city = a->city;
      invoice.buyer_country = a->country;
    }
  }
  return common::Ok{};
}

// The fee line and lines from before migration 0019 not yet sealed keep their plaintext.
common::Result<void> reveal_lines(const UnlockedKey& retained,
                                  std::vector<store::InvoiceLineRecord>& lines) {
  for (auto& line : lines) {
    if (!line.description_enc) continue;
    auto description = open_description(retained, line.line_no, line.description_enc);
    if (!description) return std::move(description).error();
    line.description = std::move(description.value());
  }
  return common::Ok{};
}

}  // namespace

common::Result<void> reveal_retained(const PayerVault& vault, store::InvoiceRecord& invoice) {
  if (!invoice.retained_key) return common::Ok{};
  auto retained = vault.unlock(invoice.session_id, KeyClass::retained, *invoice.retained_key);
  if (!retained) return std::move(retained).error();
  if (auto buyer = reveal_buyer(*retained, invoice); !buyer) return buyer;
  return reveal_lines(*retained, invoice.lines);
}

boost::asio::awaitable<common::Result<InvoiceDocuments::Rendered>> InvoiceDocuments::render(
    const store::InvoiceRecord& invoice) {
  Rendered rendered{store::to_document(invoice, common::format_oslo_iso_date(clock_.now())), {}};
  auto pdf = co_await boost::asio::co_spawn(blocking_, render_on_pool(renderer_, rendered.document),
                                            boost::asio::use_awaitable);
  if (!pdf) co_return std::move(pdf).error();
  rendered.pdf = std::move(pdf.value());
  co_return rendered;
}

boost::asio::awaitable<common::Result<std::string>> InvoiceDocuments::render_document(
    domain::InvoiceDocument document) {
  auto work = render_on_pool(renderer_, std::move(document));
  co_return co_await boost::asio::co_spawn(blocking_, std::move(work), boost::asio::use_awaitable);
}

std::string InvoiceDocuments::file_name(const store::InvoiceRecord& invoice) {
  return invoice.org_number + "-" + invoice.kind + "-" + std::to_string(invoice.number);
}

}  // namespace visitpay::app
