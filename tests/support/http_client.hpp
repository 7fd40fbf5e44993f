#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace visitpay::testing {

struct HttpReply {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
};

// A blocking HTTP/1.1 client for tests (one connection per request unless kept).
HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body = {},
                       const std::map<std::string, std::string>& headers = {});

}  // namespace visitpay::testing
