// Start-up and shutdown against a real PostgreSQL: migrations (empty, up to date, concurrent,
// refused), readiness while the database goes away and comes back, and a graceful SIGTERM of
// the real binary under load that loses no acknowledged check-out.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/auth.hpp"
#include "common/crypto.hpp"
#include "common/uuid.hpp"
#include "http_client.hpp"
#include "pg_cluster.hpp"
#include "store/client_store.hpp"
#include "store/migrations.hpp"
#include "test_service.hpp"

namespace visitpay::testing {
namespace {

using Json = nlohmann::json;

store::PgSyncConnection open(const std::string& conninfo) {
  auto db = store::PgSyncConnection::open(conninfo);
  if (!db) throw std::runtime_error("cannot connect");
  return std::move(db.value());
}

std::string fresh_database() {
  static std::atomic<int> n{0};
  return shared_cluster().create_database("life" + std::to_string(getpid()) + "_" +
                                          std::to_string(++n));
}

common::Logger& quiet_log() {
  static common::Logger log(common::LogLevel::error);
  return log;
}

TEST(Migrations, EmptyDatabaseIsMigratedAndAgainIsANoOp) {
  auto db = open(fresh_database());
  auto before = store::applied_schema_version(db);
  ASSERT_TRUE(before);
  EXPECT_EQ(*before, 0);
  auto first = store::migrate(db, quiet_log());
  ASSERT_TRUE(first) << first.error().detail;
  EXPECT_EQ(*first, store::latest_schema_version());
  auto tables = db.exec(
      "SELECT count(*) FROM information_schema.tables WHERE table_name IN "
      "('sessions', 'session_lines', 'payers', 'api_clients')");
  ASSERT_TRUE(tables);
  EXPECT_EQ(tables->int64(0, 0), 4);
  auto second = store::migrate(db, quiet_log());
  ASSERT_TRUE(second);
  EXPECT_EQ(*second, *first);
  auto rows = db.exec("SELECT count(*) FROM schema_migrations");
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->int64(0, 0), static_cast<std::int64_t>(store::embedded_migrations().size()));
}

TEST(Migrations, InstancesStartingTogetherApplyEachMigrationOnce) {
  const auto conninfo = fresh_database();
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto db = open(conninfo);
      if (store::migrate(db, quiet_log())) ok++;
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(ok, 4);
  auto db = open(conninfo);
  auto rows = db.exec("SELECT count(*), count(DISTINCT version) FROM schema_migrations");
  ASSERT_TRUE(rows);
  EXPECT_EQ(rows->int64(0, 0), rows->int64(0, 1));
  EXPECT_EQ(rows->int64(0, 0), static_cast<std::int64_t>(store::embedded_migrations().size()));
}

TEST(Migrations, RefusesADatabaseNewerThanTheBuild) {
  const auto conninfo = fresh_database();
  auto db = open(conninfo);
  ASSERT_TRUE(store::migrate(db, quiet_log()));
  ASSERT_TRUE(
      db.exec("INSERT INTO schema_migrations (version, name, checksum) "
              "VALUES (9999, '9999_future', 'x')"));
  auto again = store::migrate(db, quiet_log());
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().detail.find("newer"), std::string::npos) << again.error().detail;

  // The binary refuses to serve it, with a non-zero exit and a clear message.
  const std::string cmd = "env -i PATH=/usr/bin:/bin DATABASE_URL='" + conninfo +
                          "' VISITPAY_LOOKUP_KEY=" + std::string(64, 'a') +
                          " VISITPAY_MASTER_KEYS='" + test_master_keys() + "'" +
                          " MOCK_SWEDBANKPAY_TOKEN=t MOCK_LINKMOBILITY_PASSWORD=p" +
                          " VISITPAY_LISTEN=127.0.0.1:0 " VISITPAY_BINARY " --config " +
                          VISITPAY_SOURCE_DIR "/deploy/config/local.json serve 2>&1; echo exit=$?";
  const auto out = run_command(cmd);
  EXPECT_NE(out.find("newer than this build"), std::string::npos) << out;
  EXPECT_NE(out.find("exit=1"), std::string::npos) << out;
}

TEST(Migrations, RefusesAnAppliedMigrationThatWasEdited) {
  auto db = open(fresh_database());
  ASSERT_TRUE(store::migrate(db, quiet_log()));
  ASSERT_TRUE(db.exec("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1"));
  auto again = store::migrate(db, quiet_log());
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().detail.find("changed after it was applied"), std::string::npos);
}

TEST(Readiness, FollowsTheDatabaseDownAndBackUp) {
  PgCluster cluster;  // its own cluster: this test stops it
  const auto conninfo = cluster.create_database("ready");
  {
    auto db = open(conninfo);
    ASSERT_TRUE(store::migrate(db, quiet_log()));
  }
  TestService service(test_config(conninfo));
  const auto token = service.token("checkout:write");
  auto checkout = [&](const std::string& visit) {
    return http_request(
        service.port(), "POST", "/v1/checkouts", example_checkout(visit),
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
  };
  EXPECT_EQ(http_request(service.port(), "GET", "/readyz").status, 200);
  EXPECT_EQ(checkout("R-1").status, 201);

  cluster.stop();
  auto down = http_request(service.port(), "GET", "/readyz");
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(Json::parse(down.body)["type"], "https://visitpay.dev/problems/database-unavailable");
  EXPECT_EQ(http_request(service.port(), "GET", "/healthz").status, 200);  // the process is fine
  auto refused = checkout("R-2");
  EXPECT_EQ(refused.status, 503) << refused.body;

  cluster.start();
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    status = http_request(service.port(), "GET", "/readyz").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 200);
  EXPECT_EQ(checkout("R-2").status, 201);  // the refused one can simply be sent again
  EXPECT_EQ(checkout("R-1").status, 200);  // and what was acknowledged before survived
}

TEST(Readiness, ReportsAnUnmigratedDatabase) {
  TestService service(test_config(fresh_database()));
  auto reply = http_request(service.port(), "GET", "/readyz");
  EXPECT_EQ(reply.status, 503);
}

std::uint16_t free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor a(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

TEST(Shutdown, SigtermUnderLoadLosesNoAcknowledgedCheckout) {
  const auto conninfo = migrated_database();
  const std::string token = app::new_api_token();
  {
    auto db = open(conninfo);
    ASSERT_TRUE(store::ClientStore::add(db, common::new_uuid_v7(std::chrono::system_clock::now()),
                                        "shutdown-test", common::sha256(token), {"checkout:write"},
                                        {}, "2026-11-22T13:00:00Z", false));
  }
  const auto port = free_port();
  const std::string key = common::to_hex(common::random_bytes(32));
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string db_env = "DATABASE_URL=" + conninfo;
    const std::string listen_env = "VISITPAY_LISTEN=127.0.0.1:" + std::to_string(port);
    const std::string key_env = "VISITPAY_LOOKUP_KEY=" + key;
    const std::string master_env = "VISITPAY_MASTER_KEYS=" + test_master_keys();
    const std::string config = std::string(VISITPAY_SOURCE_DIR) + "/deploy/config/local.json";
    char* const argv[] = {const_cast<char*>(VISITPAY_BINARY), const_cast<char*>("--config"),
                          const_cast<char*>(config.c_str()), const_cast<char*>("serve"), nullptr};
    char* const envp[] = {const_cast<char*>(db_env.c_str()),
                          const_cast<char*>(listen_env.c_str()),
                          const_cast<char*>(key_env.c_str()),
                          const_cast<char*>(master_env.c_str()),
                          const_cast<char*>("VISITPAY_LOG_LEVEL=warn"),
                          const_cast<char*>("MOCK_SWEDBANKPAY_TOKEN=t"),
                          const_cast<char*>("MOCK_LINKMOBILITY_PASSWORD=p"),
                          nullptr};
    execve(VISITPAY_BINARY, argv, envp);
    _exit(127);
  }
  int ready = 0;
  for (int i = 0; i < 100 && ready != 200; ++i) {
    try {
      ready = http_request(port, "GET", "/readyz").status;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_EQ(ready, 200);

  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::atomic<int> sent{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0;; ++i) {
        const std::string visit = "S-" + std::to_string(c) + "-" + std::to_string(i);
        try {
          auto reply = http_request(
              port, "POST", "/v1/checkouts", example_checkout(visit),
              {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
          sent++;
          if (reply.status == 201 || reply.status == 200) {
            std::lock_guard lock(mutex);
            acknowledged.push_back(visit);
          }
        } catch (const std::exception&) {
          return;  // connection refused or reset: the server is gone
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const auto acked_before_signal = [&] {
    std::lock_guard lock(mutex);
    return acknowledged.size();
  }();
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  for (auto& t : clients)
    t.join();

  ASSERT_TRUE(WIFEXITED(status)) << "terminated by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_GT(acked_before_signal, 10u);
  auto db = open(conninfo);
  for (const auto& visit : acknowledged) {
    auto r = db.exec(
        "SELECT count(*) FROM sessions s JOIN payers p ON p.session_id = s.id "
        "WHERE s.visit_id = '" +
        visit + "'");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->int64(0, 0), 1) << visit << " was acknowledged but is not stored";
  }
}

// An account's adapter is chosen by the id in `provider` and parses its own section; either going
// wrong stops the service before it listens, every problem named by its config path.
TEST(Startup, RefusesAccountsWhoseAdapterIsUnknownOrMisconfigured) {
  auto config = test_config(migrated_database());
  config::PaymentAccount pay;
  pay.name = "main";
  pay.provider = "payment.nope";
  pay.base_url = "http://127.0.0.1:1";
  config::SmsAccount sms;
  sms.name = "main";
  sms.provider = "linkmobility";  // the bare name still selects sms.linkmobility
  sms.base_url = "http://127.0.0.1:1";
  sms.secrets["password"] = "p";
  sms.settings = R"({"username": "u", "platform_id": "P", "platform_partner_id": "1",
                     "colour": "red"})";
  config.payment_accounts = {pay};
  config.sms_accounts = {sms};
  std::string error;
  try {
    TestService service(config);
  } catch (const std::runtime_error& e) {
    error = e.what();
  }
  EXPECT_NE(error.find("/payment_accounts/main/provider: unknown payment adapter \"payment.nope\""),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("/sms_accounts/main/colour: unknown key"), std::string::npos) << error;
  EXPECT_EQ(error.find("platform_id"), std::string::npos) << error;  // the rest parsed
}

}  // namespace
}  // namespace visitpay::testing
