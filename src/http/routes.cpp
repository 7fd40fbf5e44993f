#include "http/routes.hpp"

#include <boost/beast/core/string.hpp>
#include <nlohmann/json.hpp>

#include "common/uuid.hpp"
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

// Resolves the caller and checks it holds `scope` (or `alternative`); the error response otherwise.
asio::awaitable<std::variant<app::Principal, Response>> authorize(
    const RouteDeps& deps, const Request& req, const RequestContext& ctx, std::string_view scope,
    std::string_view alternative = {}) {
  auto principal = co_await deps.auth.authenticate(req[bhttp::field::authorization]);
  if (!principal) co_return problem_response(principal.error(), ctx, req.version());
  if (principal->has_scope(scope) || (!alternative.empty() && principal->has_scope(alternative))) {
    co_return std::move(principal.value());
  }
  std::string needed(scope);
  if (!alternative.empty()) needed += " or " + std::string(alternative);
  co_return problem_response(make_error(ErrorCode::forbidden, "this needs scope " + needed), ctx,
                             req.version());
}

class Handlers {
 public:
  explicit Handlers(RouteDeps deps) : d_(deps) {
    d_.metrics.describe("visitpay_checkouts_total", Metrics::Type::counter,
                        "Check-outs by outcome (accepted, replayed, conflict, rejected)");
  }

  asio::awaitable<Response> create_checkout(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_, req, ctx, app::scope::checkout_write);
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
    auto auth =
        co_await authorize(d_, req, ctx, app::scope::sessions_read, app::scope::checkout_write);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    const auto& principal = std::get<app::Principal>(auth);

    const auto not_found = make_error(ErrorCode::not_found, "no such session");
    auto id = common::normalize_uuid(ctx.params.find("session_id")->second);
    if (!id) co_return problem_response(not_found, ctx, req.version());
    auto found = co_await d_.checkouts.find(*id);
    if (!found) co_return problem_response(found.error(), ctx, req.version());
    // Another clinic's session is reported as absent rather than forbidden: no existence leak.
    if (!found->has_value() || !principal.may_act_for_clinic((*found)->clinic_id)) {
      co_return problem_response(not_found, ctx, req.version());
    }
    co_return json_response(bhttp::status::ok, session_json(**found).dump(), req.version());
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
  router.add(bhttp::verb::get, "/healthz", bind(&Handlers::healthz));
  router.add(bhttp::verb::get, "/readyz", bind(&Handlers::readyz));
  router.add(bhttp::verb::get, "/metrics", bind(&Handlers::metrics));
  router.add(bhttp::verb::get, "/openapi.json", bind(&Handlers::openapi));
}

}  // namespace visitpay::http
