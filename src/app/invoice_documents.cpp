#include "app/invoice_documents.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/time_format.hpp"

namespace visitpay::app {

namespace {

// Parameters by value: the coroutine runs on another thread after the caller's frame moved on.
boost::asio::awaitable<common::Result<std::string>> render_on_pool(
    const ports::InvoiceRenderer& renderer, domain::InvoiceDocument document) {
  co_return renderer.render(document);
}

}  // namespace

boost::asio::awaitable<common::Result<InvoiceDocuments::Rendered>> InvoiceDocuments::render(
    const store::InvoiceRecord& invoice) {
  Rendered rendered{store::to_document(invoice, common::format_oslo_iso_date(clock_.now())), {}};
  auto pdf = co_await boost::asio::co_spawn(blocking_, render_on_pool(renderer_, rendered.document),
                                            boost::asio::use_awaitable);
  if (!pdf) co_return std::move(pdf).error();
  rendered.pdf = std::move(pdf.value());
  co_return rendered;
}

std::string InvoiceDocuments::file_name(const store::InvoiceRecord& invoice) {
  return invoice.org_number + "-" + invoice.kind + "-" + std::to_string(invoice.number);
}

}  // namespace visitpay::app
