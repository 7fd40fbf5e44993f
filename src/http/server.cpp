#include "http/server.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>

#include "http/server_connection.hpp"

namespace visitpay::http {

using common::ErrorCode;
using common::make_error;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

// Accept failures that are not about one client (out of descriptors or memory) repeat at once
// when retried: back off, from this to that, instead of spinning.
constexpr milliseconds kMinBackoff{50};
constexpr milliseconds kMaxBackoff{500};

// Descriptors the process needs besides client connections: database pool, outbound HTTP,
// log, epoll, timers, files. The connection cap is lowered so clients cannot take them.
constexpr std::size_t kReservedDescriptors = 64;

std::size_t descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<std::size_t>(limit.rlim_cur);
}

}  // namespace

HttpServer::HttpServer(asio::io_context& ioc, const config::HttpConfig& config,
                       const Router& router, common::Metrics& metrics, common::Logger& log)
    : ioc_(ioc),
      config_(config),
      router_(router),
      metrics_(metrics),
      log_(log),
      acceptor_(asio::make_strand(ioc)),
      slot_timer_(acceptor_.get_executor()),
      cap_(config.max_connections) {
  metrics_.describe("http_requests_total", common::Metrics::Type::counter,
                    "HTTP requests by route template, method and status");
  metrics_.describe("http_request_duration_seconds", common::Metrics::Type::histogram,
                    "HTTP request handling time by route template, method and status");
  metrics_.describe("http_connections_evicted_total", common::Metrics::Type::counter,
                    "Idle connections closed to make room at the connection cap");
  metrics_.describe("http_accept_backoffs_total", common::Metrics::Type::counter,
                    "Accept failures (e.g. out of descriptors) that paused accepting");
  metrics_.add_collector([this](std::string& out) {
    out += "# HELP http_connections Client connections open and the cap in force\n";
    out += "# TYPE http_connections gauge\n";
    out += "http_connections{state=\"open\"} " + std::to_string(connections_.load()) + "\n";
    out += "http_connections{state=\"cap\"} " + std::to_string(cap_) + "\n";
  });
}

common::Result<std::uint16_t> HttpServer::listen() {
  if (const auto fds = descriptor_limit(); fds > 0) {
    const std::size_t fit = fds > 2 * kReservedDescriptors ? fds - kReservedDescriptors : fds / 2;
    if (fit < cap_) {
      log_.warn(
          "http.connection_cap_lowered",
          {{"max_connections", config_.max_connections}, {"descriptor_limit", fds}, {"cap", fit}});
      cap_ = fit;
    }
  }
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

// Runs on the acceptor's strand.
asio::awaitable<void> HttpServer::accept_loop() {
  milliseconds backoff = kMinBackoff;
  while (!draining_) {
    if (connections_.load() >= cap_) {
      co_await make_room();
      continue;
    }
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), kAwait);
    if (ec) {
      if (ec == asio::error::operation_aborted || draining_) break;
      // A client that gave up before it was accepted says nothing about us: go on. Anything
      // else (EMFILE, ENFILE, ENOBUFS, ENOMEM) would fail again at once.
      if (ec == asio::error::connection_aborted) continue;
      metrics_.add("http_accept_backoffs_total", "");
      log_.warn("http.accept_failed", {{"error", ec.message()},
                                       {"backoff_ms", static_cast<long>(backoff.count())},
                                       {"open_connections", connections_.load()}});
      waiting_for_slot_ = true;
      evict_idle_connection();          // frees a descriptor when the clients hold them all
      co_await wait_for_slot(backoff);  // a connection that ends frees a descriptor too
      waiting_for_slot_ = false;
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    backoff = kMinBackoff;
    connections_++;  // counted before the coroutine starts, so the cap holds
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serve(std::move(socket)), asio::detached);
  }
}

// At the cap: once a client waits in the backlog, the oldest idle connection is closed to make
// room for it; with none idle, the client waits until a connection ends.
asio::awaitable<void> HttpServer::make_room() {
  auto [ec] = co_await acceptor_.async_wait(tcp::acceptor::wait_read, kAwait);
  if (draining_ || ec == asio::error::operation_aborted) co_return;
  waiting_for_slot_ = true;
  if (!ec) evict_idle_connection();
  if (connections_.load() >= cap_) co_await wait_for_slot(ec ? kMaxBackoff : milliseconds(1000));
  waiting_for_slot_ = false;
}

asio::awaitable<void> HttpServer::wait_for_slot(milliseconds at_most) {
  slot_timer_.expires_after(at_most);
  co_await slot_timer_.async_wait(kAwait);  // cancelled by connection_ended()
}

void HttpServer::connection_ended() {
  connections_--;
  if (waiting_for_slot_) {
    asio::post(acceptor_.get_executor(), [this] { slot_timer_.cancel(); });
  }
}

// The oldest connection that is waiting for a request is closed (a keep-alive connection
// between requests, or one that never sent anything); busy ones, and ones whose request has
// arrived but is not yet read, are never cut.
bool HttpServer::evict_idle_connection() {
  std::lock_guard lock(mutex_);
  for (auto& [id, weak] : live_) {
    auto conn = weak.lock();
    if (!conn || !conn->idle || conn->evicted.exchange(true)) continue;
    asio::post(conn->stream.get_executor(), [conn] {
      // Bytes already in the kernel's buffer are a request the loop has not read yet.
      boost::system::error_code ec;
      const bool unread = conn->stream.socket().available(ec) > 0;
      if (conn->idle && !unread) {
        conn->stream.cancel();
      } else {
        conn->evicted = false;  // a request arrived meanwhile: it stays
      }
    });
    metrics_.add("http_connections_evicted_total", "");
    return true;
  }
  return false;
}

asio::awaitable<void> HttpServer::shutdown() {
  draining_ = true;
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    slot_timer_.cancel();
  });
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
    timer.expires_after(milliseconds(20));
    co_await timer.async_wait(kAwait);
  }
  log_.info("http.drained", {{"open_connections", connections_.load()}});
}

}  // namespace visitpay::http
