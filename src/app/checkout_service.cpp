#include "app/checkout_service.hpp"

#include <algorithm>

#include "app/line_descriptions.hpp"
#include "common/uuid.hpp"

namespace visitpay::app {

using common::ErrorCode;
using common::make_error;
using common::Result;

CheckoutService::CheckoutService(store::SessionStore& sessions, const PayerVault& vault,
                                 const config::Config& config, const ports::Clock& clock,
                                 common::Logger& log)
    : sessions_(sessions), vault_(vault), config_(config), clock_(clock), log_(log) {}

std::vector<common::FieldError> CheckoutService::validate(
    const domain::CheckoutRequest& request) const {
  std::vector<common::FieldError> errors;
  domain::validate_checkout(
      request, config_.checkout,
      [this](std::string_view id) { return config_.find_clinic(id) != nullptr; }, clock_.now(),
      errors);
  return errors;
}

asio::awaitable<Result<CheckoutOutcome>> CheckoutService::submit(
    const domain::CheckoutRequest& request) {
  const auto now = clock_.now();
  const auto fingerprint = common::hmac_sha256(config_.lookup_key, domain::canonical_form(request));
  store::NewSession session{
      common::new_uuid_v7(std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(now.time_since_epoch()))),
      request,
      fingerprint,
      now,
      {},
      std::nullopt,
      {}};
  // The payer's data is stored only encrypted, under data keys of this session's own, and so are
  // the lines' descriptions (under the retained key).
  auto sealed = vault_.seal(session.id, request.payer);
  if (!sealed) co_return std::move(sealed).error();
  session.sealed = std::move(sealed.value());
  auto descriptions =
      seal_descriptions(vault_, session.id, session.sealed.retained_key, request.lines);
  if (!descriptions) co_return std::move(descriptions).error();
  session.sealed_descriptions = std::move(descriptions.value());
  if (request.payer.national_id) {
    session.national_id_hmac = national_id_lookup(config_.lookup_key, *request.payer.national_id);
  }
  auto inserted = co_await sessions_.insert(session);
  if (!inserted) co_return std::move(inserted).error();
  if (*inserted) {
    auto v = domain::new_session_view(session.id, request, now);
    log_.info("checkout.accepted", {{"session_id", v.id}, {"clinic_id", v.clinic_id}});
    co_return CheckoutOutcome{true, std::move(v)};
  }
  // Someone stored this visit first (maybe a retry of this very request): compare content.
  auto existing = co_await sessions_.find_by_visit(request.clinic_id, request.visit_id);
  if (!existing) co_return std::move(existing).error();
  if (!existing->has_value()) {
    co_return make_error(ErrorCode::internal_error, "the conflicting session vanished");
  }
  if ((*existing)->fingerprint_hex != common::to_hex(fingerprint)) {
    log_.info("checkout.conflict", {{"session_id", (*existing)->view.id}});
    co_return make_error(ErrorCode::idempotency_conflict,
                         "visit_id " + request.visit_id + " of clinic " + request.clinic_id +
                             " was already checked out with different content (session " +
                             (*existing)->view.id + ")");
  }
  auto view = reveal(std::move(**existing));
  if (!view) co_return std::move(view).error();
  co_return CheckoutOutcome{false, std::move(view.value())};
}

asio::awaitable<Result<std::optional<domain::SessionView>>> CheckoutService::find(
    std::string_view id) {
  auto found = co_await sessions_.find(id);
  if (!found) co_return std::move(found).error();
  if (!found->has_value()) co_return std::optional<domain::SessionView>{};
  auto view = reveal(std::move(**found));
  if (!view) co_return std::move(view).error();
  co_return std::optional<domain::SessionView>(std::move(view.value()));
}

Result<domain::SessionView> CheckoutService::reveal(store::StoredSession stored) const {
  auto& lines = stored.view.lines;
  const auto& sealed = stored.sealed_descriptions;
  const bool any_sealed = std::any_of(sealed.begin(), sealed.end(),
                                      [](const auto& d) { return d.ciphertext.has_value(); });
  if (!stored.retained_key || !any_sealed) return std::move(stored.view);
  auto retained = vault_.unlock(stored.view.id, KeyClass::retained, *stored.retained_key);
  if (!retained) return std::move(retained).error();
  for (std::size_t i = 0; i < lines.size() && i < sealed.size(); ++i) {
    if (!sealed[i].ciphertext) continue;  // purged, or plaintext from before migration 0019
    auto description = open_description(*retained, sealed[i].line_no, sealed[i].ciphertext);
    if (!description) return std::move(description).error();
    lines[i].description = std::move(description.value());
  }
  return std::move(stored.view);
}

}  // namespace visitpay::app
