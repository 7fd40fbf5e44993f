#include "http/router.hpp"

#include "http/problem.hpp"

namespace visitpay::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 1;  // skip the leading '/'
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

void Router::add(bhttp::verb method, std::string pattern, Handler handler) {
  Route r{{method, pattern}, {}, std::move(handler)};
  for (auto segment : split_path(pattern))
    r.segments.emplace_back(segment);
  infos_.push_back(r.info);
  routes_.push_back(std::move(r));
}

bool Router::match(const Route& route, const std::vector<std::string_view>& path,
                   RequestContext& context) {
  if (route.segments.size() != path.size()) return false;
  std::map<std::string, std::string, std::less<>> params;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const auto& want = route.segments[i];
    if (want.size() > 2 && want.front() == '{' && want.back() == '}') {
      if (path[i].empty()) return false;
      params[want.substr(1, want.size() - 2)] = std::string(path[i]);
    } else if (want != path[i]) {
      return false;
    }
  }
  context.params = std::move(params);
  return true;
}

asio::awaitable<Response> Router::dispatch(const Request& request, RequestContext& context) const {
  std::string_view target = request.target();
  const auto query = target.find('?');
  const auto path = split_path(target.substr(0, query));
  std::string allowed;
  for (const auto& route : routes_) {
    if (!match(route, path, context)) continue;
    if (route.info.method == request.method() ||
        (request.method() == bhttp::verb::head && route.info.method == bhttp::verb::get)) {
      context.route = route.info.pattern;
      co_return co_await route.handler(request, context);
    }
    if (!allowed.empty()) allowed += ", ";
    allowed += std::string(bhttp::to_string(route.info.method));
    if (route.info.method == bhttp::verb::get) allowed += ", HEAD";
    context.route = route.info.pattern;
  }
  if (!allowed.empty()) {
    auto res = problem_response(
        common::make_error(common::ErrorCode::method_not_allowed, "allowed: " + allowed), context,
        request.version());
    res.set(bhttp::field::allow, allowed);
    co_return res;
  }
  co_return problem_response(
      common::make_error(common::ErrorCode::not_found, "no route for this path"), context,
      request.version());
}

}  // namespace visitpay::http
