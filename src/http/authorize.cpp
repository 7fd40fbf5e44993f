#include "http/authorize.hpp"

#include <algorithm>
#include <chrono>

#include "http/problem.hpp"

namespace visitpay::http {

namespace {

// A bearer token when one is sent; else the console's session cookie, if the service has
// console sessions and the request carries a cookie.
asio::awaitable<common::Result<app::Principal>> identify(app::Authenticator& auth,
                                                         const Request& req,
                                                         std::string_view address) {
  const std::string_view authorization = req[bhttp::field::authorization];
  const std::string_view cookie = req[bhttp::field::cookie];
  if (authorization.empty() && !cookie.empty() && auth.accepts_sessions()) {
    const bool safe = req.method() == bhttp::verb::get || req.method() == bhttp::verb::head;
    const app::CookieRequest request{cookie, !safe, req[bhttp::field::origin],
                                     req[bhttp::field::host], req["X-CSRF-Token"]};
    co_return co_await auth.authenticate_session(request);
  }
  co_return co_await auth.authenticate(authorization, address);
}

}  // namespace

asio::awaitable<std::variant<app::Principal, Response>> authorize(app::Authenticator& auth,
                                                                  const Request& req,
                                                                  const RequestContext& ctx,
                                                                  std::string_view scope,
                                                                  std::string_view alternative) {
  auto principal = co_await identify(auth, req, ctx.peer_address);
  if (!principal) {
    auto res = problem_response(principal.error(), ctx, req.version());
    if (const auto wait = principal.error().retry_after) {
      const auto seconds = std::chrono::ceil<std::chrono::seconds>(*wait).count();
      res.set(bhttp::field::retry_after, std::to_string(std::max<long long>(1, seconds)));
    }
    co_return res;
  }
  if (principal->has_scope(scope) || (!alternative.empty() && principal->has_scope(alternative))) {
    co_return std::move(principal.value());
  }
  std::string needed(scope);
  if (!alternative.empty()) needed += " or " + std::string(alternative);
  co_return problem_response(
      common::make_error(common::ErrorCode::forbidden, "this needs scope " + needed), ctx,
      req.version());
}

}  // namespace visitpay::http
