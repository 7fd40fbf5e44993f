#include "http/console_routes.hpp"

#include <nlohmann/json.hpp>

#include "http/authorize.hpp"
#include "http/console_assets.hpp"
#include "http/json_body.hpp"
#include "http/problem.hpp"

namespace visitpay::http {

using Json = nlohmann::json;
using common::ErrorCode;
using common::make_error;

namespace {

constexpr std::size_t kMaxUsername = 128;
constexpr std::size_t kMaxPassword = 256;
constexpr std::size_t kMaxCode = 16;

app::CookieRequest cookie_request(const Request& req) {
  const bool safe = req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
  return {req[bhttp::field::cookie], !safe, req[bhttp::field::origin], req[bhttp::field::host],
          req["X-CSRF-Token"]};
}

Json strings(const std::vector<std::string>& items) {
  Json out = Json::array();
  for (const auto& s : items)
    out.push_back(s);
  return out;
}

// "user:<name>" -> "<name>"
std::string username_of(const app::Principal& p) {
  constexpr std::string_view kPrefix = "user:";
  return p.client_name.rfind(kPrefix, 0) == 0 ? p.client_name.substr(kPrefix.size())
                                              : p.client_name;
}

class ConsoleHandlers {
 public:
  explicit ConsoleHandlers(ConsoleRouteDeps deps) : d_(deps) {}

  asio::awaitable<Response> login(const Request& req, RequestContext& ctx) {
    // Login CSRF: a browser on another site must not log the victim in to our console.
    const auto origin = req[bhttp::field::origin];
    if (!origin.empty() && !app::WebSessions::same_site_origin(origin, req[bhttp::field::host])) {
      co_return problem(make_error(ErrorCode::csrf_refused, "the Origin must be this site"), ctx,
                        req);
    }
    auto body = object_body(req);
    if (auto* e = std::get_if<common::Error>(&body)) co_return problem(*e, ctx, req);
    const auto& json = std::get<Json>(body);
    std::vector<common::FieldError> errors;
    ports::PasswordAttempt attempt;
    attempt.username = text_member(json, "username", true, kMaxUsername, errors);
    attempt.password = text_member(json, "password", true, kMaxPassword, errors);
    attempt.totp_code = text_member(json, "totp", false, kMaxCode, errors);
    attempt.peer_address = ctx.peer_address;
    if (!errors.empty()) {
      const auto error = invalid(errors);
      co_return problem(error, ctx, req);
    }

    auto who = co_await d_.login.login(attempt);
    if (!who) co_return problem(who.error(), ctx, req);
    auto opened = co_await d_.sessions.open(*who);
    if (!opened) co_return problem(opened.error(), ctx, req);
    const std::string cookie =
        std::string(app::WebSessions::kCookieName) + "=" + opened->cookie_value;
    app::CookieRequest check{cookie, false, {}, {}, {}};
    auto principal = co_await d_.sessions.resolve(check);
    if (!principal) co_return problem(principal.error(), ctx, req);
    auto res = json_response(bhttp::status::ok, me_json(*principal, opened->csrf_token).dump(),
                             req.version());
    res.set(bhttp::field::set_cookie,
            cookie + "; Path=/; HttpOnly; SameSite=Strict" + (d_.secure_cookie ? "; Secure" : ""));
    co_return finish(std::move(res));
  }

  asio::awaitable<Response> me(const Request& req, RequestContext& ctx) {
    const auto request = cookie_request(req);
    auto principal = co_await d_.sessions.resolve(request);
    if (!principal) co_return problem(principal.error(), ctx, req);
    const auto csrf = d_.sessions.csrf_token(req[bhttp::field::cookie]);
    co_return finish(
        json_response(bhttp::status::ok, me_json(*principal, csrf).dump(), req.version()));
  }

  asio::awaitable<Response> logout(const Request& req, RequestContext& ctx) {
    co_return co_await end_sessions(req, ctx, false);
  }

  asio::awaitable<Response> logout_everywhere(const Request& req, RequestContext& ctx) {
    co_return co_await end_sessions(req, ctx, true);
  }

  asio::awaitable<Response> users(const Request& req, RequestContext& ctx) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::kUsersAdminScope);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    auto list = co_await d_.users.list();
    if (!list) co_return problem(list.error(), ctx, req);
    Json items = Json::array();
    for (const auto& u : *list) {
      items.push_back({{"username", u.username},
                       {"roles", strings(u.roles)},
                       {"clinic_ids", strings(u.clinic_ids)},
                       {"second_factor", u.totp_secret.has_value()},
                       {"disabled", u.disabled},
                       {"created_at", u.created_at}});
    }
    co_return finish(
        json_response(bhttp::status::ok, Json{{"items", std::move(items)}}.dump(), req.version()));
  }

  asio::awaitable<Response> disable_user(const Request& req, RequestContext& ctx) {
    co_return co_await set_disabled(req, ctx, true);
  }
  asio::awaitable<Response> enable_user(const Request& req, RequestContext& ctx) {
    co_return co_await set_disabled(req, ctx, false);
  }

  asio::awaitable<Response> redirect(const Request& req, RequestContext&) {
    Response res{bhttp::status::permanent_redirect, req.version()};
    res.set(bhttp::field::location, "/console/");
    res.prepare_payload();
    co_return res;
  }

  asio::awaitable<Response> index(const Request& req, RequestContext& ctx) {
    co_return asset("index.html", req, ctx);
  }

  asio::awaitable<Response> file(const Request& req, RequestContext& ctx) {
    co_return asset("assets/" + ctx.params.find("file")->second, req, ctx);
  }

 private:
  asio::awaitable<Response> end_sessions(const Request& req, RequestContext& ctx, bool everywhere) {
    const auto request = cookie_request(req);
    auto principal = co_await d_.sessions.resolve(request);
    if (!principal) co_return problem(principal.error(), ctx, req);
    const std::string_view cookie = req[bhttp::field::cookie];
    std::int64_t ended = 1;
    if (everywhere) {
      auto n = co_await d_.sessions.logout_everywhere(cookie);
      if (!n) co_return problem(n.error(), ctx, req);
      ended = *n;
    } else {
      auto done = co_await d_.sessions.logout(cookie);
      if (!done) co_return problem(done.error(), ctx, req);
    }
    d_.log.info("console.logout", {{"user_id", principal->client_id}, {"sessions", ended}});
    auto res =
        json_response(bhttp::status::ok, Json{{"sessions_ended", ended}}.dump(), req.version());
    res.set(bhttp::field::set_cookie, std::string(app::WebSessions::kCookieName) +
                                          "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                          (d_.secure_cookie ? "; Secure" : ""));
    co_return finish(std::move(res));
  }

  asio::awaitable<Response> set_disabled(const Request& req, RequestContext& ctx, bool disabled) {
    auto auth = co_await authorize(d_.auth, req, ctx, app::kUsersAdminScope);
    if (auto* res = std::get_if<Response>(&auth)) co_return std::move(*res);
    const auto& who = std::get<app::Principal>(auth);
    const std::string username = ctx.params.find("username")->second;
    if (disabled && username_of(who) == username) {
      co_return problem(make_error(ErrorCode::invalid_state, "you cannot disable yourself"), ctx,
                        req);
    }
    auto changed = co_await d_.users.set_disabled(username, disabled, d_.clock.now());
    if (!changed) co_return problem(changed.error(), ctx, req);
    if (!*changed) co_return problem(make_error(ErrorCode::not_found, "no such user"), ctx, req);
    d_.log.info(disabled ? "console.user_disabled" : "console.user_enabled",
                {{"actor", who.client_name}});
    co_return finish(json_response(bhttp::status::ok,
                                   Json{{"username", username}, {"disabled", disabled}}.dump(),
                                   req.version()));
  }

  Json me_json(const app::Principal& p, const std::string& csrf) const {
    return {{"username", username_of(p)},
            {"scopes", strings(p.scopes)},
            {"clinic_ids", strings(p.clinic_ids)},
            {"csrf_token", csrf},
            {"idle_timeout_seconds", d_.idle_timeout_seconds}};
  }

  static Response asset(const std::string& path, const Request& req, const RequestContext& ctx) {
    for (const auto& a : console_assets()) {
      if (a.path != path) continue;
      Response res{bhttp::status::ok, req.version()};
      res.set(bhttp::field::content_type, a.content_type);
      res.set(bhttp::field::cache_control,
              a.immutable ? "public, max-age=31536000, immutable" : "no-cache");
      res.body() = std::string(a.body);
      res.prepare_payload();
      return finish(std::move(res));
    }
    return problem_response(make_error(ErrorCode::not_found, "no such console file"), ctx,
                            req.version());
  }

  static Response finish(Response res) {
    set_console_security_headers(res);
    if (res[bhttp::field::cache_control].empty()) res.set(bhttp::field::cache_control, "no-store");
    return res;
  }

  Response problem(const common::Error& error, const RequestContext& ctx, const Request& req) {
    auto res = logged_problem(d_.log, "console.request_failed", error, ctx, req.version());
    set_console_security_headers(res);
    return res;
  }

  ConsoleRouteDeps d_;
};

}  // namespace

void set_console_security_headers(Response& res) {
  res.set("Content-Security-Policy",
          "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
          "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'self'; "
          "frame-ancestors 'none'");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  res.set("Cross-Origin-Opener-Policy", "same-origin");
}

void register_console_routes(Router& router, ConsoleRouteDeps deps) {
  auto h = std::make_shared<ConsoleHandlers>(deps);
  auto bind = [h](auto method) -> Handler {
    return
        [h, method](const Request& req, RequestContext& ctx) { return ((*h).*method)(req, ctx); };
  };
  router.add(bhttp::verb::post, "/v1/console/login", bind(&ConsoleHandlers::login));
  router.add(bhttp::verb::get, "/v1/console/me", bind(&ConsoleHandlers::me));
  router.add(bhttp::verb::post, "/v1/console/logout", bind(&ConsoleHandlers::logout));
  router.add(bhttp::verb::post, "/v1/console/logout-everywhere",
             bind(&ConsoleHandlers::logout_everywhere));
  router.add(bhttp::verb::get, "/v1/console/users", bind(&ConsoleHandlers::users));
  router.add(bhttp::verb::post, "/v1/console/users/{username}/disable",
             bind(&ConsoleHandlers::disable_user));
  router.add(bhttp::verb::post, "/v1/console/users/{username}/enable",
             bind(&ConsoleHandlers::enable_user));
  router.add(bhttp::verb::get, "/console", bind(&ConsoleHandlers::redirect));
  router.add(bhttp::verb::get, "/console/", bind(&ConsoleHandlers::index));
  router.add(bhttp::verb::get, "/console/assets/{file}", bind(&ConsoleHandlers::file));
}

}  // namespace visitpay::http
