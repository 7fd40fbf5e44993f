// mock-swedbankpay: the mock Swedbank Pay as a process for the local run.
//   mock-swedbankpay [--listen 127.0.0.1:8091] [--token T] [--callback-time-scale 0.01]
//                    [--create-status 200] [--duplicate-status 409] [--status-lag-ms 300]
//                    [--public-url http://host:port] [--strict]
// Prints one line "mock Swedbank Pay listening on http://..." and runs until SIGINT/SIGTERM.
#include <pthread.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>

#include "mocks/common/run_until_signal.hpp"
#include "mocks/swedbankpay/swedbankpay_mock.hpp"

namespace {

constexpr const char* kUsage =
    "usage: mock-swedbankpay [--listen HOST:PORT] [--token TOKEN] [--callback-time-scale X]\n"
    "                        [--create-status 200|201] [--duplicate-status 4xx]\n"
    "                        [--status-lag-ms N] [--public-url URL] [--strict]\n"
    "defaults: --listen 127.0.0.1:8091 --token test-token --callback-time-scale 0.01\n";

int to_int(const std::string& flag, const std::string& value, int min, int max) {
  std::size_t used = 0;
  int n = 0;
  try {
    n = std::stoi(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || n < min || n > max) {
    throw std::invalid_argument(flag + ": expected a number in [" + std::to_string(min) + ", " +
                                std::to_string(max) + "], got '" + value + "'");
  }
  return n;
}

visitpay::mocks::SwedbankPayMockOptions parse(int argc, char** argv) {
  visitpay::mocks::SwedbankPayMockOptions options;
  options.port = 8091;
  options.callback_time_scale = 0.01;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (flag == "--strict") {
      options.strict = true;
      continue;
    }
    if (i + 1 >= argc) throw std::invalid_argument(flag + ": missing value");
    const std::string value = argv[++i];
    if (flag == "--listen") {
      const auto colon = value.rfind(':');
      if (colon == std::string::npos || colon == 0) {
        throw std::invalid_argument("--listen: expected HOST:PORT, got '" + value + "'");
      }
      options.host = value.substr(0, colon);
      options.port = static_cast<std::uint16_t>(to_int(flag, value.substr(colon + 1), 0, 65535));
    } else if (flag == "--token") {
      if (value.empty()) throw std::invalid_argument("--token: must not be empty");
      options.token = value;
    } else if (flag == "--callback-time-scale") {
      std::size_t used = 0;
      double scale = -1;
      try {
        scale = std::stod(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != value.size() || scale < 0) {
        throw std::invalid_argument("--callback-time-scale: expected a number >= 0");
      }
      options.callback_time_scale = scale;
    } else if (flag == "--create-status") {
      options.create_status = to_int(flag, value, 200, 201);
    } else if (flag == "--duplicate-status") {
      options.duplicate_status = to_int(flag, value, 400, 499);
    } else if (flag == "--status-lag-ms") {
      options.status_lag = std::chrono::milliseconds(to_int(flag, value, 0, 600'000));
    } else if (flag == "--public-url") {
      options.public_url = value;
    } else {
      throw std::invalid_argument("unknown option " + flag);
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  visitpay::mocks::SwedbankPayMockOptions options;
  try {
    options = parse(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "mock-swedbankpay: " << e.what() << "\n" << kUsage;
    return 2;
  }
  return visitpay::mocks::run_until_signal<visitpay::mocks::SwedbankPayMock>(
      "mock-swedbankpay", "mock Swedbank Pay", options);
}
