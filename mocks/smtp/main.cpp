// mock-smtp: a local SMTP catcher for the demo run: the mail the service sends lands here, to be
// read at /inbox.
//   mock-smtp [--listen 127.0.0.1:2525] [--http 127.0.0.1:8093] [--username U --password P]
// Prints one line "mock SMTP listening on http://..." and runs until SIGINT or SIGTERM.
#include <charconv>
#include <cstdint>
#include <iostream>
#include <string>
#include <string_view>

#include "mocks/common/run_until_signal.hpp"
#include "mocks/smtp/smtp_mock.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: mock-smtp [--listen HOST:PORT] [--http HOST:PORT] [--username U --password P]\n"
    "  --listen    SMTP (plain, no TLS) on this address (default 127.0.0.1:2525)\n"
    "  --http      the inbox (/inbox) and the control API (default 127.0.0.1:8093); same host\n"
    "  --username, --password  require AUTH PLAIN with these (default: no AUTH)\n";

bool parse_port(std::string_view text, std::string& host, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon != std::string_view::npos) host = std::string(text.substr(0, colon));
  const auto digits = colon == std::string_view::npos ? text : text.substr(colon + 1);
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  return ec == std::errc() && end == digits.data() + digits.size() && !host.empty();
}

}  // namespace

int main(int argc, char** argv) {
  visitpay::mocks::SmtpMockOptions options;
  options.smtp_port = 2525;
  options.http_port = 8093;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (i + 1 >= argc) {
      std::cerr << "mock-smtp: unknown option or missing value: " << arg << '\n' << kUsage;
      return 2;
    }
    const std::string_view value = argv[++i];
    bool ok = true;
    if (arg == "--listen") {
      ok = parse_port(value, options.host, options.smtp_port);
    } else if (arg == "--http") {
      std::string host = options.host;
      ok = parse_port(value, host, options.http_port) && host == options.host;
    } else if (arg == "--username") {
      options.username = value;
    } else if (arg == "--password") {
      options.password = value;
    } else {
      ok = false;
    }
    if (!ok) {
      std::cerr << "mock-smtp: bad option: " << arg << ' ' << value << '\n' << kUsage;
      return 2;
    }
  }
  return visitpay::mocks::run_until_signal<visitpay::mocks::SmtpMock>("mock-smtp", "mock SMTP",
                                                                      options);
}
