#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "common/log.hpp"
#include "common/metrics.hpp"
#include "common/result.hpp"
#include "config/config.hpp"
#include "http/router.hpp"

namespace visitpay::http {

// HTTP/1.1 server: one coroutine per connection on its own strand, a fresh parser with body
// and header limits per request, timeouts re-armed for every read and write, keep-alive.
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

 private:
  struct Connection;

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(asio::ip::tcp::socket socket);
  asio::awaitable<Response> handle(Request& request, RequestContext& context);
  void record(const Request& request, const RequestContext& context, unsigned status,
              double seconds);

  asio::io_context& ioc_;
  config::HttpConfig config_;
  const Router& router_;
  common::Metrics& metrics_;
  common::Logger& log_;
  asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> draining_{false};
  std::atomic<std::size_t> connections_{0};
  std::mutex mutex_;
  std::uint64_t next_id_ = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<Connection>> live_;
};

}  // namespace visitpay::http
