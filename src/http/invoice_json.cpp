#include "http/invoice_json.hpp"

#include <algorithm>
#include <charconv>

#include "common/time_format.hpp"
#include "common/uuid.hpp"

namespace visitpay::http {

using Json = nlohmann::json;

namespace {

Json optional_text(const std::optional<std::string>& v) {
  return v ? Json(*v) : Json(nullptr);
}

// The reminder steps taken (letters and the hand-off), for finance.
Json reminders_json(const std::vector<store::ReminderRecord>& reminders) {
  Json out = Json::array();
  for (const auto& r : reminders) {
    out.push_back(
        {{"kind", r.kind},
         {"sequence", r.sequence},
         {"sent_at", common::format_rfc3339_utc(r.sent_at)},
         {"sent_on", r.sent_on},
         {"deadline", optional_text(r.deadline)},
         {"fee_ore", r.fee},
         {"open_ore", r.open},
         {"document", r.document_name},
         {"delivery_reference", optional_text(r.delivery_reference)},
         {"delivered_at",
          r.delivered_at ? Json(common::format_rfc3339_utc(*r.delivered_at)) : Json(nullptr)}});
  }
  return out;
}

}  // namespace

Json invoice_json(const store::InvoiceRecord& v, bool detail) {
  Json j = {
      {"id", v.id},
      {"kind", v.kind},
      {"number", v.number},
      {"org_number", v.org_number},
      {"status", v.status},
      {"clinic_id", v.clinic_id},
      {"session_id", v.session_id},
      {"reason", v.reason},
      {"kid", optional_text(v.kid)},
      {"currency", "NOK"},
      {"total_ore", v.total},
      {"fee_ore", v.fee},
      {"reminder_fees_ore", v.reminder_fees},
      {"paid_ore", v.paid},
      // What the payer still owes: the total and the reminder fees, less what was paid.
      {"open_ore",
       v.status == "issued" || v.status == "partially_paid" || v.status == "sent_to_collection"
           ? std::max<domain::Ore>(v.total + v.reminder_fees - v.paid, 0)
           : 0},
      {"overpaid_ore", v.overpaid},
      {"delivered_on", v.delivered_on},
      {"issue_date", optional_text(v.issue_date)},
      {"due_date", optional_text(v.due_date)},
      {"created_at", common::format_rfc3339_utc(v.created_at)},
      {"visit_at", v.visit_at ? Json(common::format_rfc3339_utc(*v.visit_at)) : Json(nullptr)},
      {"flags",
       {{"paid_by_link", v.paid_by_link},
        {"credit_note_needed", v.credit_note_needed},
        {"sms_undeliverable", v.reason == "sms_undeliverable" || v.reason == "sms_rejected"},
        {"link_failed", v.reason == "link_failed"},
        {"no_phone", v.reason == "no_phone"},
        {"fee_not_disclosed", v.fee_not_disclosed},
        {"order_not_aborted", v.order_not_aborted},
        {"paid_after_collection", v.paid_after_collection},
        {"delivery_problem", v.delivery_problem.has_value()}}},
  };
  if (v.credits_invoice_id) {
    j["credits"] = {{"invoice_id", *v.credits_invoice_id},
                    {"number", v.credits_number ? Json(*v.credits_number) : Json(nullptr)}};
  }
  if (v.credit_note_id) j["credit_note_id"] = *v.credit_note_id;
  if (v.void_reason) j["void_reason"] = *v.void_reason;
  if (v.paid_on) j["paid_on"] = *v.paid_on;
  if (v.payment_reference) j["payment_reference"] = *v.payment_reference;
  if (!detail) return j;

  j["seller"] = {{"name", v.seller_name},
                 {"org_number", v.org_number},
                 {"foretaksregisteret", v.seller_foretaksregisteret},
                 {"vat_registered", v.seller_vat_registered},
                 {"bank_account", v.seller_bank_account},
                 {"street", v.seller_street},
                 {"postal_code", v.seller_postal_code},
                 {"city", v.seller_city}};
  j["delivery_place"] = v.delivery_place;
  j["buyer"] = {{"status", v.buyer_name ? "held" : "purged"},
                {"name", optional_text(v.buyer_name)},
                {"street", optional_text(v.buyer_street)},
                {"postal_code", optional_text(v.buyer_postal_code)},
                {"city", optional_text(v.buyer_city)},
                {"country", optional_text(v.buyer_country)},
                {"email", optional_text(v.buyer_email)}};
  Json lines = Json::array();
  for (const auto& line : v.lines) {
    lines.push_back({{"line_no", line.line_no},
                     {"description", domain::shown_description(line.description)},
                     {"amount_ore", line.amount},
                     {"vat_ore", line.vat},
                     {"is_fee", line.is_fee}});
  }
  j["lines"] = std::move(lines);
  j["due_days"] = v.due_days;
  j["delivery"] = {
      {"reference", optional_text(v.delivery_reference)},
      {"delivered_at",
       v.delivered_at ? Json(common::format_rfc3339_utc(*v.delivered_at)) : Json(nullptr)},
      {"problem", optional_text(v.delivery_problem)},
      {"problem_at", v.delivery_problem_at
                         ? Json(common::format_rfc3339_utc(*v.delivery_problem_at))
                         : Json(nullptr)}};
  Json history = Json::array();
  for (const auto& e : v.history) {
    history.push_back({{"at", common::format_rfc3339_utc(e.at)},
                       {"actor", e.actor},
                       {"action", e.action},
                       {"from_status", optional_text(e.from_status)},
                       {"to_status", optional_text(e.to_status)},
                       {"detail", optional_text(e.detail)}});
  }
  j["history"] = std::move(history);
  j["reminders"] = reminders_json(v.reminders);
  return j;
}

std::string encode_cursor(const store::InvoiceCursor& cursor) {
  return std::to_string(cursor.created_at.time_since_epoch().count()) + "." + cursor.id;
}

std::optional<store::InvoiceCursor> decode_cursor(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::int64_t micros = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + dot, micros);
  if (ec != std::errc() || end != text.data() + dot) return std::nullopt;
  auto id = common::normalize_uuid(text.substr(dot + 1));
  if (!id) return std::nullopt;
  return store::InvoiceCursor{domain::Timestamp(std::chrono::microseconds(micros)), *id};
}

}  // namespace visitpay::http
