#include "http/refund_routes.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/time_format.hpp"
#include "http/authorize.hpp"
#include "http/json_body.hpp"
#include "http/problem.hpp"

namespace visitpay::http {

using Json = nlohmann::json;

namespace {

constexpr std::size_t kMaxReason = 500;
constexpr std::size_t kMaxKey = 255;
constexpr std::int64_t kMaxAmount = 1'000'000'000'000;  // øre; far above any visit

Json optional_text(const std::optional<std::string>& text) {
  return text ? Json(*text) : Json(nullptr);
}

Json operation_json(const store::PaymentOperationRecord& o) {
  return {{"id", o.id},
          {"session_id", o.session_id},
          {"kind", domain::to_string(o.kind)},
          {"purpose", o.purpose},
          {"amount_ore", o.amount},
          {"vat_amount_ore", o.vat_amount},
          {"currency", "NOK"},
          {"status", domain::to_string(o.status)},
          {"reason", optional_text(o.reason)},
          {"payee_reference", o.payee_reference},
          {"requested_by", o.requested_by},
          {"requested_at", common::format_rfc3339_utc(o.requested_at)},
          {"completed_at",
           o.completed_at ? Json(common::format_rfc3339_utc(*o.completed_at)) : Json(nullptr)},
          {"error", optional_text(o.error)}};
}

// An Idempotency-Key or client reference: 1 to 255 printable ASCII characters.
bool valid_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxKey) return false;
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// The refund the body asks for; every bad field is named in `errors`.
store::RefundInput parse_refund(const Json& body, std::string_view header_key,
                                std::vector<common::FieldError>& errors) {
  store::RefundInput input;
  for (const auto& item : body.items()) {
    const std::string& key = item.key();
    if (key != "amount_ore" && key != "reason" && key != "client_reference") {
      errors.push_back({"/" + key, "is not a field of a refund"});
    }
  }
  if (auto it = body.find("amount_ore"); it != body.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() <= 0 ||
        it->get<std::int64_t>() > kMaxAmount) {
      errors.push_back({"/amount_ore", "must be a positive whole number of øre"});
    } else {
      input.amount = it->get<std::int64_t>();
    }
  }
  input.reason = text_member(body, "reason", false, kMaxReason, errors);
  const std::string reference = text_member(body, "client_reference", false, kMaxKey, errors);
  if (!reference.empty() && !valid_key(reference)) {
    errors.push_back({"/client_reference", "must be 1 to 255 printable ASCII characters"});
  }
  if (!header_key.empty() && !valid_key(header_key)) {
    errors.push_back({"/Idempotency-Key", "must be 1 to 255 printable ASCII characters"});
  } else if (!header_key.empty() && !reference.empty() && reference != header_key) {
    errors.push_back({"/client_reference", "differs from the Idempotency-Key header"});
  }
  if (!header_key.empty()) {
    input.idempotency_key = std::string(header_key);
  } else if (!reference.empty()) {
    input.idempotency_key = reference;
  }
  return input;
}

class RefundHandlers {
 public:
  explicit RefundHandlers(RefundRouteDeps deps) : d_(deps) {}

  asio::awaitable<Response> request(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::invoices_review);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto body = object_body(req);
    if (auto* e = std::get_if<common::Error>(&body)) co_return problem(*e, ctx, req);
    std::vector<common::FieldError> errors;
    const std::string header_key(req["Idempotency-Key"]);
    auto input = parse_refund(std::get<Json>(body), header_key, errors);
    if (!errors.empty()) co_return problem(invalid(std::move(errors)), ctx, req);
    auto requested =
        co_await d_.refunds.request(id(ctx), std::get<app::Principal>(auth), std::move(input));
    if (!requested) co_return problem(requested.error(), ctx, req);
    // Accepted: the outbox asks the provider; the same key answers the same refund again.
    auto res = json_response(bhttp::status::accepted, operation_json(requested->operation).dump(),
                             req.version());
    res.set(bhttp::field::location, "/v1/sessions/" + requested->operation.session_id + "/refunds");
    if (requested->replayed) res.set("Idempotent-Replayed", "true");
    co_return res;
  }

  asio::awaitable<Response> list(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::invoices_review);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto summary = co_await d_.refunds.list(id(ctx), std::get<app::Principal>(auth));
    if (!summary) co_return problem(summary.error(), ctx, req);
    Json items = Json::array();
    for (const auto& o : summary->operations)
      items.push_back(operation_json(o));
    Json out = {{"session_id", id(ctx)},
                {"currency", "NOK"},
                {"paid_ore", summary->paid},
                {"refunded_ore", summary->refunded},
                {"refundable_ore", std::max<domain::Ore>(summary->paid - summary->refunded, 0)},
                {"items", std::move(items)}};
    co_return json_response(bhttp::status::ok, out.dump(), req.version());
  }

 private:
  static const std::string& id(const RequestContext& ctx) {
    return ctx.params.find("session_id")->second;
  }

  Response problem(const common::Error& error, const RequestContext& ctx, const Request& req) {
    return logged_problem(d_.log, "refund.request_failed", error, ctx, req.version());
  }

  RefundRouteDeps d_;
};

}  // namespace

void register_refund_routes(Router& router, RefundRouteDeps deps) {
  auto h = std::make_shared<RefundHandlers>(deps);
  auto bind = [h](auto method) -> Handler {
    return
        [h, method](const Request& req, RequestContext& ctx) { return ((*h).*method)(req, ctx); };
  };
  router.add(bhttp::verb::post, "/v1/sessions/{session_id}/refunds",
             bind(&RefundHandlers::request));
  router.add(bhttp::verb::get, "/v1/sessions/{session_id}/refunds", bind(&RefundHandlers::list));
}

}  // namespace visitpay::http
