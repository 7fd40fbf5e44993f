#include "mocks/smtp/smtp_mock.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <istream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/html.hpp"
#include "mocks/common/text.hpp"

namespace visitpay::mocks {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Json = nlohmann::json;

namespace {

bool starts_with_ci(const std::string& line, const std::string& prefix) {
  return line.size() >= prefix.size() &&
         lower_ascii(line.substr(0, prefix.size())) == lower_ascii(prefix);
}

std::string quoted_printable_decode(std::string_view text) {
  std::string out;
  auto hex = [&text](std::size_t at) {
    return at + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[at + 1])) &&
           std::isxdigit(static_cast<unsigned char>(text[at + 2]));
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '=' && text.substr(i + 1, 2) == "\r\n") {
      i += 2;  // soft line break
    } else if (text[i] == '=' && hex(i)) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// =?UTF-8?B?...?= words (the only kind the service writes) decoded; the rest kept.
std::string decode_words(const std::string& value) {
  std::string out;
  std::size_t at = 0;
  while (at < value.size()) {
    const auto start = value.find("=?", at);
    if (start == std::string::npos) break;
    const auto end = value.find("?=", start + 2);
    const auto b =
        lower_ascii(value.substr(start, 10)) == "=?utf-8?b?" ? start + 10 : std::string::npos;
    if (end == std::string::npos || b == std::string::npos || end < b) break;
    std::string between = value.substr(at, start - at);
    if (!std::all_of(between.begin(), between.end(), [](char c) { return std::isspace(c); }))
      out += between;
    out += base64_decode(std::string_view(value).substr(b, end - b)).value_or("");
    at = end + 2;
  }
  return out + value.substr(at);
}

// Headers of an entity (up to the first empty line), unfolded, names lower-case.
std::vector<std::pair<std::string, std::string>> parse_headers(std::string_view entity,
                                                               std::string_view* body) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto end = entity.find("\r\n\r\n");
  const std::string_view head = entity.substr(0, end);
  if (body) *body = end == std::string_view::npos ? std::string_view() : entity.substr(end + 4);
  std::size_t at = 0;
  while (at < head.size()) {
    auto eol = head.find("\r\n", at);
    if (eol == std::string_view::npos) eol = head.size();
    const std::string line(head.substr(at, eol - at));
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !out.empty()) {
      out.back().second += line;  // unfolding removes only the line break (RFC 5322 § 2.2.3)
    } else if (const auto colon = line.find(':'); colon != std::string::npos) {
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      out.emplace_back(lower_ascii(line.substr(0, colon)), value);
    }
    at = eol + 2;
  }
  return out;
}

std::string find_header(const std::vector<std::pair<std::string, std::string>>& headers,
                        const std::string& name) {
  for (const auto& [key, value] : headers) {
    if (key == lower_ascii(name)) return value;
  }
  return "";
}

std::string parameter(const std::string& header_value, const std::string& name) {
  const auto at = lower_ascii(header_value).find(name + "=");
  if (at == std::string::npos) return "";
  std::string value = header_value.substr(at + name.size() + 1);
  if (!value.empty() && value[0] == '"') return value.substr(1, value.find('"', 1) - 1);
  return value.substr(0, value.find(';'));
}

struct Part {
  std::string content_type;
  std::string file_name;
  std::string body;  // decoded
};

std::vector<Part> parts(const std::string& data) {
  std::string_view body;
  const auto headers = parse_headers(data, &body);
  const std::string boundary = parameter(find_header(headers, "content-type"), "boundary");
  std::vector<Part> out;
  if (boundary.empty()) return out;
  const std::string delimiter = "--" + boundary;
  std::size_t at = body.find(delimiter);
  while (at != std::string_view::npos) {
    const auto start = body.find("\r\n", at);
    const auto next = body.find("\r\n" + delimiter, start);
    if (start == std::string_view::npos || next == std::string_view::npos) break;
    std::string_view part_body;
    const auto h = parse_headers(body.substr(start + 2, next - start - 2), &part_body);
    const std::string encoding = lower_ascii(find_header(h, "content-transfer-encoding"));
    Part p{find_header(h, "content-type"),
           parameter(find_header(h, "content-disposition"), "filename"),
           encoding == "base64"             ? base64_decode(part_body).value_or("")
           : encoding == "quoted-printable" ? quoted_printable_decode(part_body)
                                            : std::string(part_body)};
    out.push_back(std::move(p));
    at = next + 2;
  }
  return out;
}

std::string reply_text(int code, const std::string& about) {
  const std::string cls = code >= 500 ? "5" : "4";
  return std::to_string(code) + " " + cls +
         ".0.0 mock: " + (code >= 500 ? "refused " : "try again later ") + about + "\r\n";
}

}  // namespace

std::string SmtpMock::Message::header(const std::string& name) const {
  return find_header(parse_headers(data, nullptr), name);
}

std::string SmtpMock::Message::subject() const {
  return decode_words(header("subject"));
}

std::string SmtpMock::Message::text() const {
  for (const auto& p : parts(data)) {
    if (lower_ascii(p.content_type).rfind("text/plain", 0) == 0) return p.body;
  }
  return "";
}

std::optional<std::string> SmtpMock::Message::attachment(std::string* file_name) const {
  for (auto& p : parts(data)) {
    if (p.file_name.empty()) continue;
    if (file_name) *file_name = p.file_name;
    return std::move(p.body);
  }
  return std::nullopt;
}

SmtpMock::SmtpMock(SmtpMockOptions options)
    : options_(std::move(options)),
      acceptor_(ioc_, tcp::endpoint(asio::ip::make_address(options_.host), options_.smtp_port)) {
  smtp_port_ = acceptor_.local_endpoint().port();
  if (!options_.tls_cert_file.empty()) {
    tls_ = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    tls_->use_certificate_chain_file(options_.tls_cert_file);
    tls_->use_private_key_file(options_.tls_key_file, asio::ssl::context::pem);
  }
  http_ = std::make_unique<MockHttpServer>(options_.host, options_.http_port,
                                           [this](const MockRequest& r) { return handle_http(r); });
  acceptor_thread_ = std::thread([this] { accept_loop(); });
}

SmtpMock::~SmtpMock() {
  stopping_ = true;
  http_->stop();
  ::shutdown(acceptor_.native_handle(), SHUT_RD);
  if (acceptor_thread_.joinable()) acceptor_thread_.join();
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    for (auto& s : sockets_)
      s->shutdown(tcp::socket::shutdown_both, ignored);
    threads.swap(threads_);
  }
  for (auto& t : threads) {
    if (t.joinable()) t.join();
  }
}

std::string SmtpMock::base_url() const {
  return http_->base_url();
}

std::string SmtpMock::smtp_url() const {
  return "smtp://" + options_.host + ":" + std::to_string(smtp_port_);
}

std::vector<SmtpMock::Message> SmtpMock::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

void SmtpMock::clear() {
  std::lock_guard lock(mutex_);
  messages_.clear();
}

void SmtpMock::inject(const std::string& stage, int code, int count) {
  static const std::vector<std::string> kStages{"connect", "mail", "rcpt", "data"};
  if (std::find(kStages.begin(), kStages.end(), stage) == kStages.end() || code < 400 ||
      code > 599 || count < 1) {
    throw std::invalid_argument("fault: stage connect|mail|rcpt|data, code 400-599, count >= 1");
  }
  std::lock_guard lock(mutex_);
  for (int i = 0; i < count; ++i)
    faults_.push_back({stage, code});
}

std::optional<int> SmtpMock::take_fault(const std::string& stage) {
  std::lock_guard lock(mutex_);
  if (faults_.empty() || faults_.front().stage != stage) return std::nullopt;
  const int code = faults_.front().code;
  faults_.pop_front();
  return code;
}

void SmtpMock::store(Message message) {
  std::lock_guard lock(mutex_);
  message.id = next_id_++;
  messages_.push_back(std::move(message));
}

void SmtpMock::accept_loop() {
  while (!stopping_) {
    auto socket = std::make_shared<tcp::socket>(ioc_);
    boost::system::error_code ec;
    acceptor_.accept(*socket, ec);
    if (ec) {
      if (stopping_) return;
      continue;
    }
    ++connections_;
    std::lock_guard lock(mutex_);
    sockets_.push_back(socket);
    threads_.emplace_back([this, socket] { serve(socket); });
  }
}

// One SMTP conversation, line by line (RFC 5321 § 4.1). Replies to a fault carry the address
// in their text, as real relays do, so a client that passes the text on is caught in tests.
// Longer than a screen on purpose: one verb per branch, in the order of the RFC's command list,
// with the conversation's state (TLS, login, the message so far) in plain sight.
void SmtpMock::serve(const std::shared_ptr<tcp::socket>& socket) {
  asio::streambuf in;
  boost::system::error_code ec;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;  // after STARTTLS
  auto send = [&](const std::string& reply) {
    if (tls) {
      asio::write(*tls, asio::buffer(reply), ec);
    } else {
      asio::write(*socket, asio::buffer(reply), ec);
    }
  };
  auto read_line = [&]() -> std::optional<std::string> {
    if (tls) {
      asio::read_until(*tls, in, "\r\n", ec);
    } else {
      asio::read_until(*socket, in, "\r\n", ec);
    }
    if (ec) return std::nullopt;
    std::istream stream(&in);
    std::string line;
    std::getline(stream, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  };
  if (auto code = take_fault("connect")) {
    send(reply_text(*code, "at connect"));
    return;
  }
  const bool auth_required = !options_.password.empty();
  bool authenticated = !auth_required;
  Message message;
  bool in_transaction = false;
  send("220 mock-smtp ESMTP visitpay SMTP catcher\r\n");
  while (!ec && !stopping_) {
    auto line = read_line();
    if (!line) return;
    const std::string verb = lower_ascii(line->substr(0, line->find(' ')));
    if (verb == "ehlo") {
      send("250-mock-smtp\r\n250-SIZE " + std::to_string(options_.max_message_bytes) +
           "\r\n250-8BITMIME\r\n" + (tls_ && !tls ? "250-STARTTLS\r\n" : "") +
           (auth_required ? "250-AUTH PLAIN\r\n" : "") + "250 HELP\r\n");
    } else if (verb == "starttls" && tls_ && !tls) {
      send("220 2.0.0 Ready to start TLS\r\n");
      in.consume(in.size());  // nothing sent before the handshake counts (RFC 3207 § 4.2)
      tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(*socket, *tls_);
      tls->handshake(asio::ssl::stream_base::server, ec);
      if (ec) return;
      authenticated = !auth_required;
      message = Message{};
      in_transaction = false;
    } else if (verb == "helo") {
      send("250 mock-smtp\r\n");
    } else if (verb == "auth" && starts_with_ci(*line, "AUTH PLAIN")) {
      std::string response = line->size() > 11 ? line->substr(11) : "";
      if (response.empty()) {
        send("334 \r\n");
        auto next = read_line();
        if (!next) return;
        response = *next;
      }
      const std::string expected =
          std::string(1, '\0') + options_.username + '\0' + options_.password;
      authenticated = base64_decode(response) == expected;
      send(authenticated ? "235 2.7.0 Authentication successful\r\n"
                         : "535 5.7.8 Authentication credentials invalid\r\n");
    } else if (verb == "mail") {
      if (tls_ && !tls) {
        send("530 5.7.0 Must issue a STARTTLS command first\r\n");
        continue;
      }
      if (!authenticated) {
        send("530 5.7.0 Authentication required\r\n");
        continue;
      }
      const auto from = line->substr(line->find('<') + 1);
      message = Message{};
      message.mail_from = from.substr(0, from.find('>'));
      in_transaction = false;
      if (auto code = take_fault("mail")) {
        send(reply_text(*code, "sender <" + message.mail_from + ">"));
        continue;
      }
      in_transaction = true;
      send("250 2.1.0 Ok\r\n");
    } else if (verb == "rcpt") {
      if (!in_transaction) {
        send("503 5.5.1 Error: need MAIL command\r\n");
        continue;
      }
      const auto to = line->substr(line->find('<') + 1);
      const std::string address = to.substr(0, to.find('>'));
      if (auto code = take_fault("rcpt")) {
        send(reply_text(*code, "recipient <" + address + ">: mailbox unavailable"));
        continue;
      }
      message.recipients.push_back(address);
      send("250 2.1.5 Ok\r\n");
    } else if (verb == "data") {
      if (message.recipients.empty()) {
        send("503 5.5.1 Error: need RCPT command\r\n");
        continue;
      }
      send("354 End data with <CR><LF>.<CR><LF>\r\n");
      while (true) {
        auto data_line = read_line();
        if (!data_line) return;
        if (*data_line == ".") break;
        if (!data_line->empty() && (*data_line)[0] == '.') data_line->erase(0, 1);
        message.data += *data_line + "\r\n";
      }
      in_transaction = false;
      if (auto code = take_fault("data")) {
        send(reply_text(*code, "message to <" + message.recipients.front() + ">"));
      } else if (message.data.size() > options_.max_message_bytes) {
        send("552 5.3.4 Message size exceeds fixed limit\r\n");
      } else {
        store(std::move(message));
        send("250 2.0.0 Ok: queued\r\n");
      }
      message = Message{};
    } else if (verb == "rset") {
      message = Message{};
      in_transaction = false;
      send("250 2.0.0 Ok\r\n");
    } else if (verb == "noop") {
      send("250 2.0.0 Ok\r\n");
    } else if (verb == "quit") {
      send("221 2.0.0 Bye\r\n");
      return;
    } else if (verb == "starttls") {
      send("454 4.7.0 TLS not available\r\n");
    } else {
      send("502 5.5.2 Error: command not recognized\r\n");
    }
  }
}

namespace {

Json message_json(const SmtpMock::Message& m) {
  std::string file_name;
  const auto attachment = m.attachment(&file_name);
  return {{"id", m.id},
          {"mail_from", m.mail_from},
          {"recipients", m.recipients},
          {"from", m.header("from")},
          {"to", m.header("to")},
          {"subject", m.subject()},
          {"message_id", m.header("message-id")},
          {"size", m.data.size()},
          {"attachment", attachment ? Json{{"file_name", file_name}, {"size", attachment->size()}}
                                    : Json(nullptr)}};
}

std::string inbox_html(const std::vector<SmtpMock::Message>& messages) {
  using common::html_escape;
  std::string rows;
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    const std::string id = std::to_string(it->id);
    const std::string to = it->recipients.empty() ? "" : it->recipients.front();
    rows += "<tr><td>" + id + "</td><td>" + html_escape(to) + "</td><td>" +
            html_escape(it->subject()) + "</td><td><pre>" + html_escape(it->text()) +
            "</pre></td><td><a href=\"/_mock/messages/" + id +
            "/attachment\">PDF</a> <a href=\"/_mock/messages/" + id + "\">raw</a></td></tr>\n";
  }
  return "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Mock mail "
         "inbox</title></head><body><h1>Mail the service sent</h1><p>" +
         std::to_string(messages.size()) +
         " message(s), newest first.</p><table border=\"1\" cellpadding=\"4\"><tr><th>#</th>"
         "<th>To</th><th>Subject</th><th>Text</th><th>Attachment</th></tr>\n" +
         rows + "</table></body></html>\n";
}

}  // namespace

MockResponse SmtpMock::handle_http(const MockRequest& r) {
  auto json = [](int status, const Json& body) {
    return MockResponse{status, "application/json", body.dump(), {}, {}, false};
  };
  const auto all = messages();
  if (r.method == "GET" && (r.path == "/inbox" || r.path == "/")) {
    return {200, "text/html; charset=utf-8", inbox_html(all), {}, {}, false};
  }
  if (r.path == "/_mock/messages" && r.method == "GET") {
    Json list = Json::array();
    for (const auto& m : all)
      list.push_back(message_json(m));
    return json(200, list);
  }
  if (r.path == "/_mock/messages" && r.method == "DELETE") {
    clear();
    return json(200, Json::object());
  }
  if (r.path == "/_mock/stats" && r.method == "GET") {
    return json(200, {{"messages", all.size()}, {"connections", connections()}});
  }
  if (r.path == "/_mock/faults" && r.method == "POST") {
    try {
      const auto body = Json::parse(r.body);
      inject(body.at("stage").get<std::string>(), body.at("code").get<int>(),
             body.value("count", 1));
      return json(200, Json::object());
    } catch (const std::exception& e) {
      return json(400, {{"error", e.what()}});
    }
  }
  const std::string prefix = "/_mock/messages/";
  if (r.method == "GET" && r.path.rfind(prefix, 0) == 0) {
    const std::string rest = r.path.substr(prefix.size());
    const bool want_attachment = rest.size() > 11 && rest.substr(rest.size() - 11) == "/attachment";
    const std::string id = want_attachment ? rest.substr(0, rest.size() - 11) : rest;
    for (const auto& m : all) {
      if (std::to_string(m.id) != id) continue;
      if (!want_attachment) return {200, "message/rfc822", m.data, {}, {}, false};
      std::string file_name;
      if (auto a = m.attachment(&file_name)) {
        return {200,
                "application/pdf",
                std::move(*a),
                {{"Content-Disposition", "inline; filename=\"" + file_name + "\""}},
                {},
                false};
      }
    }
  }
  return json(404, {{"error", "not found"}});
}

}  // namespace visitpay::mocks
