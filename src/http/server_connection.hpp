#pragma once

#include <atomic>
#include <boost/beast/core/tcp_stream.hpp>
#include <string>

#include "http/server.hpp"

namespace visitpay::http {

// One client connection, shared between its coroutine (on its strand) and the listener, which
// closes idle connections at the cap and on shutdown. Internal to the server's files.
struct HttpServer::Connection {
  explicit Connection(asio::ip::tcp::socket socket) : stream(std::move(socket)) {}

  beast::tcp_stream stream;
  std::string peer_address;
  bool busy = false;                 // a request is being handled (strand only)
  std::atomic<bool> idle{false};     // waiting for the first byte of a request
  std::atomic<bool> evicted{false};  // chosen to make room; its read is being cancelled
};

}  // namespace visitpay::http
