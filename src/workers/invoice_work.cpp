#include "workers/invoice_work.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/reminder_letters.hpp"

namespace visitpay::workers {

using common::ErrorCode;
using ports::PaymentStatus;

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
  issuer.street = le.street;
  issuer.postal_code = le.postal_code;
  issuer.city = le.city;
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
                      "sms_undeliverable, link_failed) and whether a fee was charged");
  d_.metrics.describe("visitpay_orders_not_aborted_total", common::Metrics::Type::counter,
                      "Invoices made while the payment order could not be aborted within its "
                      "budget (finance must watch for a late payment)");
  d_.metrics.describe("visitpay_invoice_deliveries_total", common::Metrics::Type::counter,
                      "Invoices and credit notes handed to the delivery channel, by outcome");
  d_.metrics.describe("visitpay_email_deliveries_total", common::Metrics::Type::counter,
                      "Invoices, credit notes and letters e-mailed, by outcome (sent; refused: "
                      "sent by post instead; failed: retried)");
  d_.metrics.describe("visitpay_reminder_deliveries_total", common::Metrics::Type::counter,
                      "Reminder letters delivered and claims handed to collection, by kind and "
                      "outcome");
}

void InvoiceWork::register_with(OutboxDispatcher& dispatcher) {
  auto add = [&](std::string_view kind, OutboxDispatcher::HandlerFunction handler) {
    dispatcher.add_handler(std::string(kind), std::move(handler));
  };
  using domain::WorkKind;
  add(to_string(WorkKind::invoice_session),
      [this](const auto& item) { return close_window(item); });
  add(to_string(WorkKind::deliver_invoice),
      [this](const auto& item) { return deliver(item, "invoice"); });
  add(to_string(WorkKind::deliver_credit_note),
      [this](const auto& item) { return deliver(item, "credit_note"); });
}

asio::awaitable<OutboxOutcome> InvoiceWork::close_window(const store::OutboxItem& item) {
  auto context = co_await d_.invoices.window_context(item.session_id);
  if (!context) co_return OutboxOutcome::from_error(context.error());
  if (!context->has_value()) co_return OutboxOutcome::give_up("the session does not exist");
  const auto& session = **context;
  // Paid, cancelled or invoiced meanwhile: the session has ended.
  if (session.state != domain::SessionState::invoicing) co_return OutboxOutcome::success();
  const auto now = d_.clock.now();
  const config::Clinic* clinic = d_.config.find_clinic(session.clinic_id);
  if (clinic == nullptr) co_return OutboxOutcome::retry_later("the clinic is not configured");

  // Invariant 3: an order that might still be paid is settled first.
  bool order_not_aborted = false;
  if (session.order_status && !domain::closed_unpaid(*session.order_status)) {
    auto settled = co_await settle_order(item, session);
    if (const auto* outcome = std::get_if<OutboxOutcome>(&settled)) co_return *outcome;
    order_not_aborted = std::get<bool>(settled);
  }

  auto created = co_await d_.invoices.create_invoice(item.session_id, invoice_issuer(*clinic), now,
                                                     order_not_aborted);
  if (!created) co_return OutboxOutcome::from_error(created.error());
  if (const auto* refusal = std::get_if<store::InvoiceRefusal>(&*created)) {
    if (*refusal == store::InvoiceRefusal::order_open) {
      co_return OutboxOutcome::retry_later("the order changed while invoicing; looking again");
    }
    co_return OutboxOutcome::success();  // ended meanwhile
  }
  const auto& invoice = std::get<store::InvoiceCreated>(*created);
  if (order_not_aborted) {
    d_.metrics.add("visitpay_orders_not_aborted_total", "");
    d_.log.error("invoice.order_not_aborted",
                 {{"session_id", item.session_id}, {"invoice_id", invoice.id}});
  }
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

asio::awaitable<std::variant<OutboxOutcome, bool>> InvoiceWork::settle_order(
    const store::OutboxItem& item, const store::WindowContext& session) {
  // Past its bound the order is left open and the invoice made regardless, flagged for finance
  // (an alert for ops): the session ends, and a late payment voids or flags the invoice.
  const auto give_up_at = session.state_since + d_.config.invoices.abort_give_up_after;
  const bool last_chance = item.last_chance || d_.clock.now() >= give_up_at;
  auto ref = co_await d_.payments.order_of(item.session_id);
  if (!ref) co_return OutboxOutcome::from_error(ref.error());
  if (!ref->has_value()) co_return false;
  // GET it; paid -> the session is paid (a payment one second before the deadline counts);
  // payable -> abort it.
  auto settled = co_await d_.payment_work.settle(**ref, /*abort_if_open=*/true);
  if (!settled) {
    if (last_chance) co_return true;
    if (settled.error().code == ErrorCode::provider_conflict) {
      d_.log.info("invoice.abort_refused", {{"session_id", item.session_id}});
      // A wait, not a failure: the payer is in the Vipps app right now; look again.
      co_return OutboxOutcome::wait_until(
          std::min(d_.clock.now() + std::chrono::microseconds(d_.config.invoices.abort_retry),
                   give_up_at),
          "the order cannot be aborted now (payer in the app?); looking again");
    }
    co_return OutboxOutcome::from_error(settled.error());
  }
  if (settled->capture_error) co_return OutboxOutcome::from_error(*settled->capture_error);
  if (settled->status == PaymentStatus::paid) co_return OutboxOutcome::success();
  if (!domain::closed_unpaid(settled->status)) {
    if (last_chance) co_return true;
    co_return OutboxOutcome::retry_later("the order is still payable");
  }
  co_return false;
}

// A reminder step taken while this runs marks the item to run again (store/outbox_queue.hpp), so
// a letter that comes after the invoice was read here is delivered by the next run.
asio::awaitable<OutboxOutcome> InvoiceWork::deliver(const store::OutboxItem& item,
                                                    std::string_view kind) {
  auto found = co_await d_.invoices.of_session(item.session_id, kind);
  if (!found) co_return OutboxOutcome::from_error(found.error());
  if (!found->has_value()) co_return OutboxOutcome::give_up("no such invoice");
  auto& invoice = **found;
  const bool letters_due = std::any_of(invoice.reminders.begin(), invoice.reminders.end(),
                                       [](const auto& r) { return !r.delivered_at; });
  if (invoice.delivered_at && !letters_due) co_return OutboxOutcome::success();  // before
  if (invoice.status == "pending_review" || invoice.status == "void") {
    co_return OutboxOutcome::give_up("the invoice is not issued");
  }
  if (auto revealed = app::reveal_retained(d_.vault, invoice); !revealed) {
    co_return OutboxOutcome::give_up(revealed.error().detail);
  }
  if (invoice.delivered_at) co_return co_await deliver_reminders(invoice);
  auto rendered = co_await d_.documents.render(invoice);
  if (!rendered) co_return OutboxOutcome::give_up(rendered.error().detail);
  // A named argument: GCC 12 destroys braced temporaries in a co_await expression twice.
  ports::InvoiceDelivery delivery{rendered->document, rendered->pdf,
                                  app::InvoiceDocuments::file_name(invoice), std::nullopt};
  auto delivered = co_await send(invoice, std::move(delivery));
  d_.metrics.add("visitpay_invoice_deliveries_total",
                 common::Metrics::label("outcome", delivered ? "delivered" : "failed"));
  if (!delivered) co_return OutboxOutcome::from_error(delivered.error());
  auto recorded = co_await d_.invoices.delivered(invoice.id, *delivered, d_.clock.now());
  if (!recorded) co_return OutboxOutcome::from_error(recorded.error());
  d_.log.info("invoice.delivered",
              {{"invoice_id", invoice.id}, {"kind", invoice.kind}, {"reference", *delivered}});
  if (letters_due) co_return co_await deliver_reminders(invoice);
  co_return OutboxOutcome::success();
}

asio::awaitable<OutboxOutcome> InvoiceWork::deliver_reminders(const store::InvoiceRecord& invoice) {
  for (const auto& reminder : invoice.reminders) {
    if (reminder.delivered_at) continue;
    const bool handoff = reminder.kind == "collection";
    // A letter about a credited or void invoice, or a hand-off of a claim paid meanwhile, is
    // withheld, and the history says so. A letter crossing a payment still goes: it tells the
    // payer to disregard it if they have paid.
    const bool withhold = handoff ? invoice.status != "sent_to_collection"
                                  : invoice.status == "credited" || invoice.status == "void";
    common::Result<std::string> reference = "withheld: invoice " + invoice.status;
    if (!withhold && handoff) {
      reference = co_await hand_over(invoice, reminder);
    } else if (!withhold) {
      reference = co_await send_letter(invoice, reminder);
    }
    const auto labels = common::Metrics::label("kind", reminder.kind) + "," +
                        common::Metrics::label("outcome", !reference ? "failed"
                                                          : withhold ? "withheld"
                                                                     : "delivered");
    d_.metrics.add("visitpay_reminder_deliveries_total", labels);
    if (!reference) co_return OutboxOutcome::from_error(reference.error());
    auto recorded =
        co_await d_.reminders.delivered(invoice.id, reminder, *reference, d_.clock.now());
    if (!recorded) co_return OutboxOutcome::from_error(recorded.error());
    d_.log.info("reminder.delivered", {{"invoice_id", invoice.id},
                                       {"kind", reminder.kind},
                                       {"sequence", static_cast<long long>(reminder.sequence)},
                                       {"reference", *reference}});
  }
  co_return OutboxOutcome::success();
}

std::string InvoiceWork::agency_of(const store::InvoiceRecord& invoice) const {
  const config::Clinic* clinic = d_.config.find_clinic(invoice.clinic_id);
  return clinic ? clinic->collection_agency : std::string();
}

asio::awaitable<common::Result<std::string>> InvoiceWork::send_letter(
    const store::InvoiceRecord& invoice, const store::ReminderRecord& reminder) {
  auto letter = app::reminder_letter(invoice, reminder, agency_of(invoice));
  auto pdf = co_await d_.documents.render_document(letter);
  if (!pdf) co_return std::move(pdf).error();
  // A named argument: GCC 12 destroys braced temporaries in a co_await expression twice.
  ports::InvoiceDelivery delivery{letter, *pdf, reminder.document_name, std::nullopt};
  co_return co_await send(invoice, std::move(delivery));
}

asio::awaitable<common::Result<std::string>> InvoiceWork::send(const store::InvoiceRecord& invoice,
                                                               ports::InvoiceDelivery delivery) {
  const config::Clinic* clinic = d_.config.find_clinic(invoice.clinic_id);
  const bool by_email = d_.email != nullptr && clinic != nullptr &&
                        clinic->invoice_delivery == config::InvoiceDelivery::email &&
                        invoice.buyer_email.has_value();
  std::optional<std::string> refusal;
  if (by_email) {
    delivery.email = invoice.buyer_email;
    auto mailed = co_await d_.email->deliver(delivery);
    const bool refused = !mailed && mailed.error().code == ErrorCode::provider_rejected;
    d_.metrics.add("visitpay_email_deliveries_total",
                   common::Metrics::label("outcome", mailed    ? "sent"
                                                     : refused ? "refused"
                                                               : "failed"));
    // Named arguments throughout: GCC 12 destroys temporaries in a co_await expression twice.
    const std::optional<std::string> none;
    if (mailed) {
      if (invoice.delivery_problem) co_await note_problem(invoice, none, none);
      co_return std::move(mailed->reference);
    }
    if (!refused) {
      const std::optional<std::string> problem = mailed.error().detail;
      const std::optional<std::string> history = *problem + ", retrying";
      co_await note_problem(invoice, problem, history);
      co_return std::move(mailed).error();
    }
    refusal = mailed.error().detail + ", sent by post instead";
    delivery.email.reset();
  }
  auto posted = co_await d_.channel.deliver(delivery);
  if (!posted) {
    const std::optional<std::string> problem = "post: " + posted.error().detail;
    const std::optional<std::string> history = *problem + ", retrying";
    co_await note_problem(invoice, problem, history);
    co_return std::move(posted).error();
  }
  if (refusal || invoice.delivery_problem) {
    const std::optional<std::string> none;
    co_await note_problem(invoice, none, refusal);
  }
  co_return std::move(posted->reference);
}

// Best effort: the delivery's own outcome decides what happens next, not this note.
asio::awaitable<void> InvoiceWork::note_problem(const store::InvoiceRecord& invoice,
                                                std::optional<std::string> problem,
                                                std::optional<std::string> history) {
  const auto now = d_.clock.now();
  auto noted = co_await d_.invoices.delivery_problem(invoice.id, problem, history, now);
  if (!noted) {
    d_.log.warn("invoice.delivery_problem_not_recorded",
                {{"invoice_id", invoice.id}, {"error", noted.error().detail}});
  }
}

asio::awaitable<common::Result<std::string>> InvoiceWork::hand_over(
    const store::InvoiceRecord& invoice, const store::ReminderRecord& handoff) {
  const auto claim = app::collection_case(invoice, handoff, agency_of(invoice));
  co_return co_await d_.agency.hand_over(claim);
}

}  // namespace visitpay::workers
