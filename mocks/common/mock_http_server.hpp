#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/html.hpp"

namespace visitpay::mocks {

// What a mock sees of a request. Header names are lower-case.
struct MockRequest {
  std::string method;
  std::string target;  // path and query as sent
  std::string path;
  std::map<std::string, std::string> query;  // decoded
  std::map<std::string, std::string> headers;
  std::string body;
  std::string remote_address;

  std::string header(const std::string& lower_case_name) const;
  // application/x-www-form-urlencoded body, decoded.
  std::map<std::string, std::string> form() const;
};

struct MockResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds delay{0};  // answer late (timeout faults)
  bool drop_connection = false;        // close without answering (a lost response)
};

using MockHandler = std::function<MockResponse(const MockRequest&)>;

// A small blocking HTTP/1.1 server for mock providers: one thread accepts, and each connection is
// served by a worker thread of its own while it lasts (keep-alive supported). Workers are kept
// for the next connection rather than started afresh: the service opens a connection per
// request that must not be repeated, so a benchmark would otherwise start thousands of threads.
class MockHttpServer {
 public:
  MockHttpServer(const std::string& host, std::uint16_t port, MockHandler handler);
  ~MockHttpServer();
  MockHttpServer(const MockHttpServer&) = delete;
  MockHttpServer& operator=(const MockHttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string base_url() const;  // http://host:port
  void stop();

 private:
  void accept_loop();
  void work();  // a worker: serves queued connections one after the other
  void serve(boost::asio::ip::tcp::socket socket);

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  MockHandler handler_;
  std::string host_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_thread_;
  std::mutex mutex_;
  std::condition_variable queued_;
  std::deque<boost::asio::ip::tcp::socket> waiting_;  // accepted, not yet served
  std::size_t idle_workers_ = 0;
  std::vector<std::thread> workers_;
  std::vector<boost::asio::ip::tcp::socket*> open_sockets_;
};

// Blocking outbound POST for callbacks and delivery reports. Returns the HTTP status, or 0 with
// `error` set when the receiver could not be reached in time.
struct PostResult {
  int status = 0;
  std::string error;
};
PostResult http_post(const std::string& url, const std::string& body,
                     const std::string& content_type, std::chrono::milliseconds timeout,
                     const std::vector<std::pair<std::string, std::string>>& headers = {});

std::string url_decode(const std::string& text);
using common::html_escape;  // the service's own (src/common/html.hpp)

}  // namespace visitpay::mocks
