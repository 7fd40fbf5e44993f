#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace visitpay::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

// Per-request facts shared by the server, the router and the handlers.
struct RequestContext {
  std::string request_id;
  std::string route = "unmatched";  // the route template, safe for logs and metric labels
  std::map<std::string, std::string, std::less<>> params;
  std::string peer_address;  // the TCP peer (no proxy headers are trusted)
};

using Handler = std::function<asio::awaitable<Response>(const Request&, RequestContext&)>;

struct RouteInfo {
  bhttp::verb method;
  std::string pattern;  // e.g. "/v1/sessions/{session_id}"
};

// Method + path template routing. "{name}" matches one path segment.
class Router {
 public:
  void add(bhttp::verb method, std::string pattern, Handler handler);
  asio::awaitable<Response> dispatch(const Request& request, RequestContext& context) const;
  const std::vector<RouteInfo>& routes() const { return infos_; }

 private:
  struct Route {
    RouteInfo info;
    std::vector<std::string> segments;
    Handler handler;
  };
  static bool match(const Route& route, const std::vector<std::string_view>& path,
                    RequestContext& context);

  std::vector<Route> routes_;
  std::vector<RouteInfo> infos_;
};

}  // namespace visitpay::http
