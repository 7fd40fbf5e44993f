#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace visitpay::testing {

// A plain TCP connection to 127.0.0.1:port for sending bytes no HTTP library would send
// (framing attacks, idle connections). Blocking with poll() bounds; closes on destruction.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  void send(std::string_view bytes);
  // Reads until `needle` has arrived, the peer closed, or `timeout` passed; returns all read
  // so far on this connection.
  const std::string& read_until(std::string_view needle, std::chrono::milliseconds timeout);
  // Reads until the peer closes or `timeout` passes.
  const std::string& read_all(std::chrono::milliseconds timeout);
  bool closed_by_peer() const { return eof_; }
  const std::string& received() const { return received_; }

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  bool eof_ = false;
  std::string received_;
};

// What came back for raw bytes sent on a fresh connection.
struct RawAnswer {
  std::string raw;
  bool closed = false;  // the server closed the connection
  int status = 0;       // of the first final response (1xx only if nothing followed)
  int responses = 0;    // status lines seen, interim (1xx) included
};

RawAnswer parse_raw_answer(const std::string& raw, bool closed);

// Sends `bytes` on a new connection and reads until the server closes it or `timeout` passes.
RawAnswer raw_exchange(std::uint16_t port, std::string_view bytes,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(3000));

}  // namespace visitpay::testing
