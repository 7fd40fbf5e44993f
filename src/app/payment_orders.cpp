#include "app/payment_orders.hpp"

#include "domain/provider_reference.hpp"

namespace visitpay::app {

using common::ErrorCode;

namespace {

constexpr std::string_view kTokenLabel = "visitpay payer page v1\n";

// At most `max` bytes of UTF-8 without cutting a character.
std::string utf8_prefix(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
    --end;
  return std::string(text.substr(0, end));
}

}  // namespace

std::string payer_page_token(const common::Bytes& lookup_key, std::string_view session_id) {
  std::string message(kTokenLabel);
  message += session_id;
  const auto mac = common::hmac_sha256(lookup_key, message);
  return common::base64url(mac.data(), mac.size());
}

common::Sha256Digest payer_page_token_digest(std::string_view token) {
  return common::sha256(token);
}

PaymentOrders::PaymentOrders(store::PaymentStore& payments, const config::Config& config,
                             const ports::Clock& clock, common::Logger& log,
                             common::Metrics& metrics)
    : payments_(payments), config_(config), clock_(clock), log_(log), metrics_(metrics) {
  metrics_.describe("visitpay_payment_order_creates_total", common::Metrics::Type::counter,
                    "Payment order create attempts by outcome (created, refused, unknown: no "
                    "usable answer, an order nobody was sent may exist)");
}

std::string PaymentOrders::complete_url(std::string_view session_id) const {
  return config_.public_base_url +
         "/payment/complete?t=" + payer_page_token(config_.lookup_key, session_id);
}

std::string PaymentOrders::cancel_url(std::string_view session_id) const {
  return config_.public_base_url +
         "/payment/cancelled?t=" + payer_page_token(config_.lookup_key, session_id);
}

asio::awaitable<common::Result<AttemptedOrder>> PaymentOrders::create(
    const OrderSubject& subject, const config::Clinic& clinic, ports::PaymentProvider& provider) {
  const std::string& session_id = subject.session_id;
  const auto token = payer_page_token(config_.lookup_key, session_id);
  const auto digest = payer_page_token_digest(token);
  const std::function<std::string(int)> reference = [&session_id](int attempt) {
    return domain::order_payee_reference(session_id, attempt);
  };
  auto attempt = co_await payments_.begin_order_attempt(session_id, clinic.payment_account,
                                                        reference, digest, clock_.now());
  if (!attempt) co_return std::move(attempt).error();
  if (!attempt->has_value()) {
    co_return common::make_error(ErrorCode::not_found, "the session does not exist");
  }
  const int number = (*attempt)->attempt;

  ports::PaymentOrderRequest request;
  request.payee_reference = (*attempt)->payee_reference;
  request.order_reference = session_id;
  request.amount = subject.amount;
  request.vat_amount = subject.vat_amount;
  // The clinic's name, not the visit's lines: those can tell what the patient was treated for.
  request.description = utf8_prefix(clinic.display_name, 40);
  request.callback_url = provider.callback_url();
  request.complete_url = complete_url(session_id);
  request.cancel_url = cancel_url(session_id);
  request.terms_of_service_url = clinic.terms_of_service_url;
  request.host_urls = {config_.public_base_url};

  auto order = co_await provider.create_order(request);
  if (!order) {
    const bool unknown = order.error().code == ErrorCode::provider_outcome_unknown;
    metrics_.add("visitpay_payment_order_creates_total",
                 common::Metrics::label("outcome", unknown ? "unknown" : "refused"));
    if (unknown) {
      log_.warn("payment.create_outcome_unknown",
                {{"session_id", session_id}, {"attempt", number}, {"error", order.error().detail}});
    }
    auto recorded = co_await payments_.order_attempt_failed(session_id, number, unknown,
                                                            order.error().detail, clock_.now());
    if (!recorded) co_return std::move(recorded).error();
    co_return std::move(order).error();
  }
  metrics_.add("visitpay_payment_order_creates_total",
               common::Metrics::label("outcome", "created"));
  co_return AttemptedOrder{number, std::move(order.value())};
}

}  // namespace visitpay::app
