// The check-out API against a real PostgreSQL, over real HTTP: contract, validation (nothing
// written on rejection), idempotency (sequential and concurrent), auth, and privacy of answers.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "adapters/keys/file/file_key_store.hpp"
#include "app/payer_vault.hpp"
#include "common/crypto.hpp"
#include "http/routes.hpp"
#include "http_client.hpp"
#include "store/migrations.hpp"
#include "test_service.hpp"

namespace visitpay::testing {
namespace {

using Json = nlohmann::json;

// Personal data of the example payer; none of it may appear in answers, logs or metrics.
const std::vector<std::string> kPersonalData = {"Kari", "Nordmann", "10915596784", "41234567",
                                                "Storgata"};

class CheckoutApi : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The API alone: without workers a session stays as the check-out left it (with them, the
    // clinic's missing payment account could move it on before a test reads it back).
    auto config = test_config(migrated_database());
    config.outbox.enabled = false;
    service_ = new TestService(std::move(config));
    writer_ = service_->token("checkout:write,sessions:read");
  }
  static void TearDownTestSuite() {
    delete service_;
    service_ = nullptr;
  }

  static HttpReply post(const std::string& body, const std::string& token = writer_,
                        const std::string& content_type = "application/json") {
    std::map<std::string, std::string> headers{{"Content-Type", content_type}};
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return http_request(service_->port(), "POST", "/v1/checkouts", body, headers);
  }
  static HttpReply get(const std::string& target, const std::string& token = writer_) {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return http_request(service_->port(), "GET", target, {}, headers);
  }
  static std::int64_t count(const std::string& table) {
    auto db = service_->db();
    auto r = db.exec("SELECT count(*) FROM " + table);
    return r ? r->int64(0, 0) : -1;
  }
  static std::string unique_visit() {
    static std::atomic<int> n{0};
    return "V-" + std::to_string(::getpid()) + "-" + std::to_string(++n);
  }
  static Json example(const std::string& visit) { return Json::parse(example_checkout(visit)); }

  static TestService* service_;
  static std::string writer_;
};

TestService* CheckoutApi::service_ = nullptr;
std::string CheckoutApi::writer_;

void expect_no_personal_data(const std::string& text) {
  for (const auto& item : kPersonalData) {
    EXPECT_EQ(text.find(item), std::string::npos) << "personal data '" << item << "' in: " << text;
  }
}

TEST_F(CheckoutApi, AcceptsCheckoutWith201AndLocationAfterCommit) {
  const auto visit = unique_visit();
  auto reply = post(example_checkout(visit));
  ASSERT_EQ(reply.status, 201) << reply.body;
  auto body = Json::parse(reply.body);
  EXPECT_EQ(body["state"], "pending");
  EXPECT_EQ(body["amount"], 65000);
  EXPECT_EQ(body["vat_amount"], 0);
  EXPECT_EQ(body["currency"], "NOK");
  EXPECT_EQ(body["clinic_id"], "oslo-sentrum");
  EXPECT_EQ(body["visit_id"], visit);
  EXPECT_EQ(body["checked_out_at"], "2026-11-22T13:05:00Z");
  EXPECT_EQ(body["has_phone"], true);
  EXPECT_EQ(reply.headers["location"], "/v1/sessions/" + body["session_id"].get<std::string>());
  EXPECT_FALSE(reply.headers["x-request-id"].empty());
  expect_no_personal_data(reply.body);

  // Committed: a separate connection sees the session, its line and the payer row, whose
  // personal data is stored only encrypted under the session's own data keys.
  auto db = service_->db();
  auto r = db.exec(
      "SELECT s.state, s.amount_ore, s.id::text, p.name, p.national_id, p.phone, p.street, "
      "p.national_id_enc, p.phone_enc, p.name_enc, p.address_enc, p.national_id_hmac, "
      "t.master_key_id, t.wrapped_key, k.wrapped_key "
      "FROM sessions s JOIN payers p ON p.session_id = s.id "
      "JOIN payer_keys t ON t.session_id = s.id AND t.key_class = 'transient' "
      "JOIN payer_keys k ON k.session_id = s.id AND k.key_class = 'retained' "
      "WHERE s.visit_id = '" +
      visit + "'");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->rows(), 1);
  EXPECT_EQ(r->string(0, 0), "pending");
  EXPECT_EQ(r->int64(0, 1), 65000);
  for (int col = 3; col <= 6; ++col)
    EXPECT_TRUE(r->is_null(0, col)) << col;  // no plaintext
  std::string stored;
  for (int col = 7; col <= 14; ++col) {
    ASSERT_FALSE(r->is_null(0, col)) << col;
    stored += r->string(0, col);
  }
  // Neither the values nor their hex appear in the stored bytes.
  for (const std::string plain : {"Kari", "10915596784", "4741234567", "Storgata"}) {
    EXPECT_EQ(stored.find(plain), std::string::npos) << plain;
    EXPECT_EQ(stored.find(common::to_hex(common::Bytes(plain.begin(), plain.end()))),
              std::string::npos)
        << plain;
  }
  // With the master key they decrypt; bound to this session.
  auto keys = adapters::keys::FileKeyStore::from_text(test_master_keys());
  ASSERT_TRUE(keys);
  const app::PayerVault vault(*keys);
  domain::SealedPayer sealed;
  sealed.transient_key = {r->string(0, 12), *r->bytea(0, 13)};
  sealed.retained_key = {r->string(0, 12), *r->bytea(0, 14)};
  sealed.national_id = r->bytea(0, 7);
  sealed.phone = r->bytea(0, 8);
  sealed.name = *r->bytea(0, 9);
  sealed.address = *r->bytea(0, 10);
  auto opened = vault.open(r->string(0, 2), sealed, true, true);
  ASSERT_TRUE(opened) << opened.error().detail;
  EXPECT_EQ(opened->name, "Kari Nordmann");
  EXPECT_EQ(opened->national_id, "10915596784");
  EXPECT_EQ(opened->phone, "+4741234567");
  EXPECT_EQ(opened->address->postal_code, "0155");
  EXPECT_FALSE(vault.open("00000000-0000-7000-8000-000000000000", sealed, true, true));
}

TEST_F(CheckoutApi, GetSessionShowsFactsButNoPersonalData) {
  auto created = post(example_checkout(unique_visit()));
  ASSERT_EQ(created.status, 201);
  auto reply = get(created.headers["location"]);
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto body = Json::parse(reply.body);
  EXPECT_EQ(body, Json::parse(created.body));
  ASSERT_EQ(body["lines"].size(), 1u);
  EXPECT_EQ(body["lines"][0]["description"], "Konsultasjon spesialist");
  expect_no_personal_data(reply.body);
  EXPECT_EQ(body["fee_terms"]["version"], "2026-01");
  EXPECT_EQ(body.size(), 13u);  // exactly the Session schema's members
}

TEST_F(CheckoutApi, SameContentAgainReplaysTheSessionWith200) {
  const auto visit = unique_visit();
  auto first = post(example_checkout(visit));
  ASSERT_EQ(first.status, 201);
  // Same content, other member order and an equivalent time in UTC.
  auto doc = example(visit);
  doc["checked_out_at"] = "2026-11-22T13:05:00Z";
  auto second = post(doc.dump(2));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(Json::parse(second.body)["session_id"], Json::parse(first.body)["session_id"]);
  EXPECT_EQ(second.headers["location"], first.headers["location"]);
}

TEST_F(CheckoutApi, DifferentContentForTheSameVisitIs409AndChangesNothing) {
  const auto visit = unique_visit();
  ASSERT_EQ(post(example_checkout(visit)).status, 201);
  const auto sessions = count("sessions");
  auto doc = example(visit);
  doc["lines"][0]["amount"] = 70000;
  auto reply = post(doc.dump());
  ASSERT_EQ(reply.status, 409) << reply.body;
  EXPECT_EQ(reply.headers["content-type"], "application/problem+json");
  EXPECT_EQ(Json::parse(reply.body)["type"], "https://visitpay.dev/problems/idempotency-conflict");
  expect_no_personal_data(reply.body);
  EXPECT_EQ(count("sessions"), sessions);
  auto db = service_->db();
  auto r = db.exec("SELECT amount_ore FROM sessions WHERE visit_id = '" + visit + "'");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->int64(0, 0), 65000);

  // A change only in personal data is a different check-out too.
  auto other_payer = example(visit);
  other_payer["payer"]["name"] = "Ola Nordmann";
  EXPECT_EQ(post(other_payer.dump()).status, 409);
}

TEST_F(CheckoutApi, ConcurrentDuplicatesMakeExactlyOneSession) {
  const auto visit = unique_visit();
  const std::string body = example_checkout(visit);
  constexpr int kClients = 16;
  std::vector<HttpReply> replies(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] { replies[i] = post(body); });
  }
  for (auto& t : threads)
    t.join();
  int created = 0;
  std::set<std::string> ids;
  for (const auto& r : replies) {
    ASSERT_TRUE(r.status == 201 || r.status == 200) << r.status << " " << r.body;
    created += r.status == 201;
    ids.insert(Json::parse(r.body)["session_id"].get<std::string>());
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(ids.size(), 1u);
  auto db = service_->db();
  auto r = db.exec(
      "SELECT count(*), (SELECT count(*) FROM payers p JOIN sessions s ON "
      "s.id = p.session_id WHERE s.visit_id = '" +
      visit +
      "') "
      "FROM sessions WHERE visit_id = '" +
      visit + "'");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->int64(0, 0), 1);
  EXPECT_EQ(r->int64(0, 1), 1);
}

TEST_F(CheckoutApi, ConcurrentConflictingCheckoutsKeepOneContent) {
  const auto visit = unique_visit();
  auto other = example(visit);
  other["lines"][0]["amount"] = 12345;
  const std::string a = example_checkout(visit);
  const std::string b = other.dump();
  constexpr int kClients = 12;
  std::vector<HttpReply> replies(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] { replies[i] = post(i % 2 ? a : b); });
  }
  for (auto& t : threads)
    t.join();
  auto db = service_->db();
  auto r = db.exec("SELECT amount_ore FROM sessions WHERE visit_id = '" + visit + "'");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->rows(), 1);
  const auto stored = r->int64(0, 0);
  int created = 0;
  for (int i = 0; i < kClients; ++i) {
    const bool same_as_stored = (i % 2 ? 65000 : 12345) == stored;
    if (same_as_stored) {
      EXPECT_TRUE(replies[i].status == 201 || replies[i].status == 200) << replies[i].body;
      created += replies[i].status == 201;
    } else {
      EXPECT_EQ(replies[i].status, 409) << replies[i].body;
    }
  }
  EXPECT_EQ(created, 1);
}

struct BadInput {
  std::string name;
  std::function<void(Json&)> mutate;
  std::string pointer;
};

TEST_F(CheckoutApi, EveryInvalidFieldIsNamedAndNothingIsWritten) {
  const std::string long_text(201, 'x');
  const std::vector<BadInput> cases = {
      {"unknown top-level field", [](Json& j) { j["note"] = "x"; }, "/note"},
      {"unknown payer field", [](Json& j) { j["payer"]["mail"] = "a@b.no"; }, "/payer/mail"},
      {"payer email not an address", [](Json& j) { j["payer"]["email"] = "a@b"; }, "/payer/email"},
      {"unknown line field", [](Json& j) { j["lines"][0]["code"] = 1; }, "/lines/0/code"},
      {"missing clinic_id", [](Json& j) { j.erase("clinic_id"); }, "/clinic_id"},
      {"missing visit_id", [](Json& j) { j.erase("visit_id"); }, "/visit_id"},
      {"missing checked_out_at", [](Json& j) { j.erase("checked_out_at"); }, "/checked_out_at"},
      {"missing currency", [](Json& j) { j.erase("currency"); }, "/currency"},
      {"missing lines", [](Json& j) { j.erase("lines"); }, "/lines"},
      {"missing payer", [](Json& j) { j.erase("payer"); }, "/payer"},
      {"missing payer name", [](Json& j) { j["payer"].erase("name"); }, "/payer/name"},
      {"missing address", [](Json& j) { j["payer"].erase("address"); }, "/payer/address"},
      {"missing street", [](Json& j) { j["payer"]["address"].erase("street"); },
       "/payer/address/street"},
      {"unknown clinic", [](Json& j) { j["clinic_id"] = "tromso-nord"; }, "/clinic_id"},
      {"bad visit_id", [](Json& j) { j["visit_id"] = "V 1"; }, "/visit_id"},
      {"time without offset", [](Json& j) { j["checked_out_at"] = "2026-11-22T14:05:00"; },
       "/checked_out_at"},
      {"time far in the future", [](Json& j) { j["checked_out_at"] = "2027-01-01T00:00:00Z"; },
       "/checked_out_at"},
      {"currency SEK", [](Json& j) { j["currency"] = "SEK"; }, "/currency"},
      {"no lines", [](Json& j) { j["lines"] = Json::array(); }, "/lines"},
      {"too many lines",
       [](Json& j) {
         auto line = j["lines"][0];
         j["lines"] = Json::array();
         for (int i = 0; i < 51; ++i)
           j["lines"].push_back(line);
       },
       "/lines"},
      {"description too long", [&](Json& j) { j["lines"][0]["description"] = long_text; },
       "/lines/0/description"},
      {"zero amount", [](Json& j) { j["lines"][0]["amount"] = 0; }, "/lines/0/amount"},
      {"negative amount", [](Json& j) { j["lines"][0]["amount"] = -100; }, "/lines/0/amount"},
      {"fractional amount", [](Json& j) { j["lines"][0]["amount"] = 650.5; }, "/lines/0/amount"},
      {"amount as string", [](Json& j) { j["lines"][0]["amount"] = "65000"; }, "/lines/0/amount"},
      {"vat above amount", [](Json& j) { j["lines"][0]["vat_amount"] = 70000; },
       "/lines/0/vat_amount"},
      {"total mismatch", [](Json& j) { j["total_amount"] = 1; }, "/total_amount"},
      {"national id first check digit", [](Json& j) { j["payer"]["national_id"] = "13097248032"; },
       "/payer/national_id"},
      {"national id second check digit", [](Json& j) { j["payer"]["national_id"] = "13097248023"; },
       "/payer/national_id"},
      {"national id 2032 rule k2", [](Json& j) { j["payer"]["national_id"] = "02013299996"; },
       "/payer/national_id"},
      {"national id length", [](Json& j) { j["payer"]["national_id"] = "1309724802"; },
       "/payer/national_id"},
      {"landline phone", [](Json& j) { j["payer"]["phone"] = "+4721234567"; }, "/payer/phone"},
      {"phone without +47", [](Json& j) { j["payer"]["phone"] = "41234567"; }, "/payer/phone"},
      {"phone with spaces", [](Json& j) { j["payer"]["phone"] = "+47 412 34 567"; },
       "/payer/phone"},
      {"phone not in mobile range", [](Json& j) { j["payer"]["phone"] = "+4759123456"; },
       "/payer/phone"},
      {"postal code", [](Json& j) { j["payer"]["address"]["postal_code"] = "155"; },
       "/payer/address/postal_code"},
      {"country", [](Json& j) { j["payer"]["address"]["country"] = "SE"; },
       "/payer/address/country"},
      {"blank name", [](Json& j) { j["payer"]["name"] = "   "; }, "/payer/name"},
  };
  const auto sessions = count("sessions");
  const auto payers = count("payers");
  const auto lines = count("session_lines");
  for (const auto& c : cases) {
    auto doc = example(unique_visit());
    c.mutate(doc);
    auto reply = post(doc.dump());
    EXPECT_EQ(reply.status, 422) << c.name << ": " << reply.body;
    EXPECT_EQ(reply.headers["content-type"], "application/problem+json") << c.name;
    auto body = Json::parse(reply.body, nullptr, false);
    ASSERT_FALSE(body.is_discarded()) << c.name;
    EXPECT_EQ(body["type"], "https://visitpay.dev/problems/validation-failed") << c.name;
    EXPECT_EQ(body["status"], 422) << c.name;
    bool named = false;
    for (const auto& e : body["errors"])
      named = named || e["pointer"] == c.pointer;
    EXPECT_TRUE(named) << c.name << " should name " << c.pointer << ": " << reply.body;
    for (const auto& id : {"13097248032", "13097248023", "02013299996", "+4721234567"}) {
      EXPECT_EQ(reply.body.find(id), std::string::npos) << c.name << " echoes personal data";
    }
  }
  EXPECT_EQ(count("sessions"), sessions);
  EXPECT_EQ(count("payers"), payers);
  EXPECT_EQ(count("session_lines"), lines);
}

TEST_F(CheckoutApi, ReportsEveryBadFieldOfOneRequestAtOnce) {
  auto doc = example(unique_visit());
  doc["payer"]["phone"] = "+4721234567";
  doc["payer"]["national_id"] = "13097248032";
  doc["lines"][0]["amount"] = -1;
  auto reply = post(doc.dump());
  ASSERT_EQ(reply.status, 422);
  std::set<std::string> pointers;
  const auto body = Json::parse(reply.body);
  for (const auto& e : body["errors"]) {
    pointers.insert(e["pointer"].get<std::string>());
  }
  EXPECT_EQ(pointers,
            (std::set<std::string>{"/payer/phone", "/payer/national_id", "/lines/0/amount"}));
}

TEST_F(CheckoutApi, AcceptsValidIdsIncludingTheRuleFor2032AndNoPhone) {
  for (const std::string id : {"13097248022", "30108299939", "53097248016", "15507600333"}) {
    auto doc = example(unique_visit());
    doc["payer"]["national_id"] = id;
    EXPECT_EQ(post(doc.dump()).status, 201) << id;
  }
  auto no_phone = example(unique_visit());
  no_phone["payer"].erase("phone");
  no_phone["payer"]["national_id"] = nullptr;
  auto reply = post(no_phone.dump());
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(Json::parse(reply.body)["has_phone"], false);
}

TEST_F(CheckoutApi, MalformedJsonWrongTypeAndOversizedBodiesAreRejected) {
  const auto sessions = count("sessions");
  auto malformed = post("{\"clinic_id\": ");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(Json::parse(malformed.body)["type"], "https://visitpay.dev/problems/malformed-json");
  auto not_object = post("[1,2]");
  EXPECT_EQ(not_object.status, 422);
  auto wrong_type = post(example_checkout(unique_visit()), writer_, "text/plain");
  EXPECT_EQ(wrong_type.status, 415);
  EXPECT_EQ(Json::parse(wrong_type.body)["type"],
            "https://visitpay.dev/problems/unsupported-media-type");
  auto charset = post(example_checkout(unique_visit()), writer_, "application/json; charset=utf-8");
  EXPECT_EQ(charset.status, 201);
  auto huge = example(unique_visit());
  huge["lines"][0]["description"] = std::string(70 * 1024, 'x');
  auto too_large = post(huge.dump());
  EXPECT_EQ(too_large.status, 413);
  EXPECT_EQ(Json::parse(too_large.body)["type"], "https://visitpay.dev/problems/payload-too-large");
  EXPECT_EQ(count("sessions"), sessions + 1);  // only the charset one
}

TEST_F(CheckoutApi, SyntheticIdsNeedTheConfigSwitch) {
  auto config = test_config(migrated_database());
  config.checkout.allow_synthetic_national_ids = false;
  TestService strict(config);
  const auto token = strict.token("checkout:write");
  // Test-Norge/Tenor (month + 80) and a Dolly D-number (day + 40, month + 40).
  for (const std::string id : {"10915596784", "71529000000"}) {
    auto doc = example(unique_visit());
    doc["payer"]["national_id"] = id;
    auto reply =
        http_request(strict.port(), "POST", "/v1/checkouts", doc.dump(),
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
    EXPECT_EQ(reply.status, 422) << id;
    EXPECT_NE(reply.body.find("/payer/national_id"), std::string::npos);
  }
  // A fødselsnummer, and the health sector's H-number (month + 40; Dolly's synthetic numbers look
  // the same) and FH-number, need no switch.
  for (const std::string id : {"13097248022", "15507600333", "81234500090"}) {
    auto plain = example(unique_visit());
    plain["payer"]["national_id"] = id;
    EXPECT_EQ(
        http_request(strict.port(), "POST", "/v1/checkouts", plain.dump(),
                     {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}})
            .status,
        201)
        << id;
  }
}

TEST_F(CheckoutApi, TokensAndScopesAreEnforced) {
  const auto body = example_checkout(unique_visit());
  auto none = post(body, "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.headers["www-authenticate"], "Bearer");
  EXPECT_EQ(post(body, "vp_not-a-real-token").status, 401);

  const auto reader = service_->token("sessions:read");
  auto forbidden = post(body, reader);
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(Json::parse(forbidden.body)["type"], "https://visitpay.dev/problems/forbidden");

  const auto ops = service_->token("ops");
  auto created = post(body);
  ASSERT_EQ(created.status, 201);
  EXPECT_EQ(get(created.headers["location"], ops).status, 403);
  EXPECT_EQ(get(created.headers["location"], reader).status, 200);
  EXPECT_EQ(get(created.headers["location"], "").status, 401);
}

TEST_F(CheckoutApi, ClinicBoundTokensSeeOnlyTheirClinic) {
  const auto bergen = service_->token("checkout:write,sessions:read", "bergen-brygge");
  EXPECT_EQ(post(example_checkout(unique_visit()), bergen).status, 403);
  auto doc = example(unique_visit());
  doc["clinic_id"] = "bergen-brygge";
  EXPECT_EQ(post(doc.dump(), bergen).status, 201);
  auto oslo = post(example_checkout(unique_visit()));
  ASSERT_EQ(oslo.status, 201);
  // Another clinic's session looks absent, so ids cannot be probed.
  EXPECT_EQ(get(oslo.headers["location"], bergen).status, 404);
}

TEST_F(CheckoutApi, UnknownOrMalformedSessionIdsAre404) {
  EXPECT_EQ(get("/v1/sessions/01a20452-ba4b-7864-94a0-16d941d54052").status, 404);
  EXPECT_EQ(get("/v1/sessions/not-a-uuid").status, 404);
  EXPECT_EQ(get("/v1/nothing-here").status, 404);
  auto wrong_method = http_request(service_->port(), "DELETE", "/v1/checkouts");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.headers["allow"], "POST");
}

TEST_F(CheckoutApi, HealthAndMetricsSpeakTheirFormats) {
  EXPECT_EQ(get("/healthz", "").status, 200);
  auto ready = get("/readyz", "");
  ASSERT_EQ(ready.status, 200);
  EXPECT_EQ(Json::parse(ready.body)["schema_version"], store::latest_schema_version());
  ASSERT_EQ(post(example_checkout(unique_visit())).status, 201);
  auto metrics = get("/metrics", "");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.headers["content-type"].find("text/plain"), std::string::npos);
  EXPECT_NE(metrics.body.find("http_requests_total{route=\"/v1/checkouts\",method=\"POST\","
                              "status=\"201\"}"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("visitpay_checkouts_total{outcome=\"accepted\"}"), std::string::npos);
  EXPECT_NE(metrics.body.find("visitpay_checkouts_total{outcome=\"rejected\"}"), std::string::npos);
  EXPECT_NE(metrics.body.find("http_request_duration_seconds_bucket{route=\"/v1/checkouts\""),
            std::string::npos);
  EXPECT_NE(metrics.body.find("visitpay_db_pool_connections{state=\"open\"}"), std::string::npos);
  expect_no_personal_data(metrics.body);
}

TEST_F(CheckoutApi, EveryRegisteredRouteIsDescribedInOpenApi) {
  auto reply = get("/openapi.json", "");
  ASSERT_EQ(reply.status, 200);
  auto doc = Json::parse(reply.body);
  EXPECT_EQ(doc["openapi"], "3.1.0");
  const auto& routes = service_->service().router().routes();
  ASSERT_FALSE(routes.empty());
  for (const auto& route : routes) {
    std::string method(boost::beast::http::to_string(route.method));
    for (auto& c : method)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ASSERT_TRUE(doc["paths"].contains(route.pattern)) << route.pattern;
    EXPECT_TRUE(doc["paths"][route.pattern].contains(method)) << method << " " << route.pattern;
  }
  // And the document describes no route the server lacks.
  std::size_t operations = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (method != "parameters") ++operations;
    }
  }
  EXPECT_EQ(operations, routes.size());
}

TEST_F(CheckoutApi, LogsCarryRequestIdsButNoPersonalData) {
  auto reply = post(example_checkout(unique_visit()));
  ASSERT_EQ(reply.status, 201);
  // The access log line is written right after the response, so give it a moment.
  bool found_request = false;
  for (int attempt = 0; attempt < 100 && !found_request; ++attempt) {
    if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (const auto& line : service_->log_lines()) {
      auto entry = Json::parse(line, nullptr, false);
      found_request = found_request || (entry.is_object() && entry["event"] == "http.request" &&
                                        entry["request_id"] == reply.headers["x-request-id"]);
    }
  }
  for (const auto& line : service_->log_lines()) {
    expect_no_personal_data(line);
    EXPECT_FALSE(Json::parse(line, nullptr, false).is_discarded()) << line;
  }
  EXPECT_TRUE(found_request);
}

}  // namespace
}  // namespace visitpay::testing
