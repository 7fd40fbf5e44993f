// Master key rotation while the service runs: every data key is rewrapped under the new master
// key, check-outs keep coming in meanwhile, and once the old key is retired from the ring all
// payer data (transient and invoice-retained) still decrypts.
#include "app/key_rotation.hpp"

#include <atomic>

#include "adapters/keys/file/file_key_store.hpp"
#include "flow_fixture.hpp"

namespace visitpay::testing {
namespace {

class KeyRotationTest : public FlowTest {
 protected:
  std::int64_t keys_under(const std::string& master_key_id) {
    return count("SELECT count(*) FROM payer_keys WHERE master_key_id = '" + master_key_id + "'");
  }
};

TEST_F(KeyRotationTest, RewrapsEveryDataKeyWhileServingThenTheOldKeyIsRetired) {
  // Under the first master key: one visit awaiting payment, one invoiced (no phone).
  const auto awaiting = checkout("V-ROT-1");
  const auto invoiced = checkout("V-ROT-2", /*with_phone=*/false);
  ASSERT_TRUE(eventually([&] { return state_is(awaiting, "awaiting_payment"); }));
  ASSERT_TRUE(eventually([&] { return state_is(invoiced, "invoiced"); }));
  const std::string old_line = test_master_keys();
  const std::string new_line = adapters::keys::FileKeyStore::generate_key_line("test-2");
  EXPECT_EQ(keys_under("test-1"), 4);

  // Step 1: the new key is added to the ring (last = active) and the instance restarted.
  service_.reset();
  master_keys_ = old_line + "\n" + new_line + "\n";
  start_service();

  // Step 2: rotate while check-outs keep arriving.
  std::atomic<bool> done{false};
  std::atomic<int> accepted{0};
  std::thread traffic([&] {
    for (int i = 0; !done; ++i) {
      auto reply = http_request(service_->port(), "POST", "/v1/checkouts",
                                checkout_body("V-ROT-LIVE-" + std::to_string(i)), auth());
      if (reply.status == 201) ++accepted;
    }
  });
  while (accepted < 5)
    std::this_thread::sleep_for(10ms);
  auto ring = adapters::keys::FileKeyStore::from_text(master_keys_);
  ASSERT_TRUE(ring);
  const app::PayerVault vault(*ring);
  auto db = service_->db();
  common::Logger quiet(common::LogLevel::error, [](std::string_view) {});
  auto report = app::rotate_master_key(db, vault, "test-2", quiet, /*batch=*/2);
  done = true;
  traffic.join();
  ASSERT_TRUE(report) << report.error().detail;
  EXPECT_EQ(report->rewrapped, 4);
  EXPECT_EQ(report->from.at("test-1"), 4);
  EXPECT_EQ(keys_under("test-1"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM payer_keys WHERE rewrapped_at IS NOT NULL"), 4);
  EXPECT_GE(accepted.load(), 5);

  // The command: nothing left to do; status shows every data key under the active key.
  const auto again = cli("keys rotate");
  EXPECT_NE(again.find("(0 rewrapped now)"), std::string::npos) << again;
  EXPECT_NE(again.find("older keys can be retired"), std::string::npos) << again;
  EXPECT_NE(again.find("exit=0"), std::string::npos) << again;
  EXPECT_EQ(again.find(new_line.substr(new_line.find(' ') + 1)), std::string::npos);  // no key

  // Step 3: the old key is retired; every session's data still opens, both classes.
  service_.reset();
  master_keys_ = new_line + "\n";
  start_service();
  const auto dpo = service_->token("privacy");
  auto access = http_request(
      service_->port(), "POST", "/v1/privacy/access", Json{{"national_id", "10915596784"}}.dump(),
      {{"Authorization", "Bearer " + dpo}, {"Content-Type", "application/json"}});
  ASSERT_EQ(access.status, 200) << access.body;
  const auto report_json = Json::parse(access.body);
  EXPECT_EQ(report_json.at("count").get<int>(), 2 + accepted.load());
  for (const auto& s : report_json.at("sessions")) {
    EXPECT_EQ(s.at("personal_data").at("transient").at("national_id"), "10915596784");
    EXPECT_EQ(s.at("personal_data").at("retained").at("name"), "Kari Nordmann");
  }
  // The line descriptions too: they are sealed under the retained data key, which only changed
  // its wrapping.
  EXPECT_EQ(session(awaiting).at("lines")[0].at("description"), "Konsultasjon spesialist");
  const auto invoice_id = session(invoiced).at("invoice").at("id").get<std::string>();
  const auto invoice =
      http_request(service_->port(), "GET", "/v1/invoices/" + invoice_id, {},
                   {{"Authorization", "Bearer " + service_->token("invoices:review")}});
  ASSERT_EQ(invoice.status, 200) << invoice.body;
  EXPECT_EQ(Json::parse(invoice.body).at("lines")[0].at("description"), "Konsultasjon spesialist");
  const auto status = cli("keys status");
  EXPECT_NE(
      status.find("test-2: " + std::to_string(2 * (2 + accepted.load())) + " data key(s) (active)"),
      std::string::npos)
      << status;
}

TEST_F(KeyRotationTest, StatusFlagsDataKeysUnderAKeyMissingFromTheRing) {
  checkout("V-ROT-MISSING");
  const auto other_ring = adapters::keys::FileKeyStore::generate_key_line("test-9");
  const auto status = cli("keys status", other_ring);
  EXPECT_NE(status.find("test-1: 2 data key(s) (NOT in the key ring: unreadable)"),
            std::string::npos)
      << status;
  // Rotating cannot unwrap them: it fails and changes nothing.
  const auto rotate = cli("keys rotate", other_ring);
  EXPECT_NE(rotate.find("exit=1"), std::string::npos) << rotate;
  EXPECT_EQ(keys_under("test-1"), 2);
}

}  // namespace
}  // namespace visitpay::testing
