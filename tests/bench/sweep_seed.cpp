// Seeds due sessions for tests/bench/sweep_bench.sh: sessions whose payment window closed, each
// with a live order at the mock Swedbank Pay (see tests/support/due_sessions.hpp).
//   sweep_seed DATABASE_URL MOCK_PORT MOCK_TOKEN ACCOUNT WITH_ORDER NO_PHONE PREFIX
#include <cstdlib>
#include <iostream>
#include <string>

#include "adapters/keys/file/file_key_store.hpp"
#include "common/time_format.hpp"
#include "due_sessions.hpp"

int main(int argc, char** argv) {
  if (argc != 8) {
    std::cerr << "usage: sweep_seed DATABASE_URL MOCK_PORT MOCK_TOKEN ACCOUNT WITH_ORDER NO_PHONE "
                 "PREFIX\n";
    return 2;
  }
  try {
    auto db = visitpay::store::PgSyncConnection::open(argv[1]);
    if (!db) throw std::runtime_error("cannot connect to the database");
    visitpay::testing::DueSessions due;
    due.account = argv[4];
    due.with_order = std::stoi(argv[5]);
    due.no_phone = std::stoi(argv[6]);
    due.prefix = argv[7];
    // Due a minute ago by the real clock (the service under test runs on the system clock).
    due.deadline = visitpay::common::format_rfc3339_utc(
        std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now() -
                                                                std::chrono::minutes(1)));
    // The service's key ring, so that it can read what is seeded.
    const char* ring_file = std::getenv("VISITPAY_MASTER_KEYS_FILE");
    auto keys = visitpay::adapters::keys::load_key_ring("", ring_file ? ring_file : "");
    if (!keys) throw std::runtime_error(keys.error().detail);
    visitpay::testing::seed_due_sessions(*db, static_cast<std::uint16_t>(std::stoi(argv[2])),
                                         argv[3], due, visitpay::app::PayerVault(*keys));
  } catch (const std::exception& e) {
    std::cerr << "sweep_seed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
