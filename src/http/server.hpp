#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <map>
#include <memory>
#include <mutex>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"
#include "config/config.hpp"
#include "http/router.hpp"

namespace visitpay::http {

// HTTP/1.1 server: one coroutine per connection on its own strand, a fresh parser with body
// and header limits per request, timeouts re-armed for every read and write, keep-alive.
//
// Hardened against a single client (issue 15):
// - at most max_connections at once: at the cap, when a client waits in the kernel's backlog,
//   the oldest idle connection (one waiting for a request) is closed to make room; with none
//   idle the listener stops accepting until a connection ends;
// - out of descriptors (EMFILE/ENFILE) the listener backs off 50 ms doubling to 500 ms instead
//   of spinning on accept;
// - at most max_requests_per_connection on one keep-alive connection, idle ones closed after
//   idle_timeout;
// - a request whose framing is in doubt (request_head.hpp) is answered with a problem and the
//   connection closed.
class HttpServer {
 public:
  HttpServer(asio::io_context& ioc, const config::HttpConfig& config, const Router& router,
             common::Metrics& metrics, common::Logger& log);

  // Binds and listens; returns the bound port (useful with port 0 in tests).
  common::Result<std::uint16_t> listen();
  void start();

  // Stops accepting, closes idle keep-alive connections, lets in-flight requests finish
  // (their responses carry "Connection: close") and completes once every connection is gone
  // or the grace period passed.
  asio::awaitable<void> shutdown();

  std::size_t open_connections() const { return connections_.load(); }
  // The cap in force: max_connections, lowered to fit the process's descriptor limit.
  std::size_t connection_cap() const { return cap_; }

 private:
  struct Connection;
  enum class Head { ready, closed, invalid };

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> make_room();
  asio::awaitable<void> wait_for_slot(std::chrono::milliseconds at_most);
  bool evict_idle_connection();
  void connection_ended();

  asio::awaitable<void> serve(asio::ip::tcp::socket socket);
  asio::awaitable<bool> serve_one(Connection& conn, beast::flat_buffer& buffer, unsigned served);
  asio::awaitable<Head> read_head(Connection& conn, beast::flat_buffer& buffer, bool first,
                                  common::Error& error, std::size_t& head_size);
  asio::awaitable<void> reject(Connection& conn, beast::flat_buffer& buffer,
                               const common::Error& error, std::string_view method);
  asio::awaitable<Response> handle(Request& request, RequestContext& context);
  void record(std::string_view method, const RequestContext& context, unsigned status,
              double seconds);

  asio::io_context& ioc_;
  config::HttpConfig config_;
  const Router& router_;
  common::Metrics& metrics_;
  common::Logger& log_;
  asio::ip::tcp::acceptor acceptor_;  // on its own strand, with slot_timer_
  asio::steady_timer slot_timer_;     // the accept loop's waits: a free slot or a back-off
  std::size_t cap_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<bool> waiting_for_slot_{false};
  std::atomic<std::size_t> connections_{0};
  std::mutex mutex_;
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, std::weak_ptr<Connection>> live_;  // oldest first
};

}  // namespace visitpay::http
