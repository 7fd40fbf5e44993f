#include "mock_http_server.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>

#include "mocks/common/text.hpp"

namespace visitpay::mocks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::map<std::string, std::string> parse_pairs(const std::string& text) {
  std::map<std::string, std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('&', start);
    if (end == std::string::npos) end = text.size();
    const std::string pair = text.substr(start, end - start);
    const auto eq = pair.find('=');
    if (!pair.empty()) {
      out[url_decode(pair.substr(0, eq))] =
          eq == std::string::npos ? std::string() : url_decode(pair.substr(eq + 1));
    }
    start = end + 1;
  }
  return out;
}

}  // namespace

std::string url_decode(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() &&
               std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string MockRequest::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::map<std::string, std::string> MockRequest::form() const {
  return parse_pairs(body);
}

MockHttpServer::MockHttpServer(const std::string& host, std::uint16_t port, MockHandler handler)
    : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address(host), port)),
      handler_(std::move(handler)),
      host_(host) {
  port_ = acceptor_.local_endpoint().port();
  acceptor_thread_ = std::thread([this] { accept_loop(); });
}

MockHttpServer::~MockHttpServer() {
  stop();
}

std::string MockHttpServer::base_url() const {
  return "http://" + host_ + ":" + std::to_string(port_);
}

void MockHttpServer::stop() {
  if (stopping_.exchange(true)) return;
  beast::error_code ignored;
  // close() alone does not wake a thread blocked in accept() on Linux; shutdown() does. The
  // socket is closed only after the accept thread is gone, so the two never race.
  ::shutdown(acceptor_.native_handle(), SHUT_RD);
  if (acceptor_thread_.joinable()) acceptor_thread_.join();
  acceptor_.close(ignored);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    for (auto* s : open_sockets_)
      s->shutdown(tcp::socket::shutdown_both, ignored);
    waiting_.clear();
    threads.swap(workers_);
  }
  queued_.notify_all();
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
}

void MockHttpServer::accept_loop() {
  while (!stopping_) {
    beast::error_code ec;
    tcp::socket socket(ioc_);
    acceptor_.accept(socket, ec);
    if (ec) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard lock(mutex_);
    waiting_.push_back(std::move(socket));
    if (waiting_.size() > idle_workers_) {
      workers_.emplace_back([this] { work(); });
    } else {
      queued_.notify_one();
    }
  }
}

void MockHttpServer::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_workers_;
    queued_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
    --idle_workers_;
    if (stopping_) return;
    tcp::socket socket = std::move(waiting_.front());
    waiting_.pop_front();
    lock.unlock();
    serve(std::move(socket));
    lock.lock();
  }
}

void MockHttpServer::serve(tcp::socket socket) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    open_sockets_.push_back(&socket);
  }
  beast::flat_buffer buffer;
  beast::error_code ec;
  std::string remote;
  if (auto ep = socket.remote_endpoint(ec); !ec) remote = ep.address().to_string();
  while (!stopping_) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.body_limit(std::uint64_t{1024} * 1024);
    bhttp::read(socket, buffer, parser, ec);
    if (ec) break;
    const auto& req = parser.get();
    MockRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    const auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) r.query = parse_pairs(r.target.substr(q + 1));
    for (const auto& field : req)
      r.headers[lower_ascii(std::string(field.name_string()))] = field.value();
    r.body = req.body();
    r.remote_address = remote;

    MockResponse out = handler_(r);
    if (out.delay.count() > 0) std::this_thread::sleep_for(out.delay);
    if (out.drop_connection) break;
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(out.status), req.version()};
    res.set(bhttp::field::server, "visitpay-mock");
    if (!out.content_type.empty()) res.set(bhttp::field::content_type, out.content_type);
    for (const auto& [k, v] : out.headers)
      res.set(k, v);
    res.body() = std::move(out.body);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    bhttp::write(socket, res, ec);
    if (ec || !res.keep_alive()) break;
  }
  std::lock_guard lock(mutex_);
  std::erase(open_sockets_, &socket);
  socket.shutdown(tcp::socket::shutdown_both, ec);
}

PostResult http_post(const std::string& url, const std::string& body,
                     const std::string& content_type, std::chrono::milliseconds timeout,
                     const std::vector<std::pair<std::string, std::string>>& headers) {
  PostResult result;
  // http://host:port/path only: mocks call receivers on this machine.
  const std::string prefix = "http://";
  if (url.rfind(prefix, 0) != 0) {
    result.error = "only http:// URLs are supported";
    return result;
  }
  const auto slash = url.find('/', prefix.size());
  const std::string authority = url.substr(prefix.size(), slash - prefix.size());
  const std::string target = slash == std::string::npos ? "/" : url.substr(slash);
  const auto colon = authority.rfind(':');
  const std::string host = authority.substr(0, colon);
  const std::string port = colon == std::string::npos ? "80" : authority.substr(colon + 1);
  // Asynchronous operations on a private io_context: only they honour the stream's deadline.
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  tcp::resolver resolver(ioc);
  bhttp::request<bhttp::string_body> req{bhttp::verb::post, target, 11};
  req.set(bhttp::field::host, authority);
  req.set(bhttp::field::content_type, content_type);
  req.set(bhttp::field::user_agent, "visitpay-mock");
  for (const auto& [k, v] : headers)
    req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  beast::error_code ec;
  auto endpoints = resolver.resolve(host, port, ec);
  if (!ec) {
    stream.expires_after(timeout);
    stream.async_connect(endpoints, [&](beast::error_code connect_ec, const tcp::endpoint&) {
      if (connect_ec) {
        ec = connect_ec;
        return;
      }
      bhttp::async_write(stream, req, [&](beast::error_code write_ec, std::size_t) {
        if (write_ec) {
          ec = write_ec;
          return;
        }
        bhttp::async_read(stream, buffer, res,
                          [&](beast::error_code read_ec, std::size_t) { ec = read_ec; });
      });
    });
    ioc.run();
  }
  if (ec) {
    result.error = ec.message();
  } else {
    result.status = static_cast<int>(res.result_int());
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return result;
}

}  // namespace visitpay::mocks
