#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "mocks/common/mock_http_server.hpp"

namespace visitpay::mocks {

struct SmtpMockOptions {
  std::string host = "127.0.0.1";
  std::uint16_t smtp_port = 0;  // 0 = any free port
  std::uint16_t http_port = 0;  // the inbox and the control API
  std::string username;         // with a password: AUTH PLAIN is required before MAIL
  std::string password;
  std::size_t max_message_bytes = std::size_t{10} * 1024 * 1024;
  // With a certificate and key (PEM files): STARTTLS is offered, and MAIL is refused before it
  // (530), as a relay that requires TLS does.
  std::string tls_cert_file;
  std::string tls_key_file;
};

// A local SMTP catcher that behaves like a relay as RFC 5321 describes it (EHLO/HELO, AUTH PLAIN,
// MAIL, RCPT, DATA with dot-stuffing, RSET, NOOP, QUIT; STARTTLS (RFC 3207) only when given a
// certificate, so without one a client that requires TLS refuses it), keeps every message it
// accepts, and injects replies a real relay gives: 421 at connect, 4xx/5xx to MAIL, RCPT or the
// end of DATA (with the address in the reply's text, as real servers write it).
//
// Its HTTP side (base_url()): GET /inbox (HTML, for a person running the service locally),
// GET /_mock/messages (JSON), GET /_mock/messages/{id} (the raw message), GET
// /_mock/messages/{id}/attachment (the first attachment, decoded), DELETE /_mock/messages,
// POST /_mock/faults {"stage":"connect|mail|rcpt|data","code":550,"count":1}, GET /_mock/stats.
class SmtpMock {
 public:
  explicit SmtpMock(SmtpMockOptions options = {});
  ~SmtpMock();
  SmtpMock(const SmtpMock&) = delete;
  SmtpMock& operator=(const SmtpMock&) = delete;

  std::string base_url() const;  // http://host:port (inbox, control)
  std::string smtp_url() const;  // smtp://host:port
  std::uint16_t smtp_port() const { return smtp_port_; }

  struct Message {
    int id = 0;
    std::string mail_from;
    std::vector<std::string> recipients;
    std::string data;                                   // as received, dot-stuffing removed
    std::string header(const std::string& name) const;  // first, unfolded; "" when absent
    std::string subject() const;                        // RFC 2047 words decoded
    std::string text() const;                           // the text/plain part, decoded
    std::optional<std::string> attachment(std::string* file_name = nullptr) const;  // decoded
  };
  std::vector<Message> messages() const;
  void clear();
  // The next `count` transactions get `code` at `stage` (connect, mail, rcpt, data).
  void inject(const std::string& stage, int code, int count = 1);
  int connections() const { return connections_.load(); }

 private:
  struct Fault {
    std::string stage;
    int code;
  };
  void accept_loop();
  void serve(const std::shared_ptr<boost::asio::ip::tcp::socket>& socket);
  std::optional<int> take_fault(const std::string& stage);
  void store(Message message);
  MockResponse handle_http(const MockRequest& request);

  SmtpMockOptions options_;
  std::unique_ptr<boost::asio::ssl::context> tls_;  // with a certificate: STARTTLS
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::uint16_t smtp_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mutex_;
  std::vector<Message> messages_;
  std::deque<Fault> faults_;
  int next_id_ = 1;
  std::vector<std::thread> threads_;
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> sockets_;
  std::thread acceptor_thread_;
  std::unique_ptr<MockHttpServer> http_;
};

}  // namespace visitpay::mocks
