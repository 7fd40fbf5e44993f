#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace visitpay::testing {

RawClient::RawClient(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawClient::~RawClient() {
  if (fd_ >= 0) ::close(fd_);
}

void RawClient::send(std::string_view bytes) {
  while (!bytes.empty() && fd_ >= 0) {
    const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return;  // the server closed early; what it answered is still readable
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

bool RawClient::read_some(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0 || fd_ < 0 || eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
  char buf[4096];
  const auto n = ::recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    eof_ = true;  // closed or reset: either way nothing more will come
    return false;
  }
  received_.append(buf, static_cast<std::size_t>(n));
  return true;
}

const std::string& RawClient::read_until(std::string_view needle,
                                         std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received_.find(needle) == std::string::npos && read_some(deadline)) {
  }
  return received_;
}

const std::string& RawClient::read_all(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (read_some(deadline)) {
  }
  return received_;
}

RawAnswer parse_raw_answer(const std::string& raw, bool closed) {
  RawAnswer a;
  a.raw = raw;
  a.closed = closed;
  std::size_t at = 0;
  // Responses one after another: a status line, a head, and a body of Content-Length bytes.
  while (raw.compare(at, 7, "HTTP/1.") == 0) {
    const auto head_end = raw.find("\r\n\r\n", at);
    if (head_end == std::string::npos) break;
    const int status = std::atoi(raw.c_str() + at + 9);
    if (a.responses++ == 0 || a.status < 200) a.status = status;
    std::size_t length = 0;
    const auto cl = raw.find("Content-Length: ", at);
    if (cl != std::string::npos && cl < head_end)
      length = std::strtoul(raw.c_str() + cl + 16, nullptr, 10);
    at = head_end + 4 + length;
  }
  return a;
}

RawAnswer raw_exchange(std::uint16_t port, std::string_view bytes,
                       std::chrono::milliseconds timeout) {
  RawClient client(port);
  if (!client.connected()) throw std::runtime_error("cannot connect");
  client.send(bytes);
  client.read_all(timeout);
  return parse_raw_answer(client.received(), client.closed_by_peer());
}

}  // namespace visitpay::testing
