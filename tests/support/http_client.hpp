#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace visitpay::testing {

struct HttpReply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// One HTTP/1.1 exchange on a fresh connection to 127.0.0.1:port, bounded by `timeout` overall.
// nullopt when no answer came (refused, closed, timed out); `error` then says why.
std::optional<HttpReply> try_http_request(std::uint16_t port, const std::string& method,
                                          const std::string& target, const std::string& body,
                                          const std::map<std::string, std::string>& headers,
                                          std::chrono::milliseconds timeout,
                                          std::string* error = nullptr);

// As try_http_request with a 30 s bound, for exchanges that must be answered: throws if not.
HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body = {},
                       const std::map<std::string, std::string>& headers = {});

}  // namespace visitpay::testing
