#include "workers/invoice_work.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace visitpay::workers {

using common::ErrorCode;
using ports::PaymentStatus;

namespace {

// Statuses after which the order can no longer be paid: an invoice may follow.
bool no_longer_payable(std::string_view status) {
  return status == "Aborted" || status == "Failed" || status == "Cancelled" || status == "Reversed";
}

}  // namespace

store::InvoiceIssuer invoice_issuer(const config::Clinic& clinic) {
  store::InvoiceIssuer issuer;
  const auto& le = clinic.legal_entity;
  issuer.org_number = le.org_number;
  issuer.name = le.name;
  issuer.foretaksregisteret = le.foretaksregisteret;
  issuer.vat_registered = le.vat_registered;
  for (char c : le.bank_account) {
    if (c >= '0' && c <= '9') issuer.bank_account.push_back(c);
  }
  issuer.delivery_place = clinic.display_name;
  issuer.configured_fee = clinic.invoice_fee_ore;
  issuer.due_days = clinic.invoice_due_days;
  issuer.kid_algorithm = le.kid_algorithm;
  issuer.kid_length = le.kid_length;
  issuer.kid_allow_dash = le.kid_allow_dash;
  return issuer;
}

InvoiceWork::InvoiceWork(InvoiceWorkDeps deps) : d_(deps) {
  d_.metrics.describe("visitpay_invoices_total", common::Metrics::Type::counter,
                      "Invoices created, by reason (window_expired, no_phone, sms_rejected, "
                      "sms_undeliverable) and whether a fee was charged");
  d_.metrics.describe("visitpay_invoice_deliveries_total", common::Metrics::Type::counter,
                      "Invoices and credit notes handed to the delivery channel, by outcome");
}

void InvoiceWork::register_with(OutboxDispatcher& dispatcher) {
  auto add = [&](std::string_view kind, OutboxDispatcher::HandlerFunction handler) {
    dispatcher.add_handler(std::string(kind), std::move(handler));
  };
  add(store::work::invoice_session, [this](const auto& item) { return close_window(item); });
  add(store::work::deliver_invoice, [this](const auto& item) { return deliver(item, "invoice"); });
  add(store::work::deliver_credit_note,
      [this](const auto& item) { return deliver(item, "credit_note"); });
}

asio::awaitable<OutboxOutcome> InvoiceWork::close_window(const store::OutboxItem& item) {
  auto context = co_await d_.invoices.window_context(item.session_id);
  if (!context) co_return OutboxOutcome::from_error(context.error());
  if (!context->has_value()) co_return OutboxOutcome::give_up("the session does not exist");
  const auto& session = **context;
  // Paid, cancelled or invoiced meanwhile: the session has ended.
  if (session.state != "awaiting_payment" && session.state != "invoicing") {
    co_return OutboxOutcome::success();
  }
  const auto now = d_.clock.now();
  if (session.state == "awaiting_payment" && session.deadline && *session.deadline > now) {
    co_return OutboxOutcome::wait_until(*session.deadline, "the payment window is still open");
  }
  const config::Clinic* clinic = d_.config.find_clinic(session.clinic_id);
  if (clinic == nullptr) co_return OutboxOutcome::give_up("the clinic is not configured");

  // Invariant 3: an order that might still be paid is settled first. GET it; Paid -> the session
  // is paid (a payment one second before the deadline counts); payable -> abort it.
  if (session.order_status && !no_longer_payable(*session.order_status)) {
    auto ref = co_await d_.payments.order_of(item.session_id);
    if (!ref) co_return OutboxOutcome::from_error(ref.error());
    if (ref->has_value()) {
      auto settled = co_await d_.payment_work.settle(**ref, /*abort_if_open=*/true);
      if (!settled) {
        if (settled.error().code == ErrorCode::provider_conflict) {
          d_.log.info("invoice.abort_refused", {{"session_id", item.session_id}});
          co_return OutboxOutcome::retry_later(
              "the order cannot be aborted now (payer in the app?); looking again",
              d_.config.invoices.abort_retry);
        }
        co_return OutboxOutcome::from_error(settled.error());
      }
      if (settled->capture_error) co_return OutboxOutcome::from_error(*settled->capture_error);
      if (settled->status == PaymentStatus::paid) co_return OutboxOutcome::success();
      if (settled->status == PaymentStatus::initialized ||
          settled->status == PaymentStatus::unknown) {
        co_return OutboxOutcome::retry_later("the order is still payable");
      }
    }
  }

  auto created = co_await d_.invoices.create_invoice(item.session_id, invoice_issuer(*clinic), now);
  if (!created) co_return OutboxOutcome::from_error(created.error());
  if (const auto* refusal = std::get_if<store::InvoiceRefusal>(&*created)) {
    if (*refusal == store::InvoiceRefusal::order_open) {
      co_return OutboxOutcome::retry_later("the order changed while invoicing; looking again");
    }
    co_return OutboxOutcome::success();  // ended meanwhile
  }
  const auto& invoice = std::get<store::InvoiceCreated>(*created);
  d_.metrics.add("visitpay_invoices_total",
                 common::Metrics::label("reason", invoice.reason) + "," +
                     common::Metrics::label("fee", invoice.fee > 0 ? "charged" : "none"));
  d_.log.info("invoice.created", {{"session_id", item.session_id},
                                  {"invoice_id", invoice.id},
                                  {"number", static_cast<long long>(invoice.number)},
                                  {"reason", invoice.reason},
                                  {"fee_ore", static_cast<long long>(invoice.fee)}});
  co_return OutboxOutcome::success();
}

asio::awaitable<OutboxOutcome> InvoiceWork::deliver(const store::OutboxItem& item,
                                                    std::string_view kind) {
  auto found = co_await d_.invoices.of_session(item.session_id, kind);
  if (!found) co_return OutboxOutcome::from_error(found.error());
  if (!found->has_value()) co_return OutboxOutcome::give_up("no such invoice");
  auto& invoice = **found;
  if (invoice.delivered_at) co_return OutboxOutcome::success();  // delivered before
  if (invoice.status == "pending_review" || invoice.status == "void") {
    co_return OutboxOutcome::give_up("the invoice is not issued");
  }
  if (auto revealed = app::reveal_buyer(d_.vault, invoice); !revealed) {
    co_return OutboxOutcome::give_up(revealed.error().detail);
  }
  auto rendered = co_await d_.documents.render(invoice);
  if (!rendered) co_return OutboxOutcome::give_up(rendered.error().detail);
  // A named argument: GCC 12 destroys braced temporaries in a co_await expression twice.
  const ports::InvoiceDelivery delivery{rendered->document, rendered->pdf,
                                        app::InvoiceDocuments::file_name(invoice)};
  auto delivered = co_await d_.channel.deliver(delivery);
  if (!delivered) {
    d_.metrics.add("visitpay_invoice_deliveries_total",
                   common::Metrics::label("outcome", "failed"));
    co_return OutboxOutcome::from_error(delivered.error());
  }
  d_.metrics.add("visitpay_invoice_deliveries_total",
                 common::Metrics::label("outcome", "delivered"));
  auto recorded = co_await d_.invoices.delivered(invoice.id, delivered->reference, d_.clock.now());
  if (!recorded) co_return OutboxOutcome::from_error(recorded.error());
  d_.log.info(
      "invoice.delivered",
      {{"invoice_id", invoice.id}, {"kind", invoice.kind}, {"reference", delivered->reference}});
  co_return OutboxOutcome::success();
}

}  // namespace visitpay::workers
