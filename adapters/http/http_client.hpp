#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.hpp"

namespace visitpay::adapters::http {

// libcurl's global initialisation, once per process (thread-safe): every adapter that makes a
// curl handle calls it first.
void curl_init_once();

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};  // whole exchange, including connect
  std::chrono::milliseconds connect_timeout{3000};
  // False for a request that must not be sent twice and carries no idempotency key (an SMS):
  // it then never goes over a reused connection, which libcurl would silently retry on.
  bool idempotent = true;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
  std::string body;

  // The first header of that name (case-insensitive), or "" when absent.
  std::string header(std::string_view name) const;
  // Retry-After as delta-seconds or an HTTP-date (a date in the past gives 0).
  std::optional<std::chrono::milliseconds> retry_after() const;
};

struct RetryPolicy {
  int max_attempts = 3;
  std::chrono::milliseconds base_delay{200};
  std::chrono::milliseconds max_delay{5000};
};

struct HttpClientOptions {
  std::size_t max_response_bytes = std::size_t{4} << 20;  // larger bodies fail the request
  long max_host_connections = 8;     // keep-alive connections per host (further requests queue)
  long max_total_connections = 64;   // across all hosts
  long max_cached_connections = 32;  // idle connections kept for reuse
};

// The one outbound HTTP client: the libcurl multi interface driven by Asio. Every curl call runs
// on a strand the client owns; sockets are watched with Asio (curl opens and closes them), so no
// thread ever blocks on a request. `send` may be awaited from any executor and resumes there.
//
// Destroy the client while its executor's context is still running (in-flight requests then
// complete with provider_unavailable) or after that context has stopped for good.
class HttpClient {
 public:
  explicit HttpClient(boost::asio::any_io_executor executor);
  HttpClient(boost::asio::any_io_executor executor, HttpClientOptions options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One attempt. Transport failures (connect refused, timeout, reset, oversized response) give
  // Error provider_unavailable; any HTTP status is a response for the caller to classify.
  boost::asio::awaitable<common::Result<HttpResponse>> send(HttpRequest request);

  // Retries transport failures, 5xx and 429 with exponential backoff and full jitter, waiting at
  // least Retry-After (capped by max_delay). Only for idempotent requests or ones carrying an
  // idempotency key. Returns the last response (e.g. a 503) when attempts run out.
  boost::asio::awaitable<common::Result<HttpResponse>> send_with_retries(HttpRequest request,
                                                                         RetryPolicy policy);

  struct Stats {
    std::uint64_t requests = 0;            // attempts started
    std::uint64_t connections_opened = 0;  // TCP sockets curl asked for
    std::uint64_t transport_failures = 0;
    std::uint64_t retries = 0;
  };
  Stats stats() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace visitpay::adapters::http
