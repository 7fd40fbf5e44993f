#include "http/routes.hpp"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <charconv>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "common/time_format.hpp"
#include "common/uuid.hpp"
#include "http/authorize.hpp"
#include "http/checkout_json.hpp"
#include "http/json_body.hpp"
#include "http/problem.hpp"
#include "http/webhook_guard.hpp"
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

class Handlers {
 public:
  explicit Handlers(RouteDeps deps) : d_(deps), guard_(deps.config) {
    d_.metrics.describe("visitpay_checkouts_total", Metrics::Type::counter,
                        "Check-outs by outcome (accepted, replayed, conflict, rejected)");
    d_.metrics.describe("visitpay_webhooks_total", Metrics::Type::counter,
                        "Provider callbacks and delivery reports received, by outcome "
                        "(source_refused, token_refused, tokenless_refused: nothing was read)");
    d_.metrics.describe("visitpay_webhooks_tokenless_total", Metrics::Type::counter,
                        "Webhooks accepted on a path without token (accept_tokenless, a "
                        "migration): when it stays 0, the provider uses the new URL");
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
    auto document = parse_json(req.body());
    if (auto* error = std::get_if<common::Error>(&document)) {
      co_return rejected(*error, ctx, req);
    }
    auto parsed = parse_checkout(std::get<nlohmann::json>(document));
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
                             session_json(outcome->session), req.version());
    res.set(bhttp::field::location, "/v1/sessions/" + outcome->session.id);
    co_return res;
  }

  asio::awaitable<Response> get_session(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::scope::sessions_read,
                                   app::scope::checkout_write);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto found = co_await visible_session(std::get<app::Principal>(auth), ctx);
    if (!found) co_return problem_response(found.error(), ctx, req.version());
    co_return json_response(bhttp::status::ok, session_json(*found), req.version());
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
    co_return json_response(bhttp::status::ok, session_json(*after), req.version());
  }

  // POST /v1/webhooks/payment/{provider}/{token}: a payment callback, parsed by the adapter
  // registered under that name (without {token}: accept_tokenless only).
  asio::awaitable<Response> payment_webhook(const Request& req, RequestContext& ctx) {
    const std::string name = ctx.params.find("provider")->second;
    const auto* parser = d_.adapters.payment_notifications(name);
    if (parser == nullptr || !admitted(WebhookKind::payment, name, req, ctx)) {
      co_return refused(req, ctx);
    }
    co_return co_await receive_payment_hint(*parser, name, req, ctx);
  }

  // POST /v1/webhooks/sms/{provider}/{token}: an SMS gateway's delivery report.
  asio::awaitable<Response> sms_webhook(const Request& req, RequestContext& ctx) {
    const std::string name = ctx.params.find("provider")->second;
    const auto* parser = d_.adapters.sms_reports(name);
    if (parser == nullptr || !admitted(WebhookKind::sms, name, req, ctx)) {
      co_return refused(req, ctx);
    }
    co_return co_await receive_delivery_report(*parser, name, req, ctx);
  }

  // An adapter's own public paths (AdapterFactory::webhook_aliases) lead here; they carry no
  // token, so they work only while the provider's accept_tokenless is on.
  asio::awaitable<Response> payment_callback(const ports::PaymentNotifications& parser,
                                             std::string name, const Request& req,
                                             RequestContext& ctx) {
    if (!admitted(WebhookKind::payment, name, req, ctx)) co_return refused(req, ctx);
    co_return co_await receive_payment_hint(parser, std::move(name), req, ctx);
  }

  asio::awaitable<Response> delivery_report(const ports::SmsReports& parser, std::string name,
                                            const Request& req, RequestContext& ctx) {
    if (!admitted(WebhookKind::sms, name, req, ctx)) co_return refused(req, ctx);
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
    auto queued = co_await d_.payments.payment_callback(hint->order_id, hint->order_reference);
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
    auto recorded = co_await d_.payments.delivery_report(*report);
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
    // A provider refusing our configuration is shown, not made a 503: every instance would
    // fail alike, and taking them all out of the load balancer would refuse check-outs too,
    // which still commit and wait for the SMS. The alert is the metric
    // visitpay_provider_config_errors_total; this says which account and since when.
    nlohmann::json providers = nlohmann::json::array();
    for (const auto& e : d_.provider_health.config_errors()) {
      providers.push_back({{"account", e.account},
                           {"provider", e.provider},
                           {"status", "config_error"},
                           {"code", e.code},
                           {"detail", e.detail},
                           {"since", common::format_rfc3339_utc(e.since)},
                           {"last_seen", common::format_rfc3339_utc(e.last_seen)},
                           {"count", e.count}});
    }
    nlohmann::json body{{"status", "ready"}, {"schema_version", *version}};
    if (!providers.empty()) body["providers"] = std::move(providers);
    co_return json_response(bhttp::status::ok, body.dump(), req.version());
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

  // Whether the guard lets this notification be read. A refusal is logged with the route
  // template (never the path: it holds the token) and counted; the body is never looked at.
  bool admitted(WebhookKind kind, std::string_view provider, const Request& req,
                const RequestContext& ctx) {
    std::optional<std::string_view> token;
    if (const auto it = ctx.params.find("token"); it != ctx.params.end()) token = it->second;
    std::vector<std::string_view> forwarded;
    const auto header = guard_.forwarded_header_name();
    const auto [first, last] = req.equal_range(beast::string_view(header.data(), header.size()));
    for (auto field = first; field != last; ++field) {
      forwarded.emplace_back(field->value().data(), field->value().size());
    }
    const auto verdict = guard_.check(kind, provider, token, ctx.peer_address, forwarded);
    if (!verdict.allowed) {
      webhook(provider, verdict.outcome);
      d_.log.warn("webhook.refused",
                  {{"request_id", ctx.request_id},
                   {"route", ctx.route},
                   {"provider", std::string(provider)},
                   {"reason", std::string(verdict.outcome)},
                   {"client", verdict.client ? verdict.client->to_string() : "unknown"}});
      return false;
    }
    if (verdict.outcome == "tokenless") {
      d_.metrics.add("visitpay_webhooks_tokenless_total", Metrics::label("provider", provider));
    }
    return true;
  }

  // Every refusal of a webhook (no such adapter, source not allowed, no or a wrong token) is the
  // router's answer to a path that does not exist: a 403 would confirm that the endpoint is real
  // and invite guessing, and a different answer per check would tell which part was wrong.
  static Response refused(const Request& req, const RequestContext& ctx) {
    return problem_response(make_error(ErrorCode::not_found, "no route for this path"), ctx,
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
  WebhookGuard guard_;
};

// What an operator should know at start: webhooks any address may deliver, and paths without
// token still open (a migration that should end).
void warn_about_webhooks(const RouteDeps& deps) {
  std::set<std::string, std::less<>> providers;
  for (const auto& a : deps.config.payment_accounts)
    providers.insert(std::string(ports::adapter_name(a.provider)));
  for (const auto& a : deps.config.sms_accounts)
    providers.insert(std::string(ports::adapter_name(a.provider)));
  for (const auto& name : providers) {
    const auto& rules = deps.config.webhooks.provider(name);
    if (rules.allowed_sources.empty() && deps.config.environment == "production") {
      deps.log.warn("webhook.no_allowlist", {{"provider", name}});
    }
    if (rules.accept_tokenless) deps.log.warn("webhook.tokenless_accepted", {{"provider", name}});
  }
}

}  // namespace

void register_routes(Router& router, RouteDeps deps) {
  warn_about_webhooks(deps);
  auto h = std::make_shared<Handlers>(deps);
  auto bind = [h](auto method) -> Handler {
    return
        [h, method](const Request& req, RequestContext& ctx) { return ((*h).*method)(req, ctx); };
  };
  router.add(bhttp::verb::post, "/v1/checkouts", bind(&Handlers::create_checkout));
  router.add(bhttp::verb::get, "/v1/sessions/{session_id}", bind(&Handlers::get_session));
  router.add(bhttp::verb::post, "/v1/checkouts/{session_id}/cancel",
             bind(&Handlers::cancel_checkout));
  // With the account's token, and the token-less paths providers were given before (refused
  // unless the provider's accept_tokenless is on).
  for (const char* tail : {"{provider}/{token}", "{provider}"}) {
    router.add(bhttp::verb::post, std::string(ports::AdapterRegistry::kPaymentWebhookPrefix) + tail,
               bind(&Handlers::payment_webhook));
    router.add(bhttp::verb::post, std::string(ports::AdapterRegistry::kSmsWebhookPrefix) + tail,
               bind(&Handlers::sms_webhook));
  }
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
  router.add(bhttp::verb::get, "/healthz", bind(&Handlers::healthz));
  router.add(bhttp::verb::get, "/readyz", bind(&Handlers::readyz));
  router.add(bhttp::verb::get, "/metrics", bind(&Handlers::metrics));
  router.add(bhttp::verb::get, "/openapi.json", bind(&Handlers::openapi));
}

}  // namespace visitpay::http
