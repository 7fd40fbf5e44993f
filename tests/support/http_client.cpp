#include "http_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <stdexcept>

namespace visitpay::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

std::optional<HttpReply> try_http_request(std::uint16_t port, const std::string& method,
                                          const std::string& target, const std::string& body,
                                          const std::map<std::string, std::string>& headers,
                                          std::chrono::milliseconds timeout, std::string* error) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers)
    req.set(k, v);
  if (!body.empty() || method == "POST") {
    req.body() = body;
    req.prepare_payload();
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  beast::error_code ec;
  // Beast's deadline bounds asynchronous operations only, hence the callback chain.
  stream.expires_after(timeout);
  stream.async_connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
      [&](beast::error_code connect_ec) {
        if ((ec = connect_ec)) return;
        bhttp::async_write(stream, req, [&](beast::error_code write_ec, std::size_t) {
          if ((ec = write_ec)) return;
          bhttp::async_read(stream, buffer, parser,
                            [&](beast::error_code read_ec, std::size_t) { ec = read_ec; });
        });
      });
  ioc.run();
  if (ec) {
    if (error) *error = ec.message();
    return std::nullopt;
  }
  auto& res = parser.get();
  HttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  reply.body = res.body();
  for (const auto& field : res) {
    std::string name(field.name_string());
    for (auto& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers[name] = std::string(field.value());
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  return reply;
}

HttpReply http_request(std::uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body, const std::map<std::string, std::string>& headers) {
  std::string error;
  auto reply =
      try_http_request(port, method, target, body, headers, std::chrono::seconds(30), &error);
  if (!reply) throw std::runtime_error(method + " " + target + ": " + error);
  return std::move(*reply);
}

}  // namespace visitpay::testing
