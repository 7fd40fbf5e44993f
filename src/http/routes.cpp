#include "http/routes.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>

#include "common/time_format.hpp"
#include "common/uuid.hpp"
#include "http/authorize.hpp"
#include "http/checkout_json.hpp"
#include "http/problem.hpp"
#include "store/migrations.hpp"

namespace visitpay::http {

using common::ErrorCode;
using common::make_error;
using common::Metrics;

namespace {

bool is_json_content_type(std::string_view value) {
  const auto semicolon = value.find(';');
  auto media = value.substr(0, semicolon);
  while (!media.empty() && media.back() == ' ')
    media.remove_suffix(1);
  return beast::iequals(media, "application/json");
}

// A small page for the payer's browser after the provider's payment page (no personal data).
Response payer_page(const Request& req, std::string_view title, std::string_view text) {
  Response res{bhttp::status::ok, req.version()};
  res.set(bhttp::field::content_type, "text/html; charset=utf-8");
  res.set(bhttp::field::cache_control, "no-store");
  res.body() =
      "<!doctype html><html lang=\"nb\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      std::string(title) +
      "</title><style>body{font-family:system-ui,sans-serif;max-width:32rem;"
      "margin:3rem auto;padding:0 1rem;line-height:1.5}</style></head><body><h1>" +
      std::string(title) + "</h1><p>" + std::string(text) + "</p></body></html>";
  res.prepare_payload();
  return res;
}

class Handlers {
 public:
  explicit Handlers(RouteDeps deps) : d_(deps) {
    d_.metrics.describe("visitpay_checkouts_total", Metrics::Type::counter,
                        "Check-outs by outcome (accepted, replayed, conflict, rejected)");
    d_.metrics.describe("visitpay_webhooks_total", Metrics::Type::counter,
                        "Provider callbacks and delivery reports received, by outcome");
  }

  asio::awaitable<Response> create_checkout(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::checkout_write);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    const auto& principal = std::get<app::Principal>(auth);

    if (!is_json_content_type(req[bhttp::field::content_type])) {
      co_return rejected(
          make_error(ErrorCode::unsupported_media_type, "send Content-Type: application/json"), ctx,
          req);
    }
    auto body = nlohmann::json::parse(req.body(), nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded()) {
      co_return rejected(
          make_error(ErrorCode::malformed_json, "the body is not a valid UTF-8 JSON document"), ctx,
          req);
    }
    auto parsed = parse_checkout(body);
    merge_field_errors(parsed.errors, d_.checkouts.validate(parsed.request));
    if (!parsed.errors.empty()) {
      common::Error error =
          make_error(ErrorCode::validation_failed, std::to_string(parsed.errors.size()) +
                                                       " field(s) are invalid; nothing was stored");
      error.fields = std::move(parsed.errors);
      co_return rejected(error, ctx, req);
    }
    if (!principal.may_act_for_clinic(parsed.request.clinic_id)) {
      co_return rejected(
          make_error(ErrorCode::forbidden,
                     "this token may not check out for clinic " + parsed.request.clinic_id),
          ctx, req);
    }

    auto outcome = co_await d_.checkouts.submit(parsed.request);
    if (!outcome) {
      const bool conflict = outcome.error().code == ErrorCode::idempotency_conflict;
      count(conflict ? "conflict" : "failed");
      if (!conflict) {
        // The detail names the failure (SQLSTATE, never row values), safe to log.
        d_.log.warn("checkout.store_failed",
                    {{"request_id", ctx.request_id}, {"detail", outcome.error().detail}});
      }
      co_return problem_response(outcome.error(), ctx, req.version());
    }
    count(outcome->created ? "accepted" : "replayed");
    auto res = json_response(outcome->created ? bhttp::status::created : bhttp::status::ok,
                             session_json(outcome->session).dump(), req.version());
    res.set(bhttp::field::location, "/v1/sessions/" + outcome->session.id);
    co_return res;
  }

  asio::awaitable<Response> get_session(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::sessions_read,
                                   app::scope::checkout_write);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto found = co_await visible_session(std::get<app::Principal>(auth), ctx);
    if (!found) co_return problem_response(found.error(), ctx, req.version());
    co_return json_response(bhttp::status::ok, session_json(*found).dump(), req.version());
  }

  asio::awaitable<Response> cancel_checkout(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::checkout_write);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    const auto& principal = std::get<app::Principal>(auth);
    auto found = co_await visible_session(principal, ctx);
    if (!found) co_return problem_response(found.error(), ctx, req.version());
    auto cancelled = co_await d_.payments.cancel(found->id);
    if (!cancelled) co_return problem_response(cancelled.error(), ctx, req.version());
    auto after = co_await visible_session(principal, ctx);  // the state it has now
    if (!after) co_return problem_response(after.error(), ctx, req.version());
    co_return json_response(bhttp::status::ok, session_json(*after).dump(), req.version());
  }

  // POST /v1/webhooks/payment/{provider}: a payment callback, parsed by the adapter registered
  // under that name.
  asio::awaitable<Response> payment_webhook(const Request& req, RequestContext& ctx) {
    if (auto refused = check_source(req, ctx)) co_return std::move(*refused);
    const std::string name = ctx.params.find("provider")->second;
    const auto* parser = d_.adapters.payment_notifications(name);
    if (parser == nullptr) co_return no_such_adapter(req, ctx);
    co_return co_await receive_payment_hint(*parser, name, req, ctx);
  }

  asio::awaitable<Response> sms_webhook(const Request& req, RequestContext& ctx) {
    if (auto refused = check_source(req, ctx)) co_return std::move(*refused);
    const std::string name = ctx.params.find("provider")->second;
    const auto* parser = d_.adapters.sms_reports(name);
    if (parser == nullptr) co_return no_such_adapter(req, ctx);
    co_return co_await receive_delivery_report(*parser, name, req, ctx);
  }

  // An adapter's own public paths (AdapterFactory::webhook_aliases) lead here.
  asio::awaitable<Response> payment_callback(const ports::PaymentNotifications& parser,
                                             std::string name, const Request& req,
                                             RequestContext& ctx) {
    if (auto refused = check_source(req, ctx)) co_return std::move(*refused);
    co_return co_await receive_payment_hint(parser, std::move(name), req, ctx);
  }

  asio::awaitable<Response> delivery_report(const ports::SmsReports& parser, std::string name,
                                            const Request& req, RequestContext& ctx) {
    if (auto refused = check_source(req, ctx)) co_return std::move(*refused);
    co_return co_await receive_delivery_report(parser, std::move(name), req, ctx);
  }

 private:
  // Payment callbacks are treated as unsigned hints whatever the provider: the hint queues a
  // GET of the order (the only truth) and is answered at once. Only a database failure asks the
  // provider to try again later.
  asio::awaitable<Response> receive_payment_hint(const ports::PaymentNotifications& parser,
                                                 std::string name, const Request& req,
                                                 RequestContext& ctx) {
    auto hint = parser.parse(inbound(req));
    if (!hint) co_return problem_response(hint.error(), ctx, req.version());
    auto queued = co_await d_.payments.payment_callback(hint->order_id);
    if (!queued && queued.error().code != ErrorCode::not_found) {
      co_return problem_response(queued.error(), ctx, req.version());
    }
    webhook(name, queued ? "accepted" : "unknown_order");
    if (!queued) d_.log.warn("webhook.unknown_order", {{"order_id", hint->order_id}});
    co_return json_response(bhttp::status::ok, R"({"status":"received"})", req.version());
  }

  asio::awaitable<Response> receive_delivery_report(const ports::SmsReports& parser,
                                                    std::string name, const Request& req,
                                                    RequestContext& ctx) {
    auto report = parser.parse(inbound(req));
    if (!report) co_return problem_response(report.error(), ctx, req.version());
    auto recorded = co_await d_.payments.delivery_report(
        report->message_id, report->reference, report->result_code, store_outcome(report->outcome));
    if (!recorded && recorded.error().code != ErrorCode::not_found) {
      co_return problem_response(recorded.error(), ctx, req.version());
    }
    webhook(name, recorded ? "accepted" : "unknown_message");
    if (!recorded) d_.log.warn("webhook.unknown_message", {{"message_id", report->message_id}});
    co_return json_response(bhttp::status::ok, R"({"status":"received"})", req.version());
  }

 public:
  asio::awaitable<Response> dead_letters(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::ops);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto items = co_await d_.payments.dead_letters(500);
    if (!items) co_return problem_response(items.error(), ctx, req.version());
    nlohmann::json list = nlohmann::json::array();
    for (const auto& item : *items) {
      list.push_back({{"id", item.id},
                      {"session_id", item.session_id},
                      {"kind", item.kind},
                      {"attempts", item.attempts},
                      {"last_error", item.last_error},
                      {"updated_at", common::format_rfc3339_utc(item.updated_at)}});
    }
    co_return json_response(bhttp::status::ok, nlohmann::json{{"items", std::move(list)}}.dump(),
                            req.version());
  }

  asio::awaitable<Response> retry_dead_letter(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::ops);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    const auto& text = ctx.params.find("outbox_id")->second;
    std::int64_t id = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || id <= 0) {
      co_return problem_response(make_error(ErrorCode::not_found, "no such outbox item"), ctx,
                                 req.version());
    }
    auto retried = co_await d_.payments.retry(id);
    if (!retried) co_return problem_response(retried.error(), ctx, req.version());
    co_return json_response(
        bhttp::status::ok, nlohmann::json{{"id", id}, {"status", "pending"}}.dump(), req.version());
  }

  asio::awaitable<Response> payment_complete(const Request& req, RequestContext&) {
    co_return payer_page(req, "Takk!",
                         "Betalingen er mottatt. Du kan lukke denne siden. "
                         "Kvittering f\u00e5r du fra betalingsl\u00f8sningen.");
  }

  asio::awaitable<Response> payment_cancelled(const Request& req, RequestContext&) {
    co_return payer_page(req, "Betalingen ble avbrutt",
                         "Du kan betale senere med lenken i SMS-en. Betaler du ikke innen "
                         "fristen, f\u00e5r du faktura.");
  }

  asio::awaitable<Response> healthz(const Request& req, RequestContext&) {
    co_return json_response(bhttp::status::ok, R"({"status":"ok"})", req.version());
  }

  asio::awaitable<Response> readyz(const Request& req, RequestContext& ctx) {
    auto version = co_await store::applied_schema_version(d_.pool);
    if (!version) {
      co_return problem_response(
          make_error(ErrorCode::database_unavailable, "the database cannot be reached"), ctx,
          req.version());
    }
    if (*version != store::latest_schema_version()) {
      co_return problem_response(
          make_error(ErrorCode::database_unavailable,
                     "the database schema is at version " + std::to_string(*version) +
                         ", this build needs " + std::to_string(store::latest_schema_version())),
          ctx, req.version());
    }
    co_return json_response(
        bhttp::status::ok, nlohmann::json{{"status", "ready"}, {"schema_version", *version}}.dump(),
        req.version());
  }

  asio::awaitable<Response> metrics(const Request& req, RequestContext&) {
    Response res{bhttp::status::ok, req.version()};
    res.set(bhttp::field::content_type, "text/plain; version=0.0.4");
    res.body() = d_.metrics.render();
    res.prepare_payload();
    co_return res;
  }

  asio::awaitable<Response> openapi(const Request& req, RequestContext&) {
    co_return json_response(bhttp::status::ok, std::string(openapi_document()), req.version());
  }

 private:
  // The session named by the route's {session_id}, if the principal may see it. Another clinic's
  // session is reported as absent rather than forbidden: no existence leak.
  asio::awaitable<common::Result<domain::SessionView>> visible_session(
      const app::Principal& principal, const RequestContext& ctx) {
    const auto not_found = make_error(ErrorCode::not_found, "no such session");
    auto id = common::normalize_uuid(ctx.params.find("session_id")->second);
    if (!id) co_return not_found;
    auto found = co_await d_.checkouts.find(*id);
    if (!found) co_return std::move(found).error();
    if (!found->has_value() || !principal.may_act_for_clinic((*found)->clinic_id)) {
      co_return not_found;
    }
    co_return std::move(**found);
  }

  static ports::InboundWebhook inbound(const Request& req) {
    ports::InboundWebhook webhook;
    webhook.body = req.body();
    webhook.header = [&req](std::string_view name) -> std::string_view {
      const auto it = req.find(beast::string_view(name.data(), name.size()));
      if (it == req.end()) return {};
      return {it->value().data(), it->value().size()};
    };
    return webhook;
  }

  static store::DeliveryOutcome store_outcome(ports::DeliveryOutcome outcome) {
    switch (outcome) {
      case ports::DeliveryOutcome::delivered:
        return store::DeliveryOutcome::delivered;
      case ports::DeliveryOutcome::failed:
        return store::DeliveryOutcome::failed;
      case ports::DeliveryOutcome::in_progress:
        break;
    }
    return store::DeliveryOutcome::in_progress;
  }

  Response no_such_adapter(const Request& req, const RequestContext& ctx) const {
    return problem_response(make_error(ErrorCode::not_found, "no adapter receives webhooks here"),
                            ctx, req.version());
  }

  // The optional source-address allowlist of provider callbacks.
  std::optional<Response> check_source(const Request& req, const RequestContext& ctx) const {
    const auto& allowed = d_.config.webhooks.allowed_sources;
    if (allowed.empty() ||
        std::find(allowed.begin(), allowed.end(), ctx.peer_address) != allowed.end()) {
      return std::nullopt;
    }
    d_.log.warn("webhook.source_refused", {{"peer", ctx.peer_address}, {"route", ctx.route}});
    return problem_response(
        make_error(ErrorCode::forbidden, "callbacks are not accepted from this address"), ctx,
        req.version());
  }
  void webhook(std::string_view provider, std::string_view outcome) {
    d_.metrics.add("visitpay_webhooks_total",
                   Metrics::label("provider", provider) + "," + Metrics::label("outcome", outcome));
  }
  void count(std::string_view outcome) {
    d_.metrics.add("visitpay_checkouts_total", Metrics::label("outcome", outcome));
  }
  Response rejected(const common::Error& error, const RequestContext& ctx, const Request& req) {
    count("rejected");
    return problem_response(error, ctx, req.version());
  }

  RouteDeps d_;
};

}  // namespace

void register_routes(Router& router, RouteDeps deps) {
  auto h = std::make_shared<Handlers>(deps);
  auto bind = [h](auto method) -> Handler {
    return
        [h, method](const Request& req, RequestContext& ctx) { return ((*h).*method)(req, ctx); };
  };
  router.add(bhttp::verb::post, "/v1/checkouts", bind(&Handlers::create_checkout));
  router.add(bhttp::verb::get, "/v1/sessions/{session_id}", bind(&Handlers::get_session));
  router.add(bhttp::verb::post, "/v1/checkouts/{session_id}/cancel",
             bind(&Handlers::cancel_checkout));
  router.add(bhttp::verb::post,
             std::string(ports::AdapterRegistry::kPaymentWebhookPrefix) + "{provider}",
             bind(&Handlers::payment_webhook));
  router.add(bhttp::verb::post,
             std::string(ports::AdapterRegistry::kSmsWebhookPrefix) + "{provider}",
             bind(&Handlers::sms_webhook));
  // Public paths an adapter declares besides the generic ones (URLs providers already hold).
  for (const auto& alias : deps.adapters.payment_aliases()) {
    router.add(
        bhttp::verb::post, alias.path,
        [h, parser = alias.parser, name = std::string(ports::adapter_name(alias.adapter_id))](
            const Request& req, RequestContext& ctx) {
          return h->payment_callback(*parser, name, req, ctx);
        });
  }
  for (const auto& alias : deps.adapters.sms_aliases()) {
    router.add(
        bhttp::verb::post, alias.path,
        [h, parser = alias.parser, name = std::string(ports::adapter_name(alias.adapter_id))](
            const Request& req, RequestContext& ctx) {
          return h->delivery_report(*parser, name, req, ctx);
        });
  }
  router.add(bhttp::verb::get, "/v1/outbox/dead", bind(&Handlers::dead_letters));
  router.add(bhttp::verb::post, "/v1/outbox/{outbox_id}/retry", bind(&Handlers::retry_dead_letter));
  router.add(bhttp::verb::get, "/payment/complete", bind(&Handlers::payment_complete));
  router.add(bhttp::verb::get, "/payment/cancelled", bind(&Handlers::payment_cancelled));
  router.add(bhttp::verb::get, "/healthz", bind(&Handlers::healthz));
  router.add(bhttp::verb::get, "/readyz", bind(&Handlers::readyz));
  router.add(bhttp::verb::get, "/metrics", bind(&Handlers::metrics));
  router.add(bhttp::verb::get, "/openapi.json", bind(&Handlers::openapi));
}

}  // namespace visitpay::http
