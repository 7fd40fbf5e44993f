#include "http/authorize.hpp"

#include "http/problem.hpp"

namespace visitpay::http {

asio::awaitable<std::variant<app::Principal, Response>> authorize(app::Authenticator& auth,
                                                                  const Request& req,
                                                                  const RequestContext& ctx,
                                                                  std::string_view scope,
                                                                  std::string_view alternative) {
  auto principal = co_await auth.authenticate(req[bhttp::field::authorization]);
  if (!principal) co_return problem_response(principal.error(), ctx, req.version());
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
