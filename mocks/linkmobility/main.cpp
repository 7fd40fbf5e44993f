// mock-linkmobility: the mock LINK Mobility SMS gateway as a program, for the local demo run.
//   mock-linkmobility [--listen 127.0.0.1:8092] [--username U] [--password P] [--dlr-url URL]
//                     [--gate ID=URL] [--platform-id ID] [--platform-partner-id ID]
//                     [--dlr-delay-ms N] [--strict]
// Prints one line "mock LINK Mobility listening on http://..." and runs until SIGINT or SIGTERM.
#include <signal.h>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "mocks/common/run_until_signal.hpp"
#include "mocks/linkmobility/linkmobility_mock.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: mock-linkmobility [--listen HOST:PORT] [--username U] [--password P] "
    "[--dlr-url URL] [--gate ID=URL] [--platform-id ID] [--platform-partner-id ID] "
    "[--dlr-delay-ms N] [--strict]\n"
    "  --listen        address to serve on (default 127.0.0.1:8092; port 0 = any free port)\n"
    "  --username, --password  HTTP Basic credentials of POST /sms/send (default visitpay/secret)\n"
    "  --dlr-url       the URL of gate \"mock-gate\" (default none; POST /_mock/dlr-url sets it "
    "later); reports go only to gates a message names in deliveryReportGates\n"
    "  --gate ID=URL   configure another delivery-report gate (repeatable)\n"
    "  --platform-id, --platform-partner-id  the only values accepted (default: any)\n"
    "  --strict        refuse what the real API refuses (also MOCK_LINKMOBILITY_STRICT=1)\n"
    "  --dlr-delay-ms  delay before each delivery report (default 50)\n"
    "The SMS inbox is at /inbox.\n";

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

bool parse_listen(std::string_view text, visitpay::mocks::LinkMobilityMockOptions& options) {
  const auto colon = text.rfind(':');
  std::string_view host = colon == std::string_view::npos ? "127.0.0.1" : text.substr(0, colon);
  const std::string_view port = colon == std::string_view::npos ? text : text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "127.0.0.1";
  std::uint16_t number = 0;
  if (!parse_number(port, number)) return false;
  options.host = std::string(host);
  options.port = number;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  visitpay::mocks::LinkMobilityMockOptions options;
  options.port = 8092;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--strict") {
      options.strict = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << "mock-linkmobility: unknown option or missing value: " << arg << '\n' << kUsage;
      return 2;
    }
    const std::string_view value = argv[++i];
    bool ok = true;
    if (arg == "--listen") {
      ok = parse_listen(value, options);
    } else if (arg == "--username") {
      options.username = value;
    } else if (arg == "--password") {
      options.password = value;
    } else if (arg == "--dlr-url") {
      options.dlr_url = value;
    } else if (arg == "--gate") {
      const auto equals = value.find('=');
      ok = equals != std::string_view::npos && equals > 0;
      if (ok) options.gates[std::string(value.substr(0, equals))] = value.substr(equals + 1);
    } else if (arg == "--platform-id") {
      options.platform_id = value;
    } else if (arg == "--platform-partner-id") {
      options.platform_partner_id = value;
    } else if (arg == "--dlr-delay-ms") {
      int ms = 0;
      ok = parse_number(value, ms) && ms >= 0;
      options.dlr_delay = std::chrono::milliseconds(ms);
    } else {
      ok = false;
    }
    if (!ok) {
      std::cerr << "mock-linkmobility: bad option: " << arg << ' ' << value << '\n' << kUsage;
      return 2;
    }
  }

  return visitpay::mocks::run_until_signal<visitpay::mocks::LinkMobilityMock>(
      "mock-linkmobility", "mock LINK Mobility", options);
}
