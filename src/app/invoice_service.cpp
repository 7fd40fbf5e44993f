#include "app/invoice_service.hpp"

#include "common/time_format.hpp"
#include "common/uuid.hpp"

namespace visitpay::app {

using common::ErrorCode;
using common::make_error;
using common::Result;

namespace {

common::Error no_such_invoice() {
  return make_error(ErrorCode::not_found, "no such invoice");
}

std::string kroner(domain::Ore ore) {
  const bool negative = ore < 0;
  const auto abs = negative ? -ore : ore;
  std::string cents = std::to_string(abs % 100);
  if (cents.size() < 2) cents.insert(0, "0");
  return (negative ? "-" : "") + std::to_string(abs / 100) + "." + cents;
}

// RFC 4180: quoted when it holds a comma, quote or line break.
std::string csv_field(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace

std::string invoice_csv_header() {
  return "kind,number,credits_number,org_number,clinic_id,status,created_date,issue_date,"
         "due_date,delivered_on,kid,amount_nok,fee_nok,total_nok,paid_on,payment_reference,"
         "paid_by_link,credit_note_needed\r\n";
}

std::string invoice_csv_row(const store::InvoiceRecord& v) {
  std::string row;
  auto add = [&row](std::string_view field) {
    if (!row.empty()) row.push_back(',');
    row += csv_field(field);
  };
  add(v.kind);
  add(std::to_string(v.number));
  add(v.credits_number ? std::to_string(*v.credits_number) : "");
  add(v.org_number);
  add(v.clinic_id);
  add(v.status);
  add(common::format_oslo_iso_date(v.created_at));
  add(v.issue_date.value_or(""));
  add(v.due_date.value_or(""));
  add(v.delivered_on);
  add(v.kid.value_or(""));
  const domain::Ore fee = v.total < 0 ? -v.fee : v.fee;
  add(kroner(v.total - fee));
  add(kroner(fee));
  add(kroner(v.total));
  add(v.paid_on.value_or(""));
  add(v.payment_reference.value_or(""));
  add(v.paid_by_link ? "true" : "false");
  add(v.credit_note_needed ? "true" : "false");
  row += "\r\n";
  return row;
}

InvoiceService::InvoiceService(store::InvoiceStore& invoices, InvoiceDocuments& documents,
                               const PayerVault& vault, const ports::Clock& clock,
                               common::Logger& log, std::function<void()> nudge)
    : invoices_(invoices),
      documents_(documents),
      vault_(vault),
      clock_(clock),
      log_(log),
      nudge_(std::move(nudge)) {}

asio::awaitable<Result<store::InvoicePage>> InvoiceService::list(
    store::InvoiceFilter filter, const Principal& principal,
    const std::optional<store::InvoiceCursor>& after, int limit) {
  filter.clinics = principal.clinic_ids;
  co_return co_await invoices_.list(filter, after, limit);
}

asio::awaitable<Result<store::InvoiceRecord>> InvoiceService::get(std::string_view id,
                                                                  const Principal& principal) {
  auto uuid = common::normalize_uuid(id);
  if (!uuid) co_return no_such_invoice();
  auto found = co_await invoices_.get(*uuid);
  if (!found) co_return std::move(found).error();
  if (!found->has_value() || !principal.may_act_for_clinic((*found)->clinic_id)) {
    co_return no_such_invoice();
  }
  auto revealed = reveal_retained(vault_, **found);
  if (!revealed) co_return std::move(revealed).error();
  co_return std::move(**found);
}

asio::awaitable<Result<InvoiceDocuments::Rendered>> InvoiceService::pdf(
    std::string_view id, const Principal& principal) {
  auto invoice = co_await get(id, principal);
  if (!invoice) co_return std::move(invoice).error();
  co_return co_await documents_.render(*invoice);
}

asio::awaitable<Result<store::InvoiceRecord>> InvoiceService::transition(
    std::string_view id, const Principal& principal, store::InvoiceTransition t) {
  auto invoice = co_await get(id, principal);
  if (!invoice) co_return std::move(invoice).error();
  if (invoice->kind != "invoice") {
    co_return make_error(ErrorCode::invalid_state, "a credit note cannot be changed");
  }
  t.actor = principal.client_name;
  auto result = co_await invoices_.transition(invoice->id, t, clock_.now());
  if (!result) co_return std::move(result).error();
  if (!result->found) co_return no_such_invoice();
  if (!result->changed) {
    co_return make_error(ErrorCode::invalid_state,
                         "cannot " + t.action + " an invoice that is " + result->status);
  }
  log_.info("invoice." + t.action, {{"invoice_id", invoice->id}, {"actor", t.actor}});
  if (t.to == "issued" && nudge_) nudge_();  // its delivery is queued
  co_return co_await get(invoice->id, principal);
}

asio::awaitable<Result<store::InvoiceRecord>> InvoiceService::approve(std::string_view id,
                                                                      const Principal& principal) {
  store::InvoiceTransition t;
  t.action = "approve";
  t.allowed_from = {"pending_review"};
  t.to = "issued";
  t.date = common::format_oslo_iso_date(clock_.now());
  co_return co_await transition(id, principal, std::move(t));
}

asio::awaitable<std::vector<BulkOutcome>> InvoiceService::approve_all(
    const std::vector<std::string>& ids, const Principal& principal) {
  std::vector<BulkOutcome> outcomes;
  outcomes.reserve(ids.size());
  for (const auto& id : ids) {
    auto approved = co_await approve(id, principal);
    BulkOutcome o;
    o.id = id;
    if (approved) {
      o.invoice = std::move(approved.value());
    } else {
      o.error = std::move(approved).error();
    }
    outcomes.push_back(std::move(o));
  }
  co_return outcomes;
}

asio::awaitable<Result<store::InvoiceRecord>> InvoiceService::void_invoice(
    std::string_view id, const Principal& principal, std::string_view reason) {
  store::InvoiceTransition t;
  t.action = "void";
  t.allowed_from = {"pending_review"};
  t.to = "void";
  t.text = std::string(reason);
  co_return co_await transition(id, principal, std::move(t));
}

asio::awaitable<Result<store::InvoiceRecord>> InvoiceService::mark_paid(
    std::string_view id, const Principal& principal, std::string_view paid_on,
    std::string_view reference) {
  store::InvoiceTransition t;
  t.action = "mark_paid";
  t.allowed_from = {"issued", "partially_paid", "sent_to_collection"};  // e.g. the agency collected
  t.to = "paid";
  t.date = std::string(paid_on);
  t.text = std::string(reference);
  co_return co_await transition(id, principal, std::move(t));
}

asio::awaitable<Result<store::InvoiceRecord>> InvoiceService::credit(std::string_view id,
                                                                     const Principal& principal,
                                                                     std::string_view reason) {
  auto invoice = co_await get(id, principal);
  if (!invoice) co_return std::move(invoice).error();
  if (invoice->kind != "invoice") {
    co_return make_error(ErrorCode::invalid_state, "a credit note cannot be credited");
  }
  const auto now = clock_.now();
  auto result = co_await invoices_.credit(invoice->id, principal.client_name, reason,
                                          common::format_oslo_iso_date(now), now);
  if (!result) co_return std::move(result).error();
  if (!result->found) co_return no_such_invoice();
  if (!result->created) {
    co_return make_error(ErrorCode::invalid_state,
                         "cannot credit an invoice that is " + result->status);
  }
  log_.info("invoice.credit", {{"invoice_id", invoice->id},
                               {"credit_note_id", result->credit_note_id},
                               {"number", static_cast<long long>(result->number)},
                               {"actor", principal.client_name}});
  if (const auto& refund = result->refund) {
    // The payer paid the invoice and the link: the link payment goes back (workers::RefundWork).
    log_.info("refund.requested", {{"session_id", refund->session_id},
                                   {"operation_id", refund->id},
                                   {"amount_ore", static_cast<long long>(refund->amount)},
                                   {"actor", principal.client_name}});
  }
  if (nudge_) nudge_();
  co_return co_await get(result->credit_note_id, principal);
}

asio::awaitable<Result<std::string>> InvoiceService::export_csv(store::InvoiceFilter filter,
                                                                const Principal& principal) {
  filter.clinics = principal.clinic_ids;
  std::string csv = invoice_csv_header();
  std::optional<store::InvoiceCursor> after;
  constexpr int kPage = 1000;
  while (true) {
    auto page = co_await invoices_.list(filter, after, kPage, /*with_totals=*/false);
    if (!page) co_return std::move(page).error();
    for (const auto& invoice : page->items)
      csv += invoice_csv_row(invoice);
    if (!page->next) break;
    after = page->next;
  }
  co_return csv;
}

}  // namespace visitpay::app
