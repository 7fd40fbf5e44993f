// The per-connection half of HttpServer: read a head, check its framing, answer
// 100-continue, read the body, dispatch, write; keep-alive up to the per-connection limit.
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "common/crypto.hpp"
#include "http/problem.hpp"
#include "http/request_head.hpp"
#include "http/server.hpp"
#include "http/server_connection.hpp"

namespace visitpay::http {

using common::ErrorCode;
using common::make_error;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 4096;
// After a rejected request the client may still be sending; what it sends is read and dropped
// for a while before the close, so the kernel does not reset the connection and destroy the
// answer before the client read it (RFC 9112 §9.6).
constexpr std::chrono::milliseconds kLinger{1000};
constexpr std::size_t kLingerBytes = std::size_t{64} * 1024;

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

std::string_view view(const beast::flat_buffer& buffer) {
  return {static_cast<const char*>(buffer.data().data()), buffer.size()};
}

// Beast's parse errors (bad chunk, bad Content-Length ...) are the client's; its end-of-stream
// and I/O errors are a connection going away.
bool is_parse_error(const boost::system::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_chunk).category() &&
         ec != bhttp::error::end_of_stream;
}

common::Error from_parser(const boost::system::error_code& ec, const config::HttpConfig& c) {
  if (ec == bhttp::error::body_limit) {
    return make_error(ErrorCode::payload_too_large,
                      "at most " + std::to_string(c.body_limit_bytes) + " bytes");
  }
  if (ec == bhttp::error::header_limit) {
    return make_error(ErrorCode::headers_too_large,
                      "at most " + std::to_string(c.header_limit_bytes) + " bytes");
  }
  if (ec == bhttp::error::partial_message) {
    return make_error(ErrorCode::bad_request, "the request ended before its body was complete");
  }
  return make_error(ErrorCode::bad_request, "the request is badly framed: " + ec.message());
}

}  // namespace

asio::awaitable<void> HttpServer::serve(tcp::socket socket) {
  auto conn = std::make_shared<Connection>(std::move(socket));
  std::uint64_t id = 0;
  {
    std::lock_guard lock(mutex_);
    id = ++next_id_;
    live_[id] = conn;
  }
  boost::system::error_code peer_ec;
  const auto peer = conn->stream.socket().remote_endpoint(peer_ec);
  if (!peer_ec) conn->peer_address = peer.address().to_string();
  beast::flat_buffer buffer;
  for (unsigned served = 0; !draining_; ++served) {
    if (!co_await serve_one(*conn, buffer, served)) break;
  }
  boost::system::error_code ignored;
  conn->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  conn->stream.close();
  {
    std::lock_guard lock(mutex_);
    live_.erase(id);
  }
  connection_ended();
}

// One request and its answer; false when the connection is to be closed.
asio::awaitable<bool> HttpServer::serve_one(Connection& conn, beast::flat_buffer& buffer,
                                            unsigned served) {
  common::Error error;
  std::size_t head_size = 0;
  conn.idle = buffer.size() == 0;
  const Head head = co_await read_head(conn, buffer, served == 0, error, head_size);
  conn.idle = false;
  if (head == Head::closed) co_return false;
  if (head == Head::invalid) {
    co_await reject(conn, buffer, error, "unknown");
    co_return false;
  }

  bhttp::request_parser<bhttp::string_body> parser;
  // A bank file may be far larger than any JSON request (camt.054 runs ~400 bytes a payment);
  // only its import route takes one.
  constexpr std::size_t kBankFileLimitBytes = std::size_t{64} * 1024 * 1024;
  const std::string_view head_text(static_cast<const char*>(buffer.data().data()), head_size);
  parser.body_limit(head_text.starts_with("POST /v1/bank/imports ")
                        ? std::max(kBankFileLimitBytes, config_.body_limit_bytes)
                        : config_.body_limit_bytes);
  parser.header_limit(static_cast<std::uint32_t>(config_.header_limit_bytes));
  boost::system::error_code ec;
  const auto used = parser.put(asio::buffer(buffer.data().data(), head_size), ec);
  buffer.consume(used);
  if (!ec && !parser.is_header_done()) ec = bhttp::error::need_more;
  HeadFacts facts;
  const std::optional<common::Error> problem =
      ec ? std::optional(from_parser(ec, config_)) : check_head(parser.get(), facts);
  const std::string method(bhttp::to_string(parser.get().method()));
  if (problem) {
    co_await reject(conn, buffer, *problem, method);
    co_return false;
  }

  if (facts.expects_continue && !parser.is_done() && buffer.size() == 0) {
    // The client waits for this before it sends the body (RFC 9110 §10.1.1).
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    conn.stream.expires_after(config_.write_timeout);
    auto [wec, n] = co_await asio::async_write(conn.stream, asio::buffer(kContinue), kAwait);
    if (wec) co_return false;
  }
  if (!parser.is_done()) {
    conn.stream.expires_after(config_.read_timeout);
    auto [rec, n] = co_await bhttp::async_read(conn.stream, buffer, parser, kAwait);
    if (rec && is_parse_error(rec)) {
      co_await reject(conn, buffer, from_parser(rec, config_), method);
      co_return false;
    }
    if (rec) co_return false;  // end of stream, timeout, reset or shutdown: normal ends
  }

  conn.busy = true;
  Request& request = parser.get();
  RequestContext ctx;
  ctx.peer_address = conn.peer_address;
  const auto incoming = request["X-Request-Id"];
  ctx.request_id = safe_request_id(incoming) ? std::string(incoming) : new_request_id();
  const auto started = std::chrono::steady_clock::now();
  Response res = co_await handle(request, ctx);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const bool keep_alive =
      request.keep_alive() && !draining_ && served + 1 < config_.max_requests_per_connection;
  res.keep_alive(keep_alive);
  res.set("X-Request-Id", ctx.request_id);
  if (request.method() == bhttp::verb::head) res.body().clear();
  conn.stream.expires_after(config_.write_timeout);
  auto [wec, written] = co_await bhttp::async_write(conn.stream, res, kAwait);
  conn.busy = false;
  record(method, ctx, res.result_int(), seconds);
  co_return !wec && keep_alive;
}

// Reads until `buffer` holds a whole request head, checking each line as it arrives. Before
// the first byte the wait is bounded by the read timeout (a new connection) or the idle
// timeout (keep-alive); from the first byte the whole head must arrive within the read timeout.
asio::awaitable<HttpServer::Head> HttpServer::read_head(Connection& conn,
                                                        beast::flat_buffer& buffer, bool first,
                                                        common::Error& error,
                                                        std::size_t& head_size) {
  HeadScanner scanner;
  bool started = false;
  conn.stream.expires_after(first ? config_.read_timeout : config_.idle_timeout);
  for (;;) {
    buffer.consume(leading_empty_lines(view(buffer)));
    const auto bytes = view(buffer);
    if (!started && !bytes.empty()) {
      started = true;
      conn.idle = false;
      conn.stream.expires_after(config_.read_timeout);
    }
    const auto state = scanner.scan(bytes);
    if (state == HeadScanner::State::invalid) {
      error = scanner.error();
      co_return Head::invalid;
    }
    if (state == HeadScanner::State::complete) {
      head_size = scanner.head_size();
      co_return Head::ready;
    }
    if (bytes.size() >= config_.header_limit_bytes) {
      error = make_error(ErrorCode::headers_too_large,
                         "at most " + std::to_string(config_.header_limit_bytes) + " bytes");
      co_return Head::invalid;
    }
    auto [ec, n] = co_await conn.stream.async_read_some(buffer.prepare(kReadChunk), kAwait);
    if (ec) co_return Head::closed;
    buffer.commit(n);
  }
}

// Answers a request whose framing cannot be trusted, then drains what the client still sends
// for a moment; the caller closes the connection.
asio::awaitable<void> HttpServer::reject(Connection& conn, beast::flat_buffer& buffer,
                                         const common::Error& error, std::string_view method) {
  RequestContext ctx;
  ctx.request_id = new_request_id();
  ctx.peer_address = conn.peer_address;
  auto res = problem_response(error, ctx, 11);
  res.keep_alive(false);
  res.set("X-Request-Id", ctx.request_id);
  conn.stream.expires_after(config_.write_timeout);
  auto [wec, written] = co_await bhttp::async_write(conn.stream, res, kAwait);
  record(method, ctx, res.result_int(), 0);
  if (wec) co_return;
  boost::system::error_code ignored;
  conn.stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  buffer.clear();
  std::array<char, kReadChunk> sink{};
  std::size_t drained = 0;
  conn.stream.expires_after(kLinger);
  while (drained < kLingerBytes) {
    auto [ec, n] = co_await conn.stream.async_read_some(asio::buffer(sink), kAwait);
    if (ec) break;
    drained += n;
  }
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

void HttpServer::record(std::string_view method, const RequestContext& ctx, unsigned status,
                        double seconds) {
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

}  // namespace visitpay::http
