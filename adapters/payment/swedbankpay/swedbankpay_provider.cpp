#include "adapters/payment/swedbankpay/swedbankpay_provider.hpp"

#include <algorithm>
#include <cctype>

#include "adapters/http/provider_errors.hpp"
#include "common/crypto.hpp"

namespace visitpay::adapters::payment::swedbankpay {

namespace asio = boost::asio;
using common::Error;
using common::ErrorCode;
using common::make_error;
using common::Result;
using ports::PaymentOrder;

namespace {

constexpr const char* kAcceptWrite = "application/problem+json; q=1.0, application/json; q=0.9";
constexpr const char* kAcceptRead =
    "application/problem+json; q=1.0, application/json;version=3.1; q=0.9";
constexpr const char* kContentType = "application/json;version=3.1";

// RFC 9562 version 4: Session-Id is a per-request trace id (RFC 7329), not an idempotency key.
std::string new_session_id() {
  auto bytes = common::random_bytes(16);
  bytes[6] = static_cast<std::uint8_t>((bytes[6] & 0x0F) | 0x40);
  bytes[8] = static_cast<std::uint8_t>((bytes[8] & 0x3F) | 0x80);
  const std::string hex = common::to_hex(bytes);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// scheme://authority, lower-cased, or "" when `url` is not absolute.
std::string origin_of(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  const auto end = url.find_first_of("/?#", scheme + 3);
  std::string out(url.substr(0, end));
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool valid_order_id(std::string_view id) {
  if (id.size() < 2 || id.front() != '/' || id[1] == '/') return false;
  return std::none_of(id.begin(), id.end(), [](char c) {
    return std::iscntrl(static_cast<unsigned char>(c)) || c == ' ' || c == '?' || c == '#';
  });
}

// "HTTP 400 inputerror; problems: paymentorder.amount, paymentorder.currency" — the status,
// the problem type and the problem names; never titles, details or descriptions (they may
// echo values).
std::string describe(const std::string& what, const std::optional<Problem>& problem) {
  std::string text = "Swedbank Pay " + what;
  if (!problem) return text;
  if (const std::string kind = http::safe_token(problem->kind()); !kind.empty()) {
    text += ": " + kind;
  }
  std::string names;
  int shown = 0;
  for (const auto& name : problem->names) {
    const std::string safe = http::safe_token(name);
    if (safe.empty()) continue;
    if (++shown > 10) {
      names += ", ...";
      break;
    }
    names += (names.empty() ? "" : ", ") + safe;
  }
  if (!names.empty()) text += "; problems: " + names;
  return text;
}

Error classify(const http::HttpResponse& response, const std::string& what) {
  const auto problem = parse_problem(response.body);
  Error error = http::classify_http_failure(response, describe(what, problem));
  const bool client_error =
      response.status >= 400 && response.status <= 499 && response.status != 429;
  if (client_error && problem && problem->about_order_state()) {
    error.code = ErrorCode::provider_conflict;
  }
  return error;
}

// No usable answer to a create: the order may exist (then it is an orphan nobody was sent).
Error outcome_unknown(const Error& cause) {
  Error error = cause;
  error.code = ErrorCode::provider_outcome_unknown;
  return error;
}

bool shows(const ports::PaymentOrder& order, const std::string& reference) {
  return std::any_of(
      order.transactions.begin(), order.transactions.end(),
      [&](const ports::ProviderTransaction& t) { return t.payee_reference == reference; });
}

std::string status_label(const ParsedOrder& order) {
  const std::string label = http::safe_token(order.status_text, 32);
  return label.empty() ? "unknown" : label;
}

}  // namespace

SwedbankPayProvider::SwedbankPayProvider(http::HttpClient& client, SwedbankPayConfig config)
    : client_(client), config_(std::move(config)) {
  while (!config_.base_url.empty() && config_.base_url.back() == '/')
    config_.base_url.pop_back();
}

http::HttpRequest SwedbankPayProvider::make_request(std::string method, std::string url,
                                                    std::string body) const {
  http::HttpRequest request;
  const bool read = method == "GET";
  request.method = std::move(method);
  request.url = std::move(url);
  request.timeout = config_.timeout;
  request.headers.emplace_back("Authorization", "Bearer " + config_.token);
  request.headers.emplace_back("Accept", read ? kAcceptRead : kAcceptWrite);
  if (!read) request.headers.emplace_back("Content-Type", kContentType);
  request.headers.emplace_back("Session-Id", new_session_id());
  request.headers.emplace_back("User-Agent", config_.user_agent);
  request.body = std::move(body);
  return request;
}

Result<std::string> SwedbankPayProvider::operation_url(const Operation& operation) const {
  const std::string& href = operation.href;
  if (href.size() > 1 && href.front() == '/' && href[1] != '/') return config_.base_url + href;
  // The bearer token goes wherever the href points: only ever to the API host.
  if (!origin_of(href).empty() && origin_of(href) == origin_of(config_.base_url)) return href;
  return make_error(ErrorCode::provider_rejected, "Swedbank Pay offered a '" +
                                                      http::safe_token(operation.rel) +
                                                      "' operation outside the API host");
}

asio::awaitable<Result<ParsedOrder>> SwedbankPayProvider::fetch(std::string order_id) {
  if (!valid_order_id(order_id)) {
    co_return make_error(ErrorCode::validation_failed,
                         "not a Swedbank Pay payment order id (expected a resource path)");
  }
  const char* separator = order_id.find('?') == std::string::npos ? "?" : "&";
  auto request = make_request(
      "GET",
      config_.base_url + order_id + separator + "$expand=paid,payeeinfo,financialtransactions", "");
  auto response = co_await client_.send_with_retries(std::move(request), config_.read_retry);
  if (!response) co_return std::move(response).error();
  if (!http::is_success(response->status)) {
    co_return classify(response.value(), "refused to show the payment order");
  }
  co_return parse_payment_order(response->body);
}

asio::awaitable<Result<PaymentOrder>> SwedbankPayProvider::create_order(
    const ports::PaymentOrderRequest& order_request) {
  CreateOrderParties parties;
  parties.payee_id = config_.payee_id;
  parties.payee_name = config_.payee_name;
  parties.user_agent = config_.user_agent;
  auto request = make_request("POST", config_.base_url + "/psp/paymentorders",
                              create_order_body(order_request, parties));
  // Never over a reused connection: libcurl would silently send it again after a connection
  // that died unanswered, and that second create of the same payeeReference would be refused
  // while the first made the order.
  request.idempotent = false;
  // One attempt: the caller's next attempt carries a new payeeReference. Swedbank Pay documents
  // neither what a used one answers nor a way to find an order by it (providers.md §9), and the
  // problem's `instance` is a trace id for its support, not the order.
  auto response = co_await client_.send(std::move(request));
  if (!response) co_return outcome_unknown(response.error());
  if (http::is_success(response->status)) {
    auto parsed = parse_payment_order(response->body);
    if (!parsed) co_return outcome_unknown(parsed.error());
    co_return std::move(parsed.value().order);
  }
  Error error = classify(response.value(), "refused to create the payment order");
  // A 5xx (or a gateway's) answer says nothing about whether the order was made.
  if (response->status >= 500) co_return outcome_unknown(error);
  co_return error;
}

asio::awaitable<Result<PaymentOrder>> SwedbankPayProvider::get_order(const std::string& order_id) {
  auto parsed = co_await fetch(order_id);
  if (!parsed) co_return std::move(parsed).error();
  co_return std::move(parsed.value().order);
}

asio::awaitable<Result<PaymentOrder>> SwedbankPayProvider::abort_order(
    const std::string& order_id) {
  auto current = co_await fetch(order_id);
  if (!current) co_return std::move(current).error();
  const Operation* abort = current->find("abort");
  if (abort == nullptr) {
    co_return make_error(ErrorCode::provider_conflict,
                         "Swedbank Pay offers no abort operation for the payment order (status " +
                             status_label(current.value()) + ")");
  }
  auto url = operation_url(*abort);
  if (!url) co_return std::move(url).error();
  std::string method = abort->method.empty() ? "PATCH" : abort->method;
  auto request = make_request(std::move(method), std::move(url.value()), abort_body());
  auto response = co_await client_.send(std::move(request));
  if (!response) co_return std::move(response).error();
  if (!http::is_success(response->status)) {
    co_return classify(response.value(), "refused to abort the payment order");
  }
  // PATCH answers with the full order; if that cannot be read, ask again.
  auto parsed = parse_payment_order(response->body);
  if (parsed) co_return std::move(parsed.value().order);
  auto after = co_await fetch(order_id);
  if (!after) co_return std::move(after).error();
  co_return std::move(after.value().order);
}

asio::awaitable<Result<PaymentOrder>> SwedbankPayProvider::capture(
    const std::string& order_id, const ports::CaptureRequest& capture_request) {
  const std::string body = capture_body(capture_request);
  auto current = co_await fetch(order_id);
  if (!current) co_return std::move(current).error();
  const Operation* capture_op = current->find("capture");
  if (capture_op == nullptr) {
    co_return make_error(ErrorCode::provider_conflict,
                         "Swedbank Pay offers no capture operation for the payment order (status " +
                             status_label(current.value()) + ", remaining capture amount " +
                             std::to_string(current->order.remaining_capture_amount) + ")");
  }
  auto url = operation_url(*capture_op);
  if (!url) co_return std::move(url).error();
  std::string method = capture_op->method.empty() ? "POST" : capture_op->method;
  auto request = make_request(std::move(method), std::move(url.value()), body);
  auto response = co_await client_.send(std::move(request));
  if (!response) co_return std::move(response).error();
  if (!http::is_success(response->status)) {
    co_return classify(response.value(), "refused to capture the payment order");
  }
  auto after = co_await fetch(order_id);
  if (!after) co_return std::move(after).error();
  co_return std::move(after.value().order);
}

asio::awaitable<Result<PaymentOrder>> SwedbankPayProvider::cancel(
    const std::string& order_id, const ports::CancelRequest& cancel_request) {
  co_return co_await post_purchase(order_id, "cancel", cancel_body(cancel_request),
                                   cancel_request.payee_reference);
}

asio::awaitable<Result<PaymentOrder>> SwedbankPayProvider::reverse(
    const std::string& order_id, const ports::ReversalRequest& reversal_request) {
  co_return co_await post_purchase(order_id, "reversal", reversal_body(reversal_request),
                                   reversal_request.payee_reference);
}

asio::awaitable<Result<PaymentOrder>> SwedbankPayProvider::post_purchase(std::string order_id,
                                                                         std::string rel,
                                                                         std::string body,
                                                                         std::string reference) {
  auto current = co_await fetch(order_id);
  if (!current) co_return std::move(current).error();
  if (shows(current->order, reference)) co_return std::move(current.value().order);
  const Operation* operation = current->find(rel);
  if (operation == nullptr) {
    co_return make_error(ErrorCode::provider_conflict,
                         "Swedbank Pay offers no " + rel +
                             " operation for the payment order (status " +
                             status_label(current.value()) + ")");
  }
  auto url = operation_url(*operation);
  if (!url) co_return std::move(url).error();
  std::string method = operation->method.empty() ? "POST" : operation->method;
  auto request = make_request(std::move(method), std::move(url.value()), std::move(body));
  request.idempotent = false;  // a silent resend would carry the same payeeReference
  auto response = co_await client_.send(std::move(request));
  if (!response) co_return outcome_unknown(response.error());
  if (!http::is_success(response->status)) {
    Error error = classify(response.value(), "refused the " + rel);
    // What a used payeeReference answers is undocumented (providers.md §9): look at the order.
    auto after = co_await fetch(order_id);
    if (after && shows(after->order, reference)) co_return std::move(after.value().order);
    if (response->status >= 500) co_return outcome_unknown(error);
    co_return error;
  }
  auto after = co_await fetch(order_id);
  if (!after) co_return std::move(after).error();
  co_return std::move(after.value().order);
}

}  // namespace visitpay::adapters::payment::swedbankpay
