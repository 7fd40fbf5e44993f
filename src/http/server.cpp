#include "http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "common/crypto.hpp"
#include "http/problem.hpp"

namespace visitpay::http {

using common::ErrorCode;
using common::make_error;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

bool safe_request_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

// A random per-process prefix and a counter: unique across instances and restarts, and cheap
// (request ids need no secrecy).
std::string new_request_id() {
  static const std::string prefix = common::to_hex(common::random_bytes(6));
  static std::atomic<std::uint64_t> counter{0};
  return prefix + "-" + std::to_string(++counter);
}

}  // namespace

// Shared between a connection's coroutine and shutdown(); touched only on the connection strand.
struct HttpServer::Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  bool busy = false;
};

HttpServer::HttpServer(asio::io_context& ioc, const config::HttpConfig& config,
                       const Router& router, common::Metrics& metrics, common::Logger& log)
    : ioc_(ioc), config_(config), router_(router), metrics_(metrics), log_(log), acceptor_(ioc) {
  metrics_.describe("http_requests_total", common::Metrics::Type::counter,
                    "HTTP requests by route template, method and status");
  metrics_.describe("http_request_duration_seconds", common::Metrics::Type::histogram,
                    "HTTP request handling time by route template, method and status");
}

common::Result<std::uint16_t> HttpServer::listen() {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(config_.host, ec);
  if (ec)
    return make_error(ErrorCode::bad_request,
                      "listen address " + config_.host + ": " + ec.message());
  const tcp::endpoint endpoint(address, config_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return make_error(ErrorCode::internal_error, "cannot listen on " + config_.host + ":" +
                                                     std::to_string(config_.port) + ": " +
                                                     ec.message());
  }
  return acceptor_.local_endpoint().port();
}

void HttpServer::start() {
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

asio::awaitable<void> HttpServer::accept_loop() {
  while (!draining_) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), kAwait);
    if (ec) {
      if (ec == asio::error::operation_aborted || draining_) break;
      log_.warn("http.accept_failed", {{"error", ec.message()}});
      continue;
    }
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> HttpServer::serve(tcp::socket socket) {
  auto conn = std::make_shared<Connection>(std::move(socket));
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = ++next_id_;
    live_[id] = conn;
  }
  connections_++;
  boost::system::error_code peer_ec;
  const auto peer = conn->stream.socket().remote_endpoint(peer_ec);
  const std::string peer_address = peer_ec ? std::string() : peer.address().to_string();
  beast::flat_buffer buffer;
  for (bool first = true;; first = false) {
    if (draining_) break;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(config_.body_limit_bytes);
    parser.header_limit(static_cast<std::uint32_t>(config_.header_limit_bytes));
    conn->stream.expires_after(first ? config_.read_timeout : config_.idle_timeout);
    auto [ec, bytes] = co_await bhttp::async_read(conn->stream, buffer, parser, kAwait);
    if (ec == bhttp::error::body_limit || ec == bhttp::error::header_limit) {
      // Answer what we can, then close: the rest of the body is not worth reading.
      RequestContext ctx;
      ctx.request_id = new_request_id();
      const bool body = ec == bhttp::error::body_limit;
      auto res = problem_response(
          make_error(body ? ErrorCode::payload_too_large : ErrorCode::headers_too_large,
                     body ? "at most " + std::to_string(config_.body_limit_bytes) + " bytes"
                          : "at most " + std::to_string(config_.header_limit_bytes) + " bytes"),
          ctx, 11);
      res.keep_alive(false);
      res.set("X-Request-Id", ctx.request_id);
      conn->stream.expires_after(config_.write_timeout);
      co_await bhttp::async_write(conn->stream, res, kAwait);
      record(parser.get(), ctx, res.result_int(), 0);  // headers (method) are known for 413
      break;
    }
    if (ec) break;  // end_of_stream, timeout, reset or cancelled by shutdown: all normal ends

    conn->busy = true;
    Request& request = parser.get();
    RequestContext ctx;
    ctx.peer_address = peer_address;
    const auto incoming = request["X-Request-Id"];
    ctx.request_id = safe_request_id(incoming) ? std::string(incoming) : new_request_id();
    const auto started = std::chrono::steady_clock::now();
    Response res = co_await handle(request, ctx);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const bool keep_alive = request.keep_alive() && !draining_;
    res.keep_alive(keep_alive);
    res.set("X-Request-Id", ctx.request_id);
    if (request.method() == bhttp::verb::head) res.body().clear();
    conn->stream.expires_after(config_.write_timeout);
    auto [wec, written] = co_await bhttp::async_write(conn->stream, res, kAwait);
    conn->busy = false;
    record(request, ctx, res.result_int(), seconds);
    if (wec || !keep_alive) break;
  }
  boost::system::error_code ignored;
  conn->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  conn->stream.close();
  {
    std::lock_guard lock(mutex_);
    live_.erase(id);
  }
  connections_--;
}

asio::awaitable<Response> HttpServer::handle(Request& request, RequestContext& context) {
  if (draining_) {
    co_return problem_response(make_error(ErrorCode::shutting_down), context, request.version());
  }
  try {
    co_return co_await router_.dispatch(request, context);
  } catch (const std::exception&) {
    // Handlers report failures as values; an exception here is a bug, never the client's fault.
    log_.error("http.handler_exception",
               {{"request_id", context.request_id}, {"route", context.route}});
  }
  co_return problem_response(make_error(ErrorCode::internal_error), context, request.version());
}

void HttpServer::record(const Request& request, const RequestContext& ctx, unsigned status,
                        double seconds) {
  const std::string method(bhttp::to_string(request.method()));
  const std::string labels = common::Metrics::label("route", ctx.route) + "," +
                             common::Metrics::label("method", method) + "," +
                             common::Metrics::label("status", std::to_string(status));
  metrics_.add("http_requests_total", labels);
  metrics_.observe("http_request_duration_seconds", labels, seconds);
  log_.info("http.request", {{"request_id", ctx.request_id},
                             {"method", method},
                             {"route", ctx.route},
                             {"status", status},
                             {"duration_ms", seconds * 1000.0}});
}

asio::awaitable<void> HttpServer::shutdown() {
  draining_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  {
    std::lock_guard lock(mutex_);
    for (auto& [id, weak] : live_) {
      if (auto conn = weak.lock()) {
        // Only idle connections are cut; busy ones finish their response first.
        asio::post(conn->stream.get_executor(), [conn] {
          if (!conn->busy) conn->stream.cancel();
        });
      }
    }
  }
  asio::steady_timer timer(ioc_);
  const auto deadline = std::chrono::steady_clock::now() + config_.shutdown_grace;
  while (connections_ > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(kAwait);
  }
  log_.info("http.drained", {{"open_connections", connections_.load()}});
}

}  // namespace visitpay::http
