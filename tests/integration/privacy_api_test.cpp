// Data-subject requests (GDPR Art. 15 access, Art. 17 erasure) against a real PostgreSQL, with the
// manual clock: what is held is shown decrypted, what was purged shows as purged (never a 500),
// erasure keeps only what the law requires and says so, and every request is audited.
#include "flow_fixture.hpp"

namespace visitpay::testing {
namespace {

constexpr const char* kKari = "10915596784";  // the example check-out's payer
constexpr const char* kOla = "15076500565";

class PrivacyApiTest : public FlowTest {
 protected:
  void SetUp() override {
    FlowTest::SetUp();
    dpo_ = service_->token("privacy");
  }

  std::string checkout_for(const std::string& visit_id, const std::string& national_id,
                           bool with_phone = true) {
    Json body = Json::parse(checkout_body(visit_id, with_phone));
    body["payer"]["national_id"] = national_id;
    auto reply = http_request(service_->port(), "POST", "/v1/checkouts", body.dump(), auth());
    EXPECT_EQ(reply.status, 201) << reply.body;
    return Json::parse(reply.body).value("session_id", "");
  }

  HttpReply request(const std::string& path, const std::string& national_id,
                    const std::string& token) {
    return http_request(
        service_->port(), "POST", path, Json{{"national_id", national_id}}.dump(),
        {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
  }

  Json ok(const HttpReply& reply) {
    EXPECT_EQ(reply.status, 200) << reply.body;
    return Json::parse(reply.body);
  }

  Json access(const std::string& national_id) {
    return ok(request("/v1/privacy/access", national_id, dpo_));
  }

  static const Json& session_in(const Json& report, const std::string& id) {
    for (const auto& s : report.at("sessions")) {
      if (s.at("session_id") == id) return s;
    }
    throw std::runtime_error("session " + id + " not in the report");
  }

  void purge_now() { service_->service().purger().nudge(); }

  std::string dpo_;
};

TEST_F(PrivacyApiTest, AccessShowsTheDataHeldThenWhenItWasPurged) {
  const auto id = checkout_for("V-DSR-1", kKari);
  ASSERT_TRUE(eventually([&] { return state_is(id, "awaiting_payment"); }));
  checkout_for("V-DSR-OTHER", kOla);  // someone else: never in Kari's answer

  auto report = access(kKari);
  ASSERT_EQ(report.at("count"), 1) << report.dump();
  const auto& held = session_in(report, id);
  EXPECT_EQ(held.at("state"), "awaiting_payment");
  const auto& transient = held.at("personal_data").at("transient");
  EXPECT_EQ(transient.at("status"), "held");
  EXPECT_EQ(transient.at("national_id"), kKari);
  EXPECT_EQ(transient.at("phone"), kPhone);
  EXPECT_EQ(transient.at("payment_url").get<std::string>().rfind(swedbank_->base_url(), 0), 0U);
  const auto& retained = held.at("personal_data").at("retained");
  EXPECT_EQ(retained.at("status"), "held");
  EXPECT_EQ(retained.at("name"), "Kari Nordmann");
  EXPECT_EQ(retained.at("address").at("postal_code"), "0155");
  EXPECT_TRUE(held.at("purges").empty());
  // What the visit was for (health information, sealed under the retained key), decrypted.
  EXPECT_EQ(held.at("lines"),
            Json::parse(R"([{"line_no":1,"amount_ore":65000,)"
                        R"("description":{"status":"held","text":"Konsultasjon spesialist"}}])"));

  // Paid, then the refund margin (7 days) passes and the purger runs.
  ASSERT_TRUE(swedbank_->pay(swedbank_->orders().front().id, "Vipps"));
  ASSERT_TRUE(eventually([&] { return state_is(id, "paid"); }));
  advance(std::chrono::days(8));
  purge_now();
  ASSERT_TRUE(eventually([&] {
    return count("SELECT count(*) FROM payer_keys WHERE session_id = '" + id + "'") == 0;
  }));

  // The data is gone for good; the answer says so instead of failing to decrypt.
  report = access(kKari);
  ASSERT_EQ(report.at("count"), 1) << report.dump();
  const auto& gone = session_in(report, id);
  for (const char* key_class : {"transient", "retained"}) {
    const auto& c = gone.at("personal_data").at(key_class);
    EXPECT_EQ(c.at("status"), "purged") << key_class;
    EXPECT_EQ(c.at("purged_at"), "2026-11-30T14:10:00+01:00") << key_class;
    EXPECT_FALSE(c.contains("national_id") || c.contains("name")) << key_class;
  }
  EXPECT_EQ(gone.at("lines"), Json::parse(R"([{"line_no":1,"amount_ore":65000,)"
                                          R"("description":{"status":"deleted"}}])"));
  ASSERT_EQ(gone.at("purges").size(), 1U);
  EXPECT_EQ(gone.at("purges")[0].at("rule"), "paid_by_link");
  EXPECT_EQ(gone.at("purges")[0].at("by"), "purger");
  EXPECT_EQ(report.dump().find(kPhone), std::string::npos);
  EXPECT_EQ(report.dump().find(kKari), std::string::npos);
  EXPECT_EQ(report.dump().find("spesialist"), std::string::npos);

  // Both requests are audited: who, when, which sessions, no personal data.
  EXPECT_EQ(count("SELECT count(*) FROM privacy_requests WHERE kind = 'access' AND "
                  "session_ids = ARRAY['" +
                  id + "']::uuid[]"),
            2);
}

TEST_F(PrivacyApiTest, ErasureDestroysWhatNoLawRequiresAndSaysWhatItKept) {
  // Kari: a visit paid long ago, whose data the policy purged (only the look-up hash is left)...
  const auto paid = checkout_for("V-DSR-P", kKari);
  ASSERT_TRUE(eventually([&] { return state_is(paid, "awaiting_payment"); }));
  ASSERT_TRUE(swedbank_->pay(only_order_id(), "Vipps"));
  ASSERT_TRUE(eventually([&] { return state_is(paid, "paid"); }));
  advance(std::chrono::days(8));
  purge_now();
  ASSERT_TRUE(eventually([&] {
    return count("SELECT count(*) FROM payer_keys WHERE session_id = '" + paid + "'") == 0;
  }));
  // ... a cancelled visit, an invoiced one (no phone) and one still awaiting payment.
  const auto cancelled = checkout_for("V-DSR-C", kKari);
  ASSERT_TRUE(eventually([&] { return state_is(cancelled, "awaiting_payment"); }));
  ASSERT_EQ(
      http_request(service_->port(), "POST", "/v1/checkouts/" + cancelled + "/cancel", {}, auth())
          .status,
      200);
  const auto invoiced = checkout_for("V-DSR-I", kKari, /*with_phone=*/false);
  ASSERT_TRUE(eventually([&] { return state_is(invoiced, "invoiced"); }));
  const auto open = checkout_for("V-DSR-O", kKari);
  ASSERT_TRUE(eventually([&] { return state_is(open, "awaiting_payment"); }));
  const auto other = checkout_for("V-DSR-OLA", kOla);

  auto report = ok(request("/v1/privacy/erasure", kKari, dpo_));
  ASSERT_EQ(report.at("count"), 4) << report.dump();
  EXPECT_EQ(session_in(report, paid).at("destroyed"), Json({"lookup"}));

  const auto& c = session_in(report, cancelled);
  EXPECT_EQ(c.at("destroyed"), Json({"transient", "retained", "lookup"}));
  EXPECT_TRUE(c.at("kept").empty());

  const auto& i = session_in(report, invoiced);
  EXPECT_EQ(i.at("destroyed"), Json({"transient"}));
  ASSERT_EQ(i.at("kept").size(), 1U) << i.dump();
  EXPECT_EQ(i.at("kept")[0].at("class"), "retained");
  EXPECT_EQ(i.at("kept")[0].at("rule"), "bookkeeping");
  EXPECT_EQ(i.at("kept")[0].at("until"), "2031-12-31");
  EXPECT_EQ(i.at("kept")[0].at("fields"), Json({"name", "address", "line_descriptions"}));
  EXPECT_NE(i.at("kept")[0].at("legal_basis").get<std::string>().find("17(3)(b)"),
            std::string::npos);

  const auto& o = session_in(report, open);
  EXPECT_TRUE(o.at("destroyed").empty());
  ASSERT_EQ(o.at("kept").size(), 2U);
  EXPECT_EQ(o.at("kept")[0].at("rule"), "open_claim");

  // Crypto-shredded: keys and ciphertexts gone in the same transaction as the audit record.
  EXPECT_EQ(count("SELECT count(*) FROM payer_keys WHERE session_id = '" + cancelled + "'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM payers WHERE session_id = '" + cancelled +
                  "' AND (national_id_hmac IS NOT NULL OR name_enc IS NOT NULL)"),
            0);
  EXPECT_EQ(count("SELECT count(*) FROM session_lines WHERE session_id = '" + cancelled +
                  "' AND description_enc IS NOT NULL"),
            0);  // what the visit was for goes with the retained key
  EXPECT_EQ(count("SELECT count(*) FROM payer_keys WHERE session_id = '" + invoiced + "'"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM session_lines WHERE session_id = '" + invoiced +
                  "' AND description_enc IS NOT NULL"),
            1);  // kept with the invoice
  EXPECT_EQ(count("SELECT count(*) FROM payer_keys WHERE session_id = '" + open + "'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM payer_keys WHERE session_id = '" + other + "'"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM purge_events WHERE rule = 'erasure_request' AND actor "
                  "LIKE 'test-%'"),
            3);
  EXPECT_EQ(count("SELECT count(*) FROM privacy_requests WHERE kind = 'erasure' AND "
                  "cardinality(session_ids) = 4"),
            1);

  // Afterwards access finds what was kept; the cancelled visit can no longer be tied to Kari.
  auto after = access(kKari);
  EXPECT_EQ(after.at("count"), 2) << after.dump();
  const auto& kept = session_in(after, invoiced);
  EXPECT_EQ(kept.at("personal_data").at("transient").at("status"), "purged");
  EXPECT_EQ(kept.at("personal_data").at("retained").at("name"), "Kari Nordmann");
  ASSERT_EQ(kept.at("invoices").size(), 1U);
  EXPECT_EQ(kept.at("invoices")[0].at("status"), "pending_review");

  // The invoice still shows its buyer to finance.
  const auto finance = service_->token("invoices:review");
  auto invoice = http_request(service_->port(), "GET",
                              "/v1/invoices/" + kept.at("invoices")[0].at("id").get<std::string>(),
                              {}, {{"Authorization", "Bearer " + finance}});
  ASSERT_EQ(invoice.status, 200);
  EXPECT_NE(invoice.body.find("Kari Nordmann"), std::string::npos);
}

TEST_F(PrivacyApiTest, RefusesBadInputAndOtherScopesWithoutEchoingTheNumber) {
  auto missing =
      http_request(service_->port(), "POST", "/v1/privacy/access", "{}",
                   {{"Authorization", "Bearer " + dpo_}, {"Content-Type", "application/json"}});
  EXPECT_EQ(missing.status, 422);
  EXPECT_NE(missing.body.find("\"/national_id\""), std::string::npos) << missing.body;

  auto wrong = request("/v1/privacy/erasure", "10915596785", dpo_);  // check digit off by one
  EXPECT_EQ(wrong.status, 422);
  EXPECT_NE(wrong.body.find("\"/national_id\""), std::string::npos) << wrong.body;
  EXPECT_EQ(wrong.body.find("10915596785"), std::string::npos);

  auto not_json = http_request(
      service_->port(), "POST", "/v1/privacy/access", "national_id=1",
      {{"Authorization", "Bearer " + dpo_}, {"Content-Type", "application/x-www-form-urlencoded"}});
  EXPECT_EQ(not_json.status, 415);

  EXPECT_EQ(request("/v1/privacy/access", kKari, token_).status, 403);  // the check-out system
  EXPECT_EQ(request("/v1/privacy/erasure", kKari, "vp_unknown").status, 401);
  EXPECT_EQ(count("SELECT count(*) FROM privacy_requests"), 0);  // nothing was answered
}

TEST_F(PrivacyApiTest, ATokenBoundToAClinicSeesOnlyThatClinic) {
  const auto id = checkout_for("V-DSR-B", kKari);
  const auto bound = service_->token("privacy", "bergen-brygge");
  auto reply = request("/v1/privacy/access", kKari, bound);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(Json::parse(reply.body).at("count"), 0);
  auto erased = request("/v1/privacy/erasure", kKari, bound);
  ASSERT_EQ(erased.status, 200) << erased.body;
  EXPECT_EQ(count("SELECT count(*) FROM payer_keys WHERE session_id = '" + id + "'"), 2);
}

}  // namespace
}  // namespace visitpay::testing
