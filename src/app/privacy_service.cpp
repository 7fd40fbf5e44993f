#include "app/privacy_service.hpp"

#include <algorithm>

#include "app/line_descriptions.hpp"
#include "common/time_format.hpp"
#include "domain/national_id.hpp"

namespace visitpay::app {

using common::ErrorCode;
using common::make_error;

namespace {

bool open_claim(std::string_view state) {
  return state == "pending" || state == "awaiting_payment" || state == "invoicing";
}

// The last day the bookkeeping rule keeps an invoice's name and address: the end of the fiscal
// (calendar) year of its issue, plus the bookkeeping years (bokføringsloven § 13).
std::string bookkeeping_until(const store::SubjectSession& s, int years) {
  int year = 0;
  for (const auto& invoice : s.invoices) {
    const int y = invoice.issue_date ? std::stoi(invoice.issue_date->substr(0, 4))
                                     : common::to_oslo(invoice.created_at).year;
    year = std::max(year, y);
  }
  return std::to_string(year + years) + "-12-31";
}

// What the retained key protects: the invoice's buyer, and what the visit was (health
// information on the invoice's lines).
// The e-mail address is kept only while the claim is open (it is not bookkeeping: an erasure
// takes it from an invoiced visit, whose letters then go by post).
std::vector<std::string> retained_fields(bool with_email) {
  std::vector<std::string> fields = {"name", "address", "line_descriptions"};
  if (with_email) fields.emplace_back("email");
  return fields;
}

std::vector<std::string> transient_fields(const store::SubjectSession& s) {
  std::vector<std::string> out;
  if (s.national_id_enc) out.emplace_back("national_id");
  if (s.phone_enc) out.emplace_back("phone");
  if (s.payment_url_enc) out.emplace_back("payment_url");
  return out;
}

// The visit's lines with their descriptions opened (health information under the retained key).
common::Result<std::vector<VisitLineReport>> open_lines(const PayerVault& vault,
                                                        const store::SubjectSession& s) {
  std::vector<VisitLineReport> out;
  const bool sealed = std::any_of(s.lines.begin(), s.lines.end(),
                                  [](const auto& l) { return l.description_enc.has_value(); });
  if (!sealed || !s.retained_key) {
    for (const auto& line : s.lines)
      out.push_back({line.line_no, line.amount, line.description});
    return out;
  }
  auto retained = vault.unlock(s.id, KeyClass::retained, *s.retained_key);
  if (!retained) return std::move(retained).error();
  for (const auto& line : s.lines) {
    auto opened = open_description(*retained, line.line_no, line.description_enc);
    if (!opened) return std::move(opened).error();
    // Sealed, or plaintext from before migration 0019 not sealed yet (never both).
    out.push_back({line.line_no, line.amount, opened->has_value() ? *opened : line.description});
  }
  return out;
}

}  // namespace

PrivacyService::PrivacyService(store::PrivacyStore& store, const PayerVault& vault,
                               const common::Bytes& lookup_key,
                               const domain::RetentionPolicy& policy, bool allow_synthetic_ids,
                               const ports::Clock& clock, common::Logger& log)
    : store_(store),
      vault_(vault),
      lookup_key_(lookup_key),
      policy_(policy),
      allow_synthetic_ids_(allow_synthetic_ids),
      clock_(clock),
      log_(log) {}

common::Result<void> PrivacyService::validate(std::string_view national_id) const {
  const auto verdict =
      domain::check_national_id(national_id, allow_synthetic_ids_, domain::oslo_date(clock_.now()));
  // Check-outs stored before the birth-date rules were strict (29 February in any year, births in
  // the future) still hold such numbers: their subjects keep their rights. A typo (format, check
  // digits) is still refused, since it can match nothing.
  const bool date_only = verdict.problem == domain::NationalIdProblem::date ||
                         verdict.problem == domain::NationalIdProblem::future_date;
  if (verdict.valid || date_only) return common::Ok{};
  common::Error e = make_error(ErrorCode::validation_failed, "1 field(s) are invalid");
  e.fields.push_back({"/national_id", std::string(verdict.reason)});
  return e;
}

asio::awaitable<common::Result<std::vector<store::SubjectSession>>> PrivacyService::find(
    std::string_view national_id, const Principal& principal) {
  auto sessions = co_await store_.subject(national_id_lookup(lookup_key_, national_id));
  if (!sessions) co_return std::move(sessions).error();
  std::erase_if(*sessions, [&principal](const store::SubjectSession& s) {
    return !principal.may_act_for_clinic(s.clinic_id);
  });
  co_return std::move(*sessions);
}

asio::awaitable<common::Result<std::vector<SubjectSessionReport>>> PrivacyService::access(
    std::string_view national_id, const Principal& principal) {
  if (auto valid = validate(national_id); !valid) co_return std::move(valid).error();
  auto sessions = co_await find(national_id, principal);
  if (!sessions) co_return std::move(sessions).error();

  std::vector<SubjectSessionReport> out;
  store::PrivacyRequestRecord audit{"access", principal.client_name, clock_.now(), {}};
  for (auto& s : *sessions) {
    SubjectSessionReport report;
    domain::SealedPayer sealed;
    if (s.transient_key) sealed.transient_key = *s.transient_key;
    if (s.retained_key) sealed.retained_key = *s.retained_key;
    sealed.national_id = s.national_id_enc;
    sealed.phone = s.phone_enc;
    sealed.payment_url = s.payment_url_enc;
    sealed.name = s.name_enc.value_or(common::Bytes{});
    sealed.address = s.address_enc.value_or(common::Bytes{});
    sealed.email = s.email_enc;
    const bool transient_held = s.transient_key && (s.national_id_enc || s.phone_enc);
    const bool retained_held = s.retained_key && s.name_enc;
    auto opened = vault_.open(s.id, sealed, transient_held, retained_held);
    if (!opened) co_return std::move(opened).error();
    report.payer = std::move(*opened);
    auto lines = open_lines(vault_, s);
    if (!lines) co_return std::move(lines).error();
    report.lines = std::move(*lines);
    report.transient = {transient_held, s.transient_purged_at};
    report.retained = {retained_held, s.retained_purged_at};
    audit.session_ids.push_back(s.id);
    report.session = std::move(s);
    out.push_back(std::move(report));
  }
  // Audited before anything is handed out: no record, no answer.
  auto recorded = co_await store_.record_request(audit);
  if (!recorded) co_return std::move(recorded).error();
  log_.info("privacy.access",
            {{"client", principal.client_name}, {"sessions", static_cast<long long>(out.size())}});
  co_return out;
}

asio::awaitable<common::Result<std::vector<ErasureReport>>> PrivacyService::erase(
    std::string_view national_id, const Principal& principal) {
  if (auto valid = validate(national_id); !valid) co_return std::move(valid).error();
  auto sessions = co_await find(national_id, principal);
  if (!sessions) co_return std::move(sessions).error();

  store::PrivacyRequestRecord audit{"erasure", principal.client_name, clock_.now(), {}};
  for (const auto& s : *sessions)
    audit.session_ids.push_back(s.id);
  auto erased = co_await store_.erase(national_id_lookup(lookup_key_, national_id),
                                      principal.clinic_ids, audit);
  if (!erased) co_return std::move(erased).error();

  std::vector<ErasureReport> out;
  for (const auto& s : *sessions) {
    ErasureReport report{s.id, s.state, {}, {}};
    for (const auto& e : *erased) {
      if (e.session_id == s.id) report.destroyed = e.classes;
    }
    auto destroyed = [&report](std::string_view c) {
      return std::find(report.destroyed.begin(), report.destroyed.end(), c) !=
             report.destroyed.end();
    };
    const bool transient_held = s.transient_key && !destroyed("transient");
    const bool retained_held = s.retained_key && !destroyed("retained");
    if (open_claim(s.state)) {
      const std::string basis =
          "GDPR Art. 17(3)(e): the visit is not paid yet (an open claim); deleted by the "
          "retention policy once it is settled";
      if (transient_held) {
        report.kept.push_back(
            {"transient", transient_fields(s), "open_claim", basis, std::nullopt});
      }
      if (retained_held) {
        report.kept.push_back({"retained", retained_fields(s.email_enc.has_value()), "open_claim",
                               basis, std::nullopt});
      }
    } else if (retained_held && !s.invoices.empty()) {
      report.kept.push_back({"retained", retained_fields(false), "bookkeeping",
                             "bokføringsloven § 13 and GDPR Art. 17(3)(b): the name and address "
                             "on an invoice, and what it was for, are bookkeeping documentation",
                             bookkeeping_until(s, policy_.bookkeeping_years)});
    }
    out.push_back(std::move(report));
  }
  log_.info("privacy.erasure", {{"client", principal.client_name},
                                {"sessions", static_cast<long long>(out.size())},
                                {"erased", static_cast<long long>(erased->size())}});
  co_return out;
}

asio::awaitable<common::Result<std::vector<store::OverdueCount>>> PrivacyService::check() {
  co_return co_await store_.overdue(policy_, clock_.now());
}

}  // namespace visitpay::app
