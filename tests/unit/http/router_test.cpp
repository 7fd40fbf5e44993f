#include "http/router.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace visitpay::http {
namespace {

using Json = nlohmann::json;

// A handler that answers with its name and the params it saw, so tests can tell routes apart.
Handler named(std::string name) {
  return [name = std::move(name)](const Request& req,
                                  RequestContext& ctx) -> asio::awaitable<Response> {
    Json params = Json::object();
    for (const auto& [k, v] : ctx.params)
      params[k] = v;
    Response res{bhttp::status::ok, req.version()};
    res.body() = Json{{"handler", name}, {"params", params}}.dump();
    co_return res;
  };
}

Router sample_router() {
  Router r;
  r.add(bhttp::verb::post, "/v1/checkouts", named("create"));
  r.add(bhttp::verb::get, "/v1/sessions/{session_id}", named("get_session"));
  r.add(bhttp::verb::delete_, "/v1/sessions/{session_id}", named("cancel_session"));
  r.add(bhttp::verb::get, "/v1/clinics/{clinic_id}/visits/{visit_id}", named("get_visit"));
  r.add(bhttp::verb::get, "/healthz", named("healthz"));
  return r;
}

struct Outcome {
  Response response;
  RequestContext context;
};

Outcome run(const Router& router, bhttp::verb method, std::string target) {
  Request req{method, target, 11};
  Outcome out;
  out.context.request_id = "req-1";
  std::exception_ptr failure;
  bool done = false;
  boost::asio::io_context ioc;
  boost::asio::co_spawn(ioc, router.dispatch(req, out.context),
                        [&](std::exception_ptr e, Response r) {
                          failure = e;
                          out.response = std::move(r);
                          done = true;
                        });
  ioc.run();
  EXPECT_TRUE(done);
  EXPECT_FALSE(failure);
  return out;
}

Json body_of(const Response& res) {
  return Json::parse(res.body());
}

TEST(Router, DispatchesToTheMatchingRoute) {
  const auto router = sample_router();
  auto out = run(router, bhttp::verb::post, "/v1/checkouts");
  EXPECT_EQ(out.response.result(), bhttp::status::ok);
  EXPECT_EQ(body_of(out.response)["handler"], "create");
  EXPECT_EQ(out.context.route, "/v1/checkouts");
  EXPECT_TRUE(out.context.params.empty());
}

TEST(Router, ExtractsPathParams) {
  const auto router = sample_router();
  auto out = run(router, bhttp::verb::get, "/v1/sessions/0190f3a2-7c1e-7abc-8def-0123456789ab");
  ASSERT_EQ(out.response.result(), bhttp::status::ok);
  EXPECT_EQ(body_of(out.response)["handler"], "get_session");
  EXPECT_EQ(out.context.params.at("session_id"), "0190f3a2-7c1e-7abc-8def-0123456789ab");

  out = run(router, bhttp::verb::get, "/v1/clinics/oslo-sentrum/visits/V-1");
  ASSERT_EQ(out.response.result(), bhttp::status::ok);
  EXPECT_EQ(body_of(out.response)["params"],
            (Json{{"clinic_id", "oslo-sentrum"}, {"visit_id", "V-1"}}));
}

TEST(Router, SelectsTheRouteByMethodOnASharedPath) {
  const auto router = sample_router();
  auto out = run(router, bhttp::verb::delete_, "/v1/sessions/abc");
  ASSERT_EQ(out.response.result(), bhttp::status::ok);
  EXPECT_EQ(body_of(out.response)["handler"], "cancel_session");
  EXPECT_EQ(out.context.params.at("session_id"), "abc");
}

TEST(Router, StoresTheRouteTemplateNotThePath) {
  const auto router = sample_router();
  auto out = run(router, bhttp::verb::get, "/v1/sessions/abc?x=1");
  EXPECT_EQ(out.context.route, "/v1/sessions/{session_id}");
  out = run(router, bhttp::verb::get, "/v1/clinics/a/visits/b");
  EXPECT_EQ(out.context.route, "/v1/clinics/{clinic_id}/visits/{visit_id}");
}

TEST(Router, IgnoresTheQueryStringForMatching) {
  const auto router = sample_router();
  auto out = run(router, bhttp::verb::get, "/healthz?verbose=1&x=/v1/checkouts");
  ASSERT_EQ(out.response.result(), bhttp::status::ok);
  EXPECT_EQ(body_of(out.response)["handler"], "healthz");

  out = run(router, bhttp::verb::get, "/v1/sessions/abc?session_id=other");
  ASSERT_EQ(out.response.result(), bhttp::status::ok);
  EXPECT_EQ(out.context.params.at("session_id"), "abc");

  out = run(router, bhttp::verb::post, "/v1/checkouts?");
  EXPECT_EQ(body_of(out.response)["handler"], "create");
}

TEST(Router, UnknownPathIsA404Problem) {
  const auto router = sample_router();
  for (const char* target :
       {"/v1/unknown", "/", "/v1", "/v1/checkouts/extra", "/v1/sessions", "/v1/sessions/",
        "/v1/sessions/abc/", "/healthz/", "/HEALTHZ", "/v1/clinics/a/visits"}) {
    auto out = run(router, bhttp::verb::get, target);
    SCOPED_TRACE(target);
    EXPECT_EQ(out.response.result(), bhttp::status::not_found);
    EXPECT_EQ(out.response[bhttp::field::content_type], "application/problem+json");
    const Json problem = body_of(out.response);
    EXPECT_EQ(problem["status"], 404);
    EXPECT_EQ(problem["type"], "https://visitpay.dev/problems/not-found");
    EXPECT_EQ(problem["request_id"], "req-1");
    EXPECT_EQ(out.context.route, "unmatched");
  }
}

TEST(Router, KnownPathWithWrongMethodIsA405WithAllow) {
  const auto router = sample_router();
  auto out = run(router, bhttp::verb::get, "/v1/checkouts");
  EXPECT_EQ(out.response.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(out.response[bhttp::field::allow], "POST");
  EXPECT_EQ(out.response[bhttp::field::content_type], "application/problem+json");
  const Json problem = body_of(out.response);
  EXPECT_EQ(problem["status"], 405);
  EXPECT_EQ(problem["type"], "https://visitpay.dev/problems/method-not-allowed");
  // The template still labels the metrics and logs of a rejected request.
  EXPECT_EQ(out.context.route, "/v1/checkouts");
}

TEST(Router, AllowListsEveryMethodOfThePath) {
  const auto router = sample_router();
  auto out = run(router, bhttp::verb::put, "/v1/sessions/abc?x=1");
  EXPECT_EQ(out.response.result(), bhttp::status::method_not_allowed);
  EXPECT_EQ(out.response[bhttp::field::allow], "GET, HEAD, DELETE");  // HEAD is served by GET
  EXPECT_EQ(out.context.route, "/v1/sessions/{session_id}");
}

TEST(Router, HeadIsServedByTheGetRoute) {
  const auto router = sample_router();
  auto out = run(router, bhttp::verb::head, "/healthz");
  EXPECT_EQ(out.response.result(), bhttp::status::ok);
  EXPECT_EQ(out.context.route, "/healthz");
  // HEAD is not a way around 405 for POST-only paths.
  out = run(router, bhttp::verb::head, "/v1/checkouts");
  EXPECT_EQ(out.response.result(), bhttp::status::method_not_allowed);
}

TEST(Router, EmptySegmentDoesNotMatchAParam) {
  Router r;
  r.add(bhttp::verb::get, "/a/{x}/b", named("x"));
  auto out = run(r, bhttp::verb::get, "/a//b");
  EXPECT_EQ(out.response.result(), bhttp::status::not_found);
  out = run(r, bhttp::verb::get, "/a/1/b");
  EXPECT_EQ(out.response.result(), bhttp::status::ok);
  EXPECT_EQ(out.context.params.at("x"), "1");
}

TEST(Router, FirstRegisteredMatchWins) {
  Router r;
  r.add(bhttp::verb::get, "/v1/sessions/export", named("export"));
  r.add(bhttp::verb::get, "/v1/sessions/{session_id}", named("get_session"));
  EXPECT_EQ(body_of(run(r, bhttp::verb::get, "/v1/sessions/export").response)["handler"], "export");
  EXPECT_EQ(body_of(run(r, bhttp::verb::get, "/v1/sessions/other").response)["handler"],
            "get_session");
}

TEST(Router, RoutesListsWhatWasRegistered) {
  const auto router = sample_router();
  ASSERT_EQ(router.routes().size(), 5u);
  EXPECT_EQ(router.routes()[1].method, bhttp::verb::get);
  EXPECT_EQ(router.routes()[1].pattern, "/v1/sessions/{session_id}");
  EXPECT_EQ(router.routes()[0].method, bhttp::verb::post);
}

TEST(Router, ResponseKeepsTheRequestVersion) {
  Router r;
  Request req{bhttp::verb::get, "/nothing", 10};
  RequestContext ctx;
  std::optional<Response> got;
  boost::asio::io_context ioc;
  boost::asio::co_spawn(ioc, r.dispatch(req, ctx),
                        [&](std::exception_ptr, Response res) { got = std::move(res); });
  ioc.run();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->version(), 10u);
  EXPECT_EQ(got->result(), bhttp::status::not_found);
}

}  // namespace
}  // namespace visitpay::http
