// Raw bytes into the real HTTP server: http::HttpServer (connection.cpp: head scanning,
// request_head checks, Beast's parser with the body and header limits, 100-continue, keep-alive
// and pipelining, the reject-and-linger path) on 127.0.0.1, with a Router holding routes that
// need no database: the check-out body parser and validation, a path parameter, the Swedbank Pay
// callback parser. Each input is one connection: the bytes are sent, the write side shut, and
// everything the server answers read until it closes.
//
// Checked: the server answers with well-formed HTTP/1.1 responses, each with an X-Request-Id,
// never 500 (a handler exception), and always closes the connection (no hang).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "adapters/payment/swedbankpay/callback.hpp"
#include "common/log.hpp"
#include "common/metrics.hpp"
#include "config/config.hpp"
#include "domain/checkout.hpp"
#include "http/checkout_json.hpp"
#include "http/json_body.hpp"
#include "http/problem.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

namespace http = visitpay::http;
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using visitpay::common::ErrorCode;
using visitpay::common::make_error;

// POST /v1/checkouts as routes.cpp reads it, minus authentication and the store.
asio::awaitable<http::Response> checkout(const http::Request& req, http::RequestContext& ctx) {
  auto document = http::parse_json(req.body());
  if (auto* error = std::get_if<visitpay::common::Error>(&document)) {
    co_return http::problem_response(*error, ctx, req.version());
  }
  auto parsed = http::parse_checkout(std::get<nlohmann::json>(document));
  std::vector<visitpay::common::FieldError> meaning;
  visitpay::domain::validate_checkout(
      parsed.request, {}, [](std::string_view id) { return id == "oslo-sentrum"; },
      std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now()),
      meaning);
  http::merge_field_errors(parsed.errors, std::move(meaning));
  if (!parsed.errors.empty()) {
    co_return http::problem_response(http::invalid(std::move(parsed.errors)), ctx, req.version());
  }
  co_return http::json_response(bhttp::status::created, R"({"state":"pending"})", req.version());
}

asio::awaitable<http::Response> session(const http::Request& req, http::RequestContext& ctx) {
  const bool known = ctx.params["session_id"] == "018f3b0e-6c1f-7a3e-9c1a-2b3c4d5e6f70";
  if (!known)
    co_return http::problem_response(make_error(ErrorCode::not_found), ctx, req.version());
  co_return http::json_response(bhttp::status::ok, R"({"state":"paid"})", req.version());
}

asio::awaitable<http::Response> payment_callback(const http::Request& req,
                                                 http::RequestContext& ctx) {
  auto callback = visitpay::adapters::payment::swedbankpay::parse_callback(req.body());
  if (!callback) co_return http::problem_response(callback.error(), ctx, req.version());
  http::Response res{bhttp::status::no_content, req.version()};
  res.prepare_payload();
  co_return res;
}

asio::awaitable<http::Response> health(const http::Request& req, http::RequestContext&) {
  co_return http::json_response(bhttp::status::ok, R"({"status":"ok"})", req.version());
}

struct Fixture {
  asio::io_context ioc{1};
  http::Router router;
  visitpay::common::Metrics metrics;
  visitpay::common::Logger log{visitpay::common::LogLevel::error, [](std::string_view) {}};
  visitpay::config::HttpConfig config;
  std::unique_ptr<http::HttpServer> server;
  std::uint16_t port = 0;
  std::thread thread;
};

Fixture* g_fixture = nullptr;  // never destroyed: the server thread runs until exit

// A connected socket to the server. Each connection comes from the next of 250 loopback source
// addresses (127.0.0.2 to 127.0.0.251), so the server's closed connections waiting out TIME_WAIT
// do not use up one address's ephemeral ports at hundreds of connections a second. A connect
// that still fails for want of a port is tried again for up to 10 s; past that it is a finding.
int connect_to_server() {
  static std::uint32_t next_source = 0;
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(g_fixture->port);
  server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    FUZZ_CHECK(fd >= 0);
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + (next_source++ % 250));
    const int defer_port = 1;  // the port is chosen by connect, for this 4-tuple
    ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &defer_port, sizeof defer_port);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) == 0 &&
        ::connect(fd, reinterpret_cast<sockaddr*>(&server), sizeof server) == 0) {
      return fd;
    }
    const int error = errno;
    ::close(fd);
    if (error != EADDRNOTAVAIL && error != EADDRINUSE && error != EAGAIN && error != EINTR) {
      std::fprintf(stderr, "connect: %s\n", std::strerror(error));
      FUZZ_CHECK(false);
    }
    ::usleep(10'000);
  }
  std::fprintf(stderr, "connect: no local port for 10 s\n");
  FUZZ_CHECK(false);
  return -1;
}

std::string exchange(std::string_view request) {
  const int fd = connect_to_server();
  // Closed with a reset where the exchange did not end cleanly (a timeout), so a hung server
  // connection does not linger on our side.
  const linger abort_on_close{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  // Longer than any server timeout: past it the server has hung.
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  std::size_t sent = 0;
  while (sent < request.size()) {
    const auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server closed early (a rejected head): fine
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  char buf[16384];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      FUZZ_CHECK(errno != EAGAIN && errno != EWOULDBLOCK);  // the server never closed
      break;                                                // reset: fine
    }
    answer.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return answer;
}

// Every response in `answer` parses; none is a 500; each final one carries X-Request-Id.
void check_answer(std::string_view answer) {
  while (!answer.empty()) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    parser.body_limit(1024 * 1024);
    boost::system::error_code ec;
    std::size_t used = 0;
    while (!parser.is_done()) {
      const auto n = parser.put(asio::buffer(answer.data() + used, answer.size() - used), ec);
      used += n;
      if (ec == bhttp::error::need_more && used < answer.size()) continue;
      break;
    }
    FUZZ_CHECK(!ec && parser.is_done());
    const auto& res = parser.get();
    FUZZ_CHECK(res.version() == 11 || res.version() == 10);  // 1.0 answered in kind
    FUZZ_CHECK(res.result() != bhttp::status::internal_server_error);
    if (res.result_int() >= 200) FUZZ_CHECK(!res["X-Request-Id"].empty());
    answer.remove_prefix(used);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  g_fixture = new Fixture;
  auto& f = *g_fixture;
  f.router.add(bhttp::verb::post, "/v1/checkouts", checkout);
  f.router.add(bhttp::verb::get, "/v1/sessions/{session_id}", session);
  f.router.add(bhttp::verb::post, "/v1/webhooks/payment/{provider}/{token}", payment_callback);
  f.router.add(bhttp::verb::get, "/healthz", health);
  f.config.host = "127.0.0.1";
  f.config.port = 0;
  f.config.body_limit_bytes = 16 * 1024;
  f.config.header_limit_bytes = 4 * 1024;
  f.config.read_timeout = std::chrono::seconds(2);
  f.config.write_timeout = std::chrono::seconds(2);
  f.config.idle_timeout = std::chrono::seconds(2);
  f.config.max_requests_per_connection = 8;
  f.server = std::make_unique<http::HttpServer>(f.ioc, f.config, f.router, f.metrics, f.log);
  auto port = f.server->listen();
  if (!port) std::abort();
  f.port = *port;
  f.server->start();
  f.thread = std::thread([&f] { f.ioc.run(); });
  f.thread.detach();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view request(reinterpret_cast<const char*>(data), size);
  const std::string answer = exchange(request);
  // A HEAD answer has a Content-Length but no body: a parser that does not know which answers
  // were to HEAD cannot split the stream, so only the start is checked then.
  if (request.find("HEAD") == std::string_view::npos) {
    check_answer(answer);
  } else if (!answer.empty()) {
    FUZZ_CHECK(answer.rfind("HTTP/1.1 ", 0) == 0 || answer.rfind("HTTP/1.0 ", 0) == 0);
  }
  return 0;
}
