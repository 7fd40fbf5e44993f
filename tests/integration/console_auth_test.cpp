// People in the browser console (issue 13) against a real PostgreSQL with the manual clock:
// Argon2id passwords, TOTP for dpo and admin, throttling per account and address, cookie sessions
// with idle and absolute timeouts, CSRF refused, logout (everywhere), roles mapped onto the same
// scopes API tokens hold, the audit log naming the person, and API tokens unchanged.
#include "app/console_auth.hpp"

#include "app/credentials.hpp"
#include "common/uuid.hpp"
#include "flow_fixture.hpp"
#include "store/user_store.hpp"

namespace visitpay::testing {
namespace {

constexpr const char* kPassword = "riktig-hest-batteri";

struct Session {
  std::string cookie;  // "vp_session=..."
  std::string csrf;
};

class ConsoleAuthTest : public FlowTest {
 protected:
  // A console user straight into the database; returns its TOTP secret if it has one.
  std::optional<std::string> add_user(const std::string& name, std::vector<std::string> roles,
                                      std::vector<std::string> clinics = {}) {
    store::UserRecord u;
    u.id = common::new_uuid_v7(std::chrono::system_clock::now());
    u.username = name;
    u.password_hash = app::hash_password(kPassword).value();
    u.roles = std::move(roles);
    u.clinic_ids = std::move(clinics);
    if (app::roles_need_second_factor(u.roles)) u.totp_secret = app::new_totp_secret();
    auto db = service_->db();
    EXPECT_TRUE(store::UserStore::add(db, u, "2026-11-01T00:00:00Z", false));
    return u.totp_secret;
  }

  HttpReply login_reply(const std::string& name, const std::string& password,
                        const std::string& totp = {}) {
    Json body = {{"username", name}, {"password", password}};
    if (!totp.empty()) body["totp"] = totp;
    return http_request(service_->port(), "POST", "/v1/console/login", body.dump(),
                        {{"Content-Type", "application/json"}, {"Origin", origin()}});
  }

  Session login(const std::string& name, const std::string& totp = {}) {
    auto reply = login_reply(name, kPassword, totp);
    EXPECT_EQ(reply.status, 200) << reply.body;
    const auto set_cookie = reply.headers["set-cookie"];
    Session s;
    s.cookie = set_cookie.substr(0, set_cookie.find(';'));
    s.csrf = Json::parse(reply.body).value("csrf_token", "");
    return s;
  }

  // The current code of a TOTP secret at the manual clock's time (`steps` later or earlier).
  std::string code(const std::string& secret, std::int64_t steps = 0) {
    const auto unix =
        std::chrono::duration_cast<std::chrono::seconds>(service_->clock().now().time_since_epoch())
            .count();
    return app::totp_code(secret, unix / app::kTotpStepSeconds + steps).value();
  }

  // The test client sends "Host: 127.0.0.1"; a browser's Origin names the same site.
  static std::string origin() { return "http://127.0.0.1"; }

  HttpReply get(const Session& s, const std::string& target) {
    return http_request(service_->port(), "GET", target, {}, {{"Cookie", s.cookie}});
  }

  HttpReply post(const Session& s, const std::string& target, const std::string& body = "{}",
                 bool with_csrf = true, const std::string& from = "") {
    std::map<std::string, std::string> headers = {{"Cookie", s.cookie},
                                                  {"Content-Type", "application/json"},
                                                  {"Origin", from.empty() ? origin() : from}};
    if (with_csrf) headers["X-CSRF-Token"] = s.csrf;
    return http_request(service_->port(), "POST", target, body, headers);
  }

  static std::string type_of(const HttpReply& reply) {
    return Json::parse(reply.body).value("type", "");
  }
};

TEST_F(ConsoleAuthTest, LoginSetsAHardenedCookieAndTheRoleMapsOntoScopes) {
  add_user("kari.finans", {"finance"});
  auto reply = login_reply("Kari.Finans", kPassword);  // names are not case-sensitive
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto cookie = reply.headers["set-cookie"];
  EXPECT_NE(cookie.find("vp_session="), std::string::npos);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);  // served over http here
  EXPECT_NE(reply.headers["content-security-policy"].find("frame-ancestors 'none'"),
            std::string::npos);
  const Session s = login("kari.finans");

  auto me = get(s, "/v1/console/me");
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(Json::parse(me.body)["username"], "kari.finans");
  EXPECT_EQ(Json::parse(me.body)["csrf_token"], s.csrf);  // a reloaded page gets it again
  EXPECT_EQ(get(s, "/v1/invoices").status, 200);          // finance: invoices:review
  auto refused = get(s, "/v1/outbox/dead");               // not ops
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(post(s, "/v1/privacy/access", R"({"national_id":"10915596784"})").status, 403);

  auto db = service_->db();
  auto stored = db.exec("SELECT password_hash FROM console_users WHERE username = 'kari.finans'");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->string(0, 0).rfind("$argon2id$", 0), 0u);
  EXPECT_EQ(count("SELECT count(*) FROM console_sessions WHERE id_sha256 = sha256(convert_to('" +
                  s.cookie.substr(s.cookie.find('=') + 1) + "', 'UTF8'))"),
            1);  // only the hash of the cookie is stored
}

TEST_F(ConsoleAuthTest, WrongPasswordsThrottleTheAccountUntilTheWindowPasses) {
  add_user("ola.finans", {"finance"});
  EXPECT_EQ(login_reply("nobody", kPassword).status, 401);  // unknown: the same answer
  for (int i = 0; i < 5; ++i) {
    auto reply = login_reply("ola.finans", "feil-passord-123");
    EXPECT_EQ(reply.status, 401) << reply.body;
  }
  auto throttled = login_reply("ola.finans", kPassword);  // even the right password now
  EXPECT_EQ(throttled.status, 429) << throttled.body;
  EXPECT_EQ(type_of(throttled), "https://visitpay.dev/problems/login-throttled");
  advance(16min);
  EXPECT_EQ(login_reply("ola.finans", kPassword).status, 200);
}

TEST_F(ConsoleAuthTest, ManyFailuresFromOneAddressThrottleEveryAccountThere) {
  add_user("per.finans", {"finance"});
  for (int user = 0; user < 6; ++user) {
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(login_reply("guess" + std::to_string(user), "feil-passord-123").status, 401);
    }
  }
  EXPECT_EQ(login_reply("per.finans", kPassword).status, 429);  // 30 from 127.0.0.1
}

TEST_F(ConsoleAuthTest, DpoNeedsAOneTimeCodeThatWorksOnce) {
  const auto secret = add_user("dina.dpo", {"dpo"}).value();
  auto missing = login_reply("dina.dpo", kPassword);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(type_of(missing), "https://visitpay.dev/problems/second-factor-required");
  EXPECT_EQ(
      login_reply("dina.dpo", kPassword, "000000" == code(secret) ? "111111" : "000000").status,
      401);
  EXPECT_EQ(login_reply("dina.dpo", kPassword, code(secret, 3)).status, 401);  // 90 s away
  const Session s = login("dina.dpo", code(secret, -1));  // one step of drift is allowed
  EXPECT_EQ(login_reply("dina.dpo", kPassword, code(secret, -1)).status, 401);  // replayed
  auto access = post(s, "/v1/privacy/access", R"({"national_id":"10915596784"})");
  EXPECT_EQ(access.status, 200) << access.body;
  EXPECT_EQ(get(s, "/v1/invoices").status, 403);
}

TEST_F(ConsoleAuthTest, StateChangingRequestsWithoutTheCsrfTokenOrFromAnotherSiteAreRefused) {
  add_user("kari.finans", {"finance"});
  const Session s = login("kari.finans");
  const std::string bulk = R"({"ids":["00000000-0000-7000-8000-000000000000"]})";
  auto no_token = post(s, "/v1/invoices/approve", bulk, /*with_csrf=*/false);
  EXPECT_EQ(no_token.status, 403) << no_token.body;
  EXPECT_EQ(type_of(no_token), "https://visitpay.dev/problems/csrf-refused");
  auto valid = post(s, "/v1/invoices/approve", bulk, true);
  Session forged = s;
  forged.csrf = "x" + s.csrf.substr(1);
  EXPECT_EQ(post(forged, "/v1/invoices/approve", bulk).status, 403);
  EXPECT_EQ(post(s, "/v1/invoices/approve", bulk, true, "https://evil.example").status, 403);
  EXPECT_EQ(post(s, "/v1/console/logout", "{}", false).status, 403);
  EXPECT_EQ(get(s, "/v1/console/me").status, 200);  // the refused logout changed nothing
  EXPECT_EQ(valid.status, 200) << valid.body;       // with token and Origin: it runs
}

TEST_F(ConsoleAuthTest, SessionsEndAfterIdleTimeAndAfterTheAbsoluteBound) {
  add_user("kari.finans", {"finance"});
  const Session idle = login("kari.finans");
  advance(29min);
  EXPECT_EQ(get(idle, "/v1/console/me").status, 200);  // seen: the idle time starts again
  advance(29min);
  EXPECT_EQ(get(idle, "/v1/console/me").status, 200);
  advance(31min);
  EXPECT_EQ(get(idle, "/v1/console/me").status, 401);
}

TEST_F(ConsoleAuthTest, AbsoluteBoundEndsEvenAnActiveSession) {
  add_user("kari.finans", {"finance"});
  const Session s = login("kari.finans");
  for (int i = 0; i < 28; ++i) {  // 28 x 25 min = 11 h 40 min
    advance(25min);
    ASSERT_EQ(get(s, "/v1/console/me").status, 200) << i;
  }
  advance(21min);  // 12 h 1 min after login, 21 min after last use
  EXPECT_EQ(get(s, "/v1/console/me").status, 401);
}

TEST_F(ConsoleAuthTest, LogoutEndsTheSessionAndLogoutEverywhereEndsAll) {
  add_user("kari.finans", {"finance"});
  const Session a = login("kari.finans");
  const Session b = login("kari.finans");
  const Session c = login("kari.finans");
  auto out = post(a, "/v1/console/logout");
  EXPECT_EQ(out.status, 200) << out.body;
  EXPECT_NE(out.headers["set-cookie"].find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(get(a, "/v1/console/me").status, 401);
  EXPECT_EQ(get(b, "/v1/console/me").status, 200);
  auto all = post(b, "/v1/console/logout-everywhere");
  EXPECT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(Json::parse(all.body)["sessions_ended"], 2);
  EXPECT_EQ(get(b, "/v1/console/me").status, 401);
  EXPECT_EQ(get(c, "/v1/console/me").status, 401);
}

TEST_F(ConsoleAuthTest, ADisabledUserIsLoggedOutAtOnce) {
  add_user("kari.finans", {"finance"});
  const Session s = login("kari.finans");
  auto db = service_->db();
  ASSERT_TRUE(
      store::UserStore::set_disabled(db, "kari.finans", true, "2026-11-22T13:10:00Z").value());
  EXPECT_EQ(get(s, "/v1/console/me").status, 401);
  EXPECT_EQ(login_reply("kari.finans", kPassword).status, 401);
}

TEST_F(ConsoleAuthTest, ThePersonIsNamedInTheAuditLogAndForeignClinicsStayInvisible) {
  add_user("kari.finans", {"finance"});
  add_user("berit.bergen", {"finance"}, {"bergen-brygge"});
  const auto id = checkout("V-CONSOLE-1", /*with_phone=*/false);
  ASSERT_TRUE(eventually([&] { return state_is(id, "invoiced"); }));
  const Session kari = login("kari.finans");
  auto list = Json::parse(get(kari, "/v1/invoices?status=pending_review").body);
  ASSERT_EQ(list["items"].size(), 1u) << list.dump();
  const std::string invoice_id = list["items"][0]["id"];

  const Session berit = login("berit.bergen");  // bound to another clinic
  EXPECT_EQ(Json::parse(get(berit, "/v1/invoices").body)["items"].size(), 0u);
  EXPECT_EQ(get(berit, "/v1/invoices/" + invoice_id).status, 404);

  auto approved = post(kari, "/v1/invoices/" + invoice_id + "/approve");
  ASSERT_EQ(approved.status, 200) << approved.body;
  auto invoice = Json::parse(get(kari, "/v1/invoices/" + invoice_id).body);
  EXPECT_NE(invoice["history"].dump().find(R"("actor":"user:kari.finans")"), std::string::npos)
      << invoice["history"].dump();
}

TEST_F(ConsoleAuthTest, ApiTokensWorkAsBeforeAndIgnoreCookies) {
  const auto finance = service_->token("invoices:review");
  auto plain = http_request(service_->port(), "GET", "/v1/invoices", {},
                            {{"Authorization", "Bearer " + finance}});
  EXPECT_EQ(plain.status, 200) << plain.body;
  auto with_cookie = http_request(service_->port(), "POST", "/v1/invoices/approve",
                                  R"({"ids":["00000000-0000-7000-8000-000000000000"]})",
                                  {{"Authorization", "Bearer " + finance},
                                   {"Cookie", "vp_session=whatever"},
                                   {"Content-Type", "application/json"}});
  EXPECT_EQ(with_cookie.status, 200) << with_cookie.body;  // no CSRF for bearer tokens
  auto no_auth = http_request(service_->port(), "GET", "/v1/invoices", {}, {});
  EXPECT_EQ(no_auth.status, 401);
  EXPECT_EQ(
      http_request(service_->port(), "GET", "/v1/invoices", {}, {{"Cookie", "vp_session=forged"}})
          .status,
      401);
}

TEST_F(ConsoleAuthTest, UsersCommandManagesAccounts) {
  auto added = cli("users add lise.ops --roles ops");
  EXPECT_NE(added.find("exit=0"), std::string::npos) << added;
  const auto at = added.find("password ");
  ASSERT_NE(at, std::string::npos) << added;
  const auto password = added.substr(at + 9, added.find('\n', at) - at - 9);
  EXPECT_EQ(login_reply("lise.ops", password).status, 200);
  auto admin = cli("users add anne.admin --roles admin");
  EXPECT_NE(admin.find("totp-secret "), std::string::npos) << admin;  // admin: TOTP at once
  EXPECT_NE(cli("users add x --roles boss").find("unknown role"), std::string::npos);
  EXPECT_NE(cli("users roles lise.ops --roles ops,finance").find("exit=0"), std::string::npos);
  EXPECT_NE(cli("users list").find("lise.ops\troles=ops,finance"), std::string::npos);
  EXPECT_NE(cli("users disable lise.ops").find("exit=0"), std::string::npos);
  EXPECT_EQ(login_reply("lise.ops", password).status, 401);
  EXPECT_NE(cli("users enable lise.ops").find("exit=0"), std::string::npos);
  auto reset = cli("users reset-password lise.ops");
  EXPECT_NE(reset.find("exit=0"), std::string::npos) << reset;
  EXPECT_EQ(login_reply("lise.ops", password).status, 401);  // the old password is gone
}

}  // namespace
}  // namespace visitpay::testing
