#include "app/reminder_letters.hpp"

#include "store/reminder_store.hpp"

namespace visitpay::app {

namespace {

using domain::Ore;

std::string kroner(Ore ore) {
  const Ore abs = ore < 0 ? -ore : ore;
  std::string cents = std::to_string(abs % 100);
  if (cents.size() < 2) cents.insert(0, "0");
  return std::string(ore < 0 ? "-" : "") + "kr " + std::to_string(abs / 100) + "," + cents;
}

// "2026-12-20" -> "20.12.2026".
std::string norwegian(std::string_view iso) {
  if (iso.size() != 10) return std::string(iso);
  return std::string(iso.substr(8, 2)) + "." + std::string(iso.substr(5, 2)) + "." +
         std::string(iso.substr(0, 4));
}

std::chrono::year_month_day ymd(const std::optional<std::string>& iso) {
  const auto day = iso ? store::parse_iso_date(*iso) : std::nullopt;
  return day ? std::chrono::year_month_day{*day} : std::chrono::year_month_day{};
}

std::string fee_name(const store::ReminderRecord& r) {
  return r.kind == "inkassovarsel" ? "Gebyr for inkassovarsel"
                                   : "Purregebyr (purring " + std::to_string(r.sequence) + ")";
}

std::vector<std::string> purring_notice(const store::InvoiceRecord& inv,
                                        const store::ReminderRecord& r) {
  std::vector<std::string> out;
  out.push_back("Vi har ikke mottatt betaling for faktura nr. " + std::to_string(inv.number) +
                " for helsetjenester levert " + norwegian(inv.delivered_on) + " ved " +
                inv.delivery_place + ", med forfall " + norwegian(inv.due_date.value_or("")) +
                ". Vennligst betal " + kroner(r.open) + " innen " +
                norwegian(r.deadline.value_or("")) + " til konto og KID nedenfor.");
  if (r.fee > 0) {
    out.push_back("Purregebyret på " + kroner(r.fee) +
                  " er beregnet etter inkassoforskriften § 1-2 (1/20 av inkassosatsen).");
  } else {
    out.push_back("Det er ikke beregnet gebyr for denne purringen.");
  }
  out.push_back("Har du allerede betalt, kan du se bort fra denne purringen.");
  return out;
}

std::vector<std::string> inkassovarsel_notice(const store::InvoiceRecord& inv,
                                              const store::ReminderRecord& r,
                                              std::string_view agency) {
  std::vector<std::string> out;
  out.push_back("Inkassovarsel etter inkassoloven § 9. Kravet gjelder faktura nr. " +
                std::to_string(inv.number) + " for helsetjenester levert " +
                norwegian(inv.delivered_on) + " ved " + inv.delivery_place + ", med forfall " +
                norwegian(inv.due_date.value_or("")) + ".");
  std::string warning = "Betales ikke " + kroner(r.open) + " innen " +
                        norwegian(r.deadline.value_or("")) +
                        " (minst 14 dager fra dette varselet ble sendt), vil kravet bli sendt til "
                        "inkasso";
  if (!agency.empty()) warning += " hos " + std::string(agency);
  warning += ". Det vil da påløpe ytterligere kostnader som du kan bli pliktig å betale.";
  out.push_back(std::move(warning));
  out.push_back("Betalingen er rettidig når banken har mottatt betalingsoppdraget innen fristen.");
  if (r.fee > 0) {
    out.push_back("Gebyret for inkassovarselet på " + kroner(r.fee) +
                  " er beregnet etter inkassoforskriften § 1-2.");
  }
  out.push_back("Mener du at kravet ikke er riktig, må du kontakte oss før fristen.");
  return out;
}

}  // namespace

domain::InvoiceDocument reminder_letter(const store::InvoiceRecord& invoice,
                                        const store::ReminderRecord& reminder,
                                        std::string_view agency) {
  auto d = store::to_document(invoice, reminder.sent_on);
  const bool varsel = reminder.kind == "inkassovarsel";
  domain::Letter letter;
  letter.kind = varsel ? domain::LetterKind::inkassovarsel : domain::LetterKind::purring;
  letter.sequence = reminder.sequence;
  letter.invoice_issue_date = ymd(invoice.issue_date);
  letter.invoice_due_date = ymd(invoice.due_date);
  letter.notice =
      varsel ? inkassovarsel_notice(invoice, reminder, agency) : purring_notice(invoice, reminder);
  d.letter = std::move(letter);
  d.issue_date = ymd(reminder.sent_on);
  d.due_date = ymd(reminder.deadline);
  // What is owed: the invoice, every fee charged up to this letter, less what was paid by then
  // (the step stored it as open_ore).
  d.lines.clear();
  d.lines.push_back({"Faktura nr. " + std::to_string(invoice.number), invoice.total});
  Ore owed = invoice.total;
  for (const auto& earlier : invoice.reminders) {
    if (earlier.id > reminder.id || earlier.fee <= 0) continue;
    d.lines.push_back({fee_name(earlier), earlier.fee});
    owed += earlier.fee;
  }
  if (owed != reminder.open) d.lines.push_back({"Innbetalt", reminder.open - owed});
  d.total = reminder.open;
  return d;
}

ports::CollectionCase collection_case(const store::InvoiceRecord& invoice,
                                      const store::ReminderRecord& handoff,
                                      std::string_view agency) {
  ports::CollectionCase c;
  c.name = handoff.document_name;
  c.clinic_id = invoice.clinic_id;
  c.agency = agency;
  c.creditor_name = invoice.seller_name;
  c.creditor_org_number = invoice.org_number;
  c.creditor_bank_account = invoice.seller_bank_account;
  c.invoice_number = invoice.number;
  c.kid = invoice.kid.value_or("");
  c.issue_date = invoice.issue_date.value_or("");
  c.due_date = invoice.due_date.value_or("");
  c.service_date = invoice.delivered_on;
  c.service_place = invoice.delivery_place;
  c.principal = invoice.total;
  c.reminder_fees = invoice.reminder_fees;
  c.paid = invoice.paid;
  c.open = handoff.open;
  c.handed_over_on = handoff.sent_on;
  for (const auto& r : invoice.reminders) {
    if (r.kind == "collection") continue;
    c.inkassovarsel_sent = c.inkassovarsel_sent || r.kind == "inkassovarsel";
    c.letters.push_back({r.kind, r.sequence, r.sent_on, r.deadline.value_or(""), r.fee});
  }
  c.debtor_name = invoice.buyer_name.value_or("");
  c.debtor_street = invoice.buyer_street.value_or("");
  c.debtor_postal_code = invoice.buyer_postal_code.value_or("");
  c.debtor_city = invoice.buyer_city.value_or("");
  c.debtor_country = invoice.buyer_country.value_or("");
  return c;
}

}  // namespace visitpay::app
